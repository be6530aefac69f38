"""Parsing: literals, precedence, what compile_expression returns, syntax errors and limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from dsl import (
    DslCallError,
    DslError,
    DslEvalError,
    DslSyntaxError,
    Expression,
    compile_expression,
    limits,
)
from dsl import nodes as n
from tests.dsl.support import ev


def literal(text: str):
    return compile_expression(text).evaluate({})


def syntax_error(text: str) -> DslSyntaxError:
    with pytest.raises(DslSyntaxError) as caught:
        compile_expression(text)
    return caught.value


# --- literals ------------------------------------------------------------------------------


def test_integers_are_ints():
    assert literal("42") == 42
    assert type(literal("42")) is int


def test_decimals_are_decimal_keeping_their_digits():
    assert literal("1.50") == Decimal("1.50")
    assert str(literal("1.50")) == "1.50"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"hello"', "hello"),
        ("'hello'", "hello"),
        ('"it\'s"', "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        (r'"a\"b"', 'a"b'),
        (r"'a\'b'", "a'b"),
        (r'"line\nbreak\ttab\\slash"', "line\nbreak\ttab\\slash"),
        (r'"\u00e9t\u00e9"', "été"),
        ('"Привет"', "Привет"),
        ('""', ""),
    ],
)
def test_strings_in_either_quote_with_escapes(text, value):
    assert literal(text) == value


def test_unknown_escape_is_a_syntax_error():
    error = syntax_error(r'"a\qb"')
    assert "unknown escape" in error.message
    assert (error.line, error.column) == (1, 1)


def test_booleans_and_null():
    assert literal("true") is True
    assert literal("false") is False
    assert literal("null") is None


def test_lists_nest_and_allow_a_trailing_comma():
    assert literal("[1, 2, 'a']") == [1, 2, "a"]
    assert literal("[]") == []
    assert literal("[[1], [2, 3],]") == [[1], [2, 3]]


def test_dates_are_dates():
    assert literal("2026-01-05") == date(2026, 1, 5)
    assert type(literal("2026-01-05")) is date


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026-01-05T10:30", datetime(2026, 1, 5, 10, 30, tzinfo=UTC)),
        ("2026-01-05T10:30:15", datetime(2026, 1, 5, 10, 30, 15, tzinfo=UTC)),
        ("2026-01-05T10:30:00Z", datetime(2026, 1, 5, 10, 30, tzinfo=UTC)),
        ("2026-01-05T10:30:00+03:00", datetime(2026, 1, 5, 7, 30, tzinfo=UTC)),
        ("2026-01-05T10:30:00.250Z", datetime(2026, 1, 5, 10, 30, 0, 250000, tzinfo=UTC)),
    ],
)
def test_datetimes_are_always_utc_aware(text, value):
    result = literal(text)
    assert result == value
    assert result.tzinfo is UTC


def test_invalid_calendar_dates_are_syntax_errors_at_the_literal():
    error = syntax_error("x == 2026-02-30")
    assert "not valid" in error.message
    assert error.column == 6


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("45s", timedelta(seconds=45)),
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("2d 4h", timedelta(days=2, hours=4)),
        ("2d4h", timedelta(days=2, hours=4)),
        ("1h 30m 15s", timedelta(hours=1, minutes=30, seconds=15)),
    ],
)
def test_durations_are_timedeltas(text, value):
    assert literal(text) == value


def test_a_number_directly_followed_by_a_word_is_not_a_duration():
    assert "name 'days'" in syntax_error("2days").message


# --- structure and precedence ----------------------------------------------------------------


def tree(text: str) -> n.Node:
    return compile_expression(text).node


def test_multiplication_binds_tighter_than_addition():
    assert ev("1 + 2 * 3") == 7
    assert ev("(1 + 2) * 3") == 9


def test_operators_of_one_level_apply_left_to_right():
    assert ev("10 - 3 - 2") == 5
    assert ev("10 - (3 - 2)") == 9
    assert ev("24 / 4 / 2") == 3


def test_comparison_binds_tighter_than_not_which_binds_tighter_than_and_then_or():
    assert tree("not a == b") == n.Not(n.Compare("==", n.Name("a"), n.Name("b")))
    assert tree("a or b and c") == n.Logical("or", (n.Name("a"), n.Logical("and", (n.Name("b"), n.Name("c")))))


def test_unary_minus_binds_tighter_than_multiplication_but_looser_than_paths():
    assert tree("-a * b") == n.Arithmetic((n.Neg(n.Name("a")), n.Name("b")), ("*",), ((1, 4),))
    assert tree("-a.b") == n.Neg(n.Attr(n.Name("a"), "b"))


def test_parentheses_around_a_left_operand_of_the_same_level_do_not_change_the_tree():
    assert tree("(a - b) + c") == tree("a - b + c")
    assert tree("(a and b) and c") == tree("a and b and c")
    assert tree("a - (b + c)") != tree("a - b + c")


def test_comparisons_do_not_chain():
    assert syntax_error("1 < 2 < 3").column == 7


def test_keywords_are_not_names_but_may_start_names():
    syntax_error("and == 1")
    assert ev("android", {"android": 5}) == 5
    assert ev("nullable", {"nullable": 1}) == 1
    assert ev("island", {"island": 2}) == 2


def test_names_may_use_unicode_letters():
    assert ev("сделка.сумма", {"сделка": {"сумма": 10}}) == 10


def test_whitespace_and_line_breaks_are_free_inside_expressions():
    assert ev("1 +\n  2\t* 3") == 7


# --- the Expression object -------------------------------------------------------------------


def test_compile_returns_an_expression_with_its_text():
    expression = compile_expression("deal.amount > 1000")
    assert isinstance(expression, Expression)
    assert expression.text == "deal.amount > 1000"


def test_compile_is_cached_by_text():
    assert compile_expression("count + 1") is compile_expression("count + 1")


def test_paths_are_the_dotted_fields_read():
    expression = compile_expression("deal.amount > 1000 and deal.stage == 'new'")
    assert expression.paths == {"deal.amount", "deal.stage"}


def test_paths_drop_indexes_and_include_index_expressions():
    expression = compile_expression("deal.products[count - 1].name")
    assert expression.paths == {"deal.products.name", "count"}


def test_paths_include_bare_names_and_paths_inside_calls():
    expression = compile_expression("approved or len(lower(deal.contact.email)) > 0")
    assert expression.paths == {"approved", "deal.contact.email"}


def test_paths_of_a_field_of_a_computed_value_are_not_paths():
    assert compile_expression("coalesce(a, b).c").paths == {"a", "b"}


def test_functions_lists_the_functions_called():
    assert compile_expression("now() - deal.created_at > 2d").functions == {"now"}


# --- syntax errors ----------------------------------------------------------------------------


def test_missing_operand_at_the_end():
    error = syntax_error("deal.amount >")
    assert error.message == "unexpected end of the text; expected an expression"
    assert (error.line, error.column) == (1, 14)
    assert error.expected == ["an expression"]


def test_unclosed_parenthesis_expects_an_operator_or_a_closing_parenthesis():
    error = syntax_error("(1 + 2")
    assert error.expected == ["an operator", "')'"]
    assert "expected an operator or ')'" in error.message


def test_two_operands_in_a_row():
    error = syntax_error("deal.amount 1000")
    assert error.message.startswith("unexpected value 1000; expected an operator")
    assert error.column == 13


def test_doubled_operator():
    error = syntax_error("1 +* 2")
    assert error.message == "unexpected '*'; expected an expression"
    assert error.column == 4


def test_after_is_only_not_or_null_may_follow():
    assert syntax_error("a is 1").message == "unexpected value 1; expected 'not' or 'null'"
    assert syntax_error("a is not 1").expected == ["'null'"]


def test_after_a_not_that_follows_an_operand_only_in_may_follow():
    assert syntax_error("a not b").message == "unexpected name 'b'; expected 'in'"


def test_a_single_equals_sign_is_not_an_operator():
    error = syntax_error("x = 1")
    assert error.message == "unexpected character '='; expected an operator, '(' or the end of the text"


def test_unterminated_string():
    error = syntax_error("x == 'abc")
    assert "missing its closing quote" in error.message
    assert error.column == 6


def test_unexpected_character():
    error = syntax_error("a $ b")
    assert error.message.startswith("unexpected character '$'")
    assert error.column == 3


def test_error_positions_count_lines_and_columns_from_one():
    error = syntax_error("a and\n  b and\n    or c")
    assert (error.line, error.column) == (3, 5)


def test_empty_text_expects_an_expression():
    error = syntax_error("")
    assert error.expected[0] == "an expression"
    assert (error.line, error.column) == (1, 1)


def test_unknown_function_is_found_at_compile_time():
    with pytest.raises(DslCallError) as caught:
        compile_expression("1 + foo(1)")
    error = caught.value
    assert error.message == "unknown function 'foo'"
    assert (error.line, error.column) == (1, 5)
    assert isinstance(error, DslSyntaxError) and isinstance(error, DslEvalError)


def test_wrong_number_of_arguments_is_found_at_compile_time():
    with pytest.raises(DslCallError, match=r"len\(\) takes 1 argument"):
        compile_expression("len(a, b)")
    with pytest.raises(DslCallError, match="at least 1"):
        compile_expression("coalesce()")


def test_calling_something_that_is_not_a_name_is_a_syntax_error():
    syntax_error("deal.title()")
    syntax_error("(lower)(x)")


def test_errors_serialise_for_the_api():
    body = syntax_error("1 +").to_dict()
    assert body == {
        "kind": "syntax",
        "message": "unexpected end of the text; expected an expression",
        "line": 1,
        "column": 4,
        "expected": ["an expression"],
    }


def test_error_str_shows_the_position():
    assert str(syntax_error("1 +")).endswith("(line 1, column 4)")


def test_non_text_input_is_a_syntax_error():
    with pytest.raises(DslSyntaxError):
        compile_expression(42)  # type: ignore[arg-type]


# --- limits -----------------------------------------------------------------------------------


def test_source_longer_than_the_limit_is_rejected():
    text = "1 + " * (limits.MAX_SOURCE_LENGTH // 4) + "1"
    assert "longer than" in syntax_error(text).message


def test_nesting_up_to_the_limit_is_fine_and_deeper_is_rejected():
    assert ev("(" * 45 + "1" + ")" * 45) == 1
    error = syntax_error("(" * 60 + "1" + ")" * 60)
    assert "nested deeper than 50" in error.message
    assert error.line == 1


def test_long_flat_chains_are_not_deep():
    assert ev(" + ".join(["1"] * 2000)) == 2000
    assert ev(" and ".join(["true"] * 1000)) is True


def test_deep_unary_chains_are_rejected_not_recursed():
    with pytest.raises(DslSyntaxError, match="nested deeper"):
        compile_expression("-" * 5000 + "1")
    with pytest.raises(DslSyntaxError, match="nested deeper"):
        compile_expression("not " * 2000 + "true")


def test_numbers_with_more_than_100_digits_are_rejected():
    assert ev("9" * 100) == int("9" * 100)
    with pytest.raises(DslSyntaxError, match="more than 100 digits"):
        compile_expression("9" * 101)
    with pytest.raises(DslSyntaxError, match="more than 100 digits"):
        compile_expression("0." + "1" * 101)


def test_there_is_no_power_operator():
    syntax_error("10 ** 10")


def test_every_error_is_a_dsl_error():
    for text in ["1 +", "foo()", "x == 2026-13-01", "(" * 100]:
        with pytest.raises(DslError):
            compile_expression(text)


def test_errors_survive_pickling_with_their_position():
    import pickle

    error = pickle.loads(pickle.dumps(syntax_error("1 +")))
    assert isinstance(error, DslSyntaxError)
    assert (error.message, error.line, error.column, error.expected) == (
        "unexpected end of the text; expected an expression",
        1,
        4,
        ["an expression"],
    )
