"""The formatter prints expressions in one canonical form that parses back to the same tree."""

from __future__ import annotations

import pytest

from dsl import DslSyntaxError, compile_expression
from dsl.formatter import format_expression


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("deal.amount>1000   and deal.stage=='new'", 'deal.amount > 1000 and deal.stage == "new"'),
        ("a+b*c", "a + b * c"),
        ("(a+b)*c", "(a + b) * c"),
        ("((a))", "a"),
        ("a-(b-c)", "a - (b - c)"),
        ("(a-b)-c", "a - b - c"),
        ("a/(b*c)", "a / (b * c)"),
        ("(a or b) and c", "(a or b) and c"),
        ("a or (b and c)", "a or b and c"),
        ("a and (b and c)", "a and (b and c)"),
        ("not (a and b)", "not (a and b)"),
        ("not (a == b)", "not a == b"),
        ("(not a) == b", "(not a) == b"),
        ("(a == b) == c", "(a == b) == c"),
        ("-(a*b)", "-(a * b)"),
        ("(-a)*b", "-a * b"),
        ("- -a", "--a"),
        ("(-a).b", "(-a).b"),
        ("-(a.b)", "-a.b"),
        ("(a + b).c[0]", "(a + b).c[0]"),
        ("x [ 1 ] . y", "x[1].y"),
        ("f_x", "f_x"),
        ("lower( trim(x) )", "lower(trim(x))"),
        ("coalesce(a,b , 'c')", 'coalesce(a, b, "c")'),
        ("[1,2,]", "[1, 2]"),
        ("'it\\'s'", '"it\'s"'),
        ('"tab\\there\\nline \\u0001"', '"tab\\there\\nline \\u0001"'),
        ("x not in [ 'a' ]", 'x not in ["a"]'),
        ("x is not null", "x is not null"),
        ("(a + b) is null", "a + b is null"),
        ("(a and b) is null", "(a and b) is null"),
        ("1.50", "1.50"),
        ("2026-01-05", "2026-01-05"),
        ("2026-01-05T10:30", "2026-01-05T10:30:00Z"),
        ("2026-01-05T10:30+03:00", "2026-01-05T07:30:00Z"),
        ("2d4h", "2d 4h"),
        ("36h", "1d 12h"),
        ("9d", "1w 2d"),
        ("true or false or null", "true or false or null"),
    ],
)
def test_canonical_form(text, canonical):
    assert format_expression(text) == canonical
    assert compile_expression(canonical).node == compile_expression(text).node


def test_accepts_a_compiled_expression_or_a_node():
    expression = compile_expression("a+1")
    assert format_expression(expression) == "a + 1"
    assert format_expression(expression.node) == "a + 1"


def test_invalid_text_is_a_syntax_error():
    with pytest.raises(DslSyntaxError):
        format_expression("a +")
