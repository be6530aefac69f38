"""BPMN script tasks: assignments into process variables, one per line."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dsl import DslEvalError, DslSyntaxError, Script, compile_script
from tests.dsl.support import NOW, make_env


def run(text: str, variables: dict | None = None) -> dict:
    variables = {} if variables is None else variables
    compile_script(text).run(make_env(), variables, NOW)
    return variables


def test_an_assignment_sets_a_process_variable():
    assert run("total = deal.amount * 2") == {"total": Decimal("3000.00")}


def test_later_lines_see_earlier_assignments():
    assert run("a = 1\nb = a + 1\na = b * 10") == {"a": 20, "b": 2}


def test_blank_lines_comments_and_indentation_are_ignored():
    text = "# discount rules\n\n  rate = 0.1   # ten percent\n\n# done\n"
    assert run(text) == {"rate": Decimal("0.1")}


def test_windows_line_ends_work():
    assert run("a = 1\r\nb = 2\r\n") == {"a": 1, "b": 2}


def test_an_empty_script_does_nothing():
    assert run("") == {}
    assert run("# only a comment") == {}


def test_existing_variables_are_readable_and_replaceable():
    assert run("count = count + 1", {"count": 1, "other": "kept"}) == {"count": 2, "other": "kept"}


def test_variables_shadow_the_environment_when_reading():
    assert run("x = count", {"count": 100}) == {"count": 100, "x": 100}


def test_dotted_targets_set_keys_of_nested_dicts_creating_them():
    assert run("order.total = 5\norder.lines.count = 2") == {"order": {"total": 5, "lines": {"count": 2}}}


def test_dotted_targets_do_not_mutate_the_callers_nested_dicts_until_success():
    original = {"total": 1}
    variables = {"order": original}
    run("order.total = 2\norder.note = 'x'", variables)
    assert variables == {"order": {"total": 2, "note": "x"}}
    assert original == {"total": 1}


def test_a_failing_script_changes_nothing():
    variables = {"a": 1, "order": {"total": 1}}
    with pytest.raises(DslEvalError) as caught:
        run("a = 2\norder.total = 3\nb = 1 / 0", variables)
    assert variables == {"a": 1, "order": {"total": 1}}
    assert (caught.value.line, caught.value.column) == (3, 7)


def test_environment_names_that_are_not_variables_are_read_only():
    with pytest.raises(DslEvalError) as caught:
        run("x = 1\ndeal.amount = 5")
    assert caught.value.message == "cannot assign to 'deal.amount': 'deal' is not a process variable"
    assert (caught.value.line, caught.value.column) == (2, 1)
    with pytest.raises(DslEvalError, match="not a process variable"):
        run("event = 1")


def test_setting_a_field_inside_a_non_dict_is_an_error():
    with pytest.raises(DslEvalError, match="cannot set a field inside 'a', which is number"):
        run("a = 1\na.b = 2")


def test_script_properties():
    script = compile_script("total = deal.amount * 2\norder.label = 'x' + total")
    assert isinstance(script, Script)
    assert script.paths == {"deal.amount", "total"}
    assert script.targets == {"total", "order.label"}
    assert script is compile_script(script.text)


@pytest.mark.parametrize(
    ("text", "line", "column", "expected"),
    [
        ("a = 1\nb = ", 2, 5, ["an expression"]),
        ("a = 1\nb == 2", 2, 4, ["an expression"]),
        ("a = 1 2", 1, 7, ["an operator", "a new line", "the end of the text"]),
        ("a.b", 1, 4, ["'.'", "'='"]),
        ("1 = a", 1, 1, None),
        ("a = (1 +\n 2)", 1, 9, None),
        ("_a = 1", 1, 1, None),
    ],
)
def test_syntax_errors_have_line_and_column(text, line, column, expected):
    with pytest.raises(DslSyntaxError) as caught:
        compile_script(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    if expected is not None:
        assert caught.value.expected == expected


def test_keywords_cannot_be_targets():
    with pytest.raises(DslSyntaxError):
        compile_script("true = 1")
    with pytest.raises(DslSyntaxError):
        compile_script("a.in = 1")
