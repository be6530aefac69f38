"""String literals with {holes} are templates everywhere in the language."""

from __future__ import annotations

import pytest

from dsl import DslCallError, DslEvalError, DslSyntaxError, compile_expression, compile_script, limits, render
from dsl.formatter import format_expression
from dsl.nodes import Literal, TextTemplate
from tests.dsl.support import NOW, ev, make_env


def test_a_literal_with_holes_evaluates_to_the_rendered_text():
    assert ev('"Call {deal.contact.name} about the credit"') == "Call Anna about the credit"
    assert ev("'{deal.title}: {deal.amount * 2}'") == "Bike rental: 3000.00"


def test_holes_are_rendered_like_templates():
    assert ev('"[{nothing}] {deal.return_date} {deal.created_at} {2d 4h} {deal.tags}"') == (
        "[] 2026-01-10 2026-01-01T09:00:00Z 2d 4h vip, b2b"
    )


def test_a_literal_without_holes_is_plain_text():
    expression = compile_expression('"no holes here"')
    assert expression.node == Literal("no holes here")
    assert expression.paths == frozenset()


def test_doubled_braces_are_braces_and_alone_make_plain_text():
    assert compile_expression('"a {{b}}"').node == Literal("a {b}")
    assert ev('"{{literally}} {deal.title}"') == "{literally} Bike rental"


def test_paths_and_functions_include_the_holes():
    expression = compile_expression('deal.stage == "new" and "{deal.contact.name} {now()}" != ""')
    assert expression.paths == {"deal.stage", "deal.contact.name"}
    assert expression.functions == {"now"}


def test_holes_may_hold_strings_in_the_other_quotes_or_escaped():
    assert ev("\"Dear {coalesce(deal.source, 'friend')}\"") == "Dear friend"
    assert ev('"Dear {coalesce(deal.source, \\"friend\\")}"') == "Dear friend"
    assert ev("\"{'{{' + '}}'}\"") == "{}"


def test_a_template_literal_inside_a_hole_is_a_template_too():
    assert ev("\"<{'[{deal.title}]'}>\"") == "<[Bike rental]>"
    assert render("Hi {'x{count}'}", make_env(), NOW) == "Hi x3"


def test_template_literals_work_in_scripts():
    variables: dict = {}
    compile_script('title = "Order {count}"\nnote = title + "!"').run(make_env(), variables, NOW)
    assert variables == {"title": "Order 3", "note": "Order 3!"}


def test_a_syntax_error_in_a_hole_points_into_the_source():
    with pytest.raises(DslSyntaxError) as caught:
        compile_expression('x == "Hi {deal.}"')
    assert (caught.value.line, caught.value.column) == (1, 16)
    assert caught.value.expected == ["a name"]


def test_escapes_before_a_hole_keep_the_position_right():
    with pytest.raises(DslSyntaxError) as caught:
        compile_expression('"\\t\\u0041 {deal.}"')
    assert caught.value.column == 17


def test_an_unknown_function_in_a_hole_is_found_at_compile_time():
    with pytest.raises(DslCallError) as caught:
        compile_expression('\n  "Hi {shout(deal.title)}"')
    assert (caught.value.line, caught.value.column) == (2, 8)


def test_an_evaluation_error_in_a_hole_points_into_the_source():
    with pytest.raises(DslEvalError) as caught:
        ev('"Sum: {deal.title * 2}"')
    assert caught.value.message == "cannot multiply text by number"
    assert (caught.value.line, caught.value.column) == (1, 19)


@pytest.mark.parametrize(("text", "column"), [('"a { b"', 7), ('"a } b"', 4), ('"{}"', 3)])
def test_a_lone_brace_says_how_to_write_one(text, column):
    with pytest.raises(DslSyntaxError) as caught:
        compile_expression(text)
    assert "'{{'" in caught.value.message or "'}}'" in caught.value.message
    assert caught.value.column == column


def test_the_formatter_prints_template_literals_unchanged():
    assert format_expression("'Hi {  deal.title }'  +  x") == "'Hi {  deal.title }' + x"
    assert format_expression('"a {{b}}"') == '"a {{b}}"'
    assert format_expression("'{{'") == '"{{"'


def test_equality_ignores_how_the_literal_was_written():
    single = compile_expression("'Hi {deal.title}'").node
    double = compile_expression('"Hi {deal.title}"').node
    assert isinstance(single, TextTemplate)
    assert single == double


def test_nesting_of_template_literals_is_limited(monkeypatch):
    monkeypatch.setattr(limits, "MAX_TEMPLATE_NESTING", 1)
    assert ev("\"<{'x'}>\"") == "<x>"
    with pytest.raises(DslSyntaxError, match="nested"):
        compile_expression("\"<{'({count})'}>\"")


def test_rendered_literals_respect_the_text_limit():
    env = {"s": "x" * 60_000}
    with pytest.raises(DslEvalError, match="text longer than"):
        compile_expression('"{s}{s}"').evaluate(env, NOW)
