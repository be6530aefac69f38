"""`if condition then a else b`: an expression whose value is one of two, chosen by a condition."""

from __future__ import annotations

import pytest

from dsl import DslEvalError, DslSyntaxError, compile_expression, evaluate
from dsl.formatter import format_expression
from dsl.parser import parse
from tests.dsl.support import NOW


@pytest.mark.parametrize(
    ("text", "env", "value"),
    [
        ("if deal.vip then 'VIP' else 'plain'", {"deal": {"vip": True}}, "VIP"),
        ("if deal.vip then 'VIP' else 'plain'", {"deal": {}}, "plain"),
        ("if a > 10 then 'big' else if a > 5 then 'mid' else 'small'", {"a": 7}, "mid"),
        ("(if a then 2 else 3) * 10", {"a": False}, 30),
        ("if a then 1 else 2 + 3", {"a": False}, 5),  # the else branch reaches to the end
        ("sum(xs, x -> if x > 1 then x else 0)", {"xs": [1, 2, 3]}, 5),
    ],
)
def test_the_condition_chooses_the_branch(text, env, value):
    assert evaluate(text, env, NOW) == value


def test_only_the_chosen_branch_is_evaluated():
    assert evaluate("if true then 1 else 1 / 0", {}, NOW) == 1
    with pytest.raises(DslEvalError, match="division by zero"):
        evaluate("if false then 1 else 1 / 0", {}, NOW)


def test_both_branches_count_as_paths_read():
    assert compile_expression("if deal.vip then deal.amount else 0").paths == {"deal.vip", "deal.amount"}


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("if a then 1", "unexpected end of the text; expected an operator or 'else'", 12),
        ("if (a) 1 else 2", "unexpected value 1; expected an operator or 'then'", 8),
        ("1 + if a then 1 else 2", "an 'if ... then ... else ...' inside an operation needs parentheses", 5),
        ("x == if a then 1 else 2", "an 'if ... then ... else ...' inside", 6),
    ],
)
def test_a_missing_part_is_a_syntax_error_with_its_position(text, message, column):
    with pytest.raises(DslSyntaxError) as raised:
        compile_expression(text)
    assert raised.value.message.startswith(message), raised.value.message
    assert (raised.value.line, raised.value.column) == (1, column)


@pytest.mark.parametrize("text", ["deal.then", "deal.else", "deal.if", "x == then", "[else]"])
def test_then_and_else_are_still_names_where_no_keyword_can_stand(text):
    compile_expression(text)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("if a then 1 else 2", "if a then 1 else 2"),
        ("(if a then 1 else 2) + 1", "(if a then 1 else 2) + 1"),
        ("if (if a then b else c) then 1 else 2", "if (if a then b else c) then 1 else 2"),
        ("not (if a then b else c)", "not (if a then b else c)"),
        ("(if a then b else c).x", "(if a then b else c).x"),
        ("[ if a then 1 else 2 ]", "[if a then 1 else 2]"),
        ("sum( deal.products,p->p.price*p.qty )", "sum(deal.products, p -> p.price * p.qty)"),
        ("map(xs,p->if p then(1)else 2)", "map(xs, p -> if p then 1 else 2)"),
        ("count(xs, p -> any(p.tags, t -> t == 'a'))", 'count(xs, p -> any(p.tags, t -> t == "a"))'),
    ],
)
def test_the_formatter_prints_one_canonical_form(text, canonical):
    assert format_expression(text) == canonical
    assert compile_expression(canonical).node == compile_expression(text).node


def test_robot_conditions_keep_their_if_and_may_hold_an_if_expression():
    text = (
        "pipeline x\n\nstage a:\n"
        "  robot after 2d if deal.x == 1:\n"
        '    notify(text: if deal.y then "a" else "b")\n'
        "  then if deal.then:\n"
        '    notify(text: "x")\n'
    )
    parse("automation", text)


def test_a_python_style_choice_is_answered_with_the_dsl_form():
    with pytest.raises(DslSyntaxError) as raised:
        compile_expression("1 if a else 2")
    assert raised.value.message == "a choice is written 'if <condition> then <a> else <b>'"
    assert (raised.value.line, raised.value.column) == (1, 3)
