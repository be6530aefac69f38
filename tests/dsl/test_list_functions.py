"""Aggregates, quantifiers and filters over lists, with an `item -> expression` argument."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from dsl import DslCallError, DslEvalError, DslSyntaxError, compile_expression, compile_script, evaluate, limits, render
from tests.dsl.support import NOW, make_env

PRODUCTS = [
    {"name": "Bike", "price": Decimal("120.00"), "qty": 2, "in_stock": True},
    {"name": "Helmet", "price": 15.5, "qty": 4, "in_stock": False},
    {"name": "Lock", "price": 9, "qty": 1, "in_stock": False},
]


def run(text: str, **env):
    return evaluate(text, {"deal": {"products": PRODUCTS}, **env}, NOW)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("sum(deal.products, p -> p.price * p.qty)", Decimal("311.00")),
        ("sum([1, 2, 3])", 6),
        ("sum([1, null, 2])", 3),
        ("sum([])", 0),
        ("sum(deal.nothing, p -> p.qty)", 0),
        ("sum([1d, 12h])", timedelta(days=1, hours=12)),
        ("count(deal.products)", 3),
        ("count([1, null, 2])", 2),
        ("count(deal.products, p -> not p.in_stock)", 2),
        ("count(deal.nothing)", 0),
        ("any(deal.products, p -> p.qty > 3)", True),
        ("any(deal.products, p -> p.qty > 4)", False),
        ("all(deal.products, p -> p.qty >= 1)", True),
        ("all(deal.products, p -> p.in_stock)", False),
        ("all([], p -> p)", True),
        ("any([false, 0, 1])", True),
        ("all([true, 1, 'x'])", True),
        ("map(filter(deal.products, p -> not p.in_stock), p -> p.name)", ["Helmet", "Lock"]),
        ("len(filter(deal.products, p -> p.price > 10))", 2),
        ("map(deal.products, p -> 'x{p.qty}')", ["x2", "x4", "x1"]),
        ("max(deal.products, p -> p.price)", Decimal("120.00")),
        ("min(deal.products, p -> p.price)", 9),
        ("min(deal.nothing, p -> p.price)", None),
        ("max(1, 5, 3)", 5),
        # Nested: the inner item and the outer one are both in reach.
        ("count(deal.products, p -> any([2, 4], q -> q == p.qty))", 2),
        ("sum(map([1, 2], x -> sum([10, 20], y -> x * y)))", 90),
    ],
)
def test_list_functions(text, value):
    assert run(text) == value


def test_an_item_name_shadows_a_name_of_the_environment_only_inside_its_body():
    assert run("sum(deal.products, deal -> deal.qty) + len(deal.products)") == 10


def test_the_item_name_is_not_a_path_the_expression_reads():
    expression = compile_expression("sum(deal.products, p -> p.price * p.qty) > deal.amount")
    assert expression.paths == {"deal.products", "deal.amount"}


def test_a_name_inside_the_body_that_is_not_the_item_is_read_from_the_environment():
    assert run("count(deal.products, p -> p.qty > limit)", limit=1) == 2
    assert compile_expression("count(deal.products, p -> p.qty > limit)").paths == {"deal.products", "limit"}


def test_items_read_from_data_are_normalised_like_any_other_value():
    assert run("map(deal.products, p -> p.price)") == [Decimal("120.00"), Decimal("15.5"), 9]


def test_records_are_lists_of_the_environment_too():
    assert evaluate("sum(deal.products, p -> p.qty)", make_env(), NOW) == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sum(deal.title, p -> p)", "sum() needs a list, not text"),
        ("sum(['a', 'b'])", "sum() adds numbers or durations, not text"),
        ("sum([1, 1d])", "cannot add number and duration"),
        ("filter(5, p -> p)", "filter() needs a list, not number"),
    ],
)
def test_wrong_data_is_an_error_at_the_call(text, message):
    with pytest.raises(DslEvalError) as raised:
        evaluate(text, {"deal": {"title": "Bike"}}, NOW)
    assert raised.value.message == message
    assert (raised.value.line, raised.value.column) == (1, 1)


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("len(deal.products, p -> 1)", "len() takes 1 argument(s), not 2", 1),
        ("len(p -> 1)", "len() takes no 'item -> expression' argument", 5),
        ("sum(p -> 1, deal.products)", "comes second, after the list", 5),
        ("min(1, p -> 2, 3)", "comes second, after the list", 8),
        ("filter(deal.products, true)", "filter() needs an 'item -> expression' argument after the list", 23),
        ("map(deal.products)", "map() takes 2 argument(s), not 1", 1),
        ("sum()", "sum() takes 1 to 2 argument(s), not 0", 1),
    ],
)
def test_misused_item_functions_are_refused_when_compiled(text, message, column):
    with pytest.raises(DslCallError) as raised:
        compile_expression(text)
    assert message in raised.value.message
    assert (raised.value.line, raised.value.column) == (1, column)


@pytest.mark.parametrize(
    ("text", "column"),
    [("p -> p.qty", 3), ("[p -> 1]", 4), ("1 + (p -> 2)", 8), ("sum(deal.products, (p -> 1))", 23)],
)
def test_an_arrow_outside_a_list_function_argument_is_a_syntax_error_saying_where_it_belongs(text, column):
    with pytest.raises(DslSyntaxError) as raised:
        compile_expression(text)
    assert "'->' names the item of a list function's argument" in raised.value.message
    assert (raised.value.line, raised.value.column) == (1, column)


def test_an_error_in_the_body_points_into_the_body():
    with pytest.raises(DslEvalError) as raised:
        evaluate("sum(deal.products,\n  p -> p.name * 2)", {"deal": {"products": PRODUCTS}}, NOW)
    assert (raised.value.line, raised.value.column) == (2, 15)


def test_the_step_limit_counts_inside_the_body(monkeypatch):
    monkeypatch.setattr(limits, "MAX_STEPS", 50)
    with pytest.raises(DslEvalError, match="more than 50 steps"):
        evaluate("count(items, x -> x > 0)", {"items": list(range(100))}, NOW)
    with pytest.raises(DslEvalError, match="more than 50 steps"):
        evaluate("count(items, x -> any(items, y -> y == x))", {"items": list(range(10))}, NOW)


def test_a_long_list_runs_into_the_step_limit_not_the_clock():
    with pytest.raises(DslEvalError, match="steps"):
        evaluate("sum(items, x -> x * 2)", {"items": list(range(limits.MAX_STEPS))}, NOW)


def test_filter_and_map_keep_to_the_list_and_text_limits(monkeypatch):
    monkeypatch.setattr(limits, "MAX_TEXT_LENGTH", 20)
    with pytest.raises(DslEvalError, match="text longer than 20"):
        evaluate("map(items, x -> x + x)", {"items": ["a" * 15]}, NOW)


def test_templates_and_scripts_use_them_too():
    env = {"deal": {"products": PRODUCTS, "vip": False}}
    text = "Total {sum(deal.products, p -> p.qty)} ({if deal.vip then 'VIP' else 'plain'})"
    assert render(text, env, NOW) == "Total 7 (plain)"
    variables: dict = {}
    script = compile_script(
        "total = count(deal.products, p -> p.in_stock)\nlabel = if total > 0 then 'some' else 'none'"
    )
    script.run(env, variables, NOW)
    assert variables == {"total": 1, "label": "some"}
    assert script.paths == {"deal.products", "total"}


def test_an_error_in_a_template_hole_body_points_at_its_place_in_the_source():
    with pytest.raises(DslEvalError) as raised:
        render("x {sum(deal.products, p -> p.name * 2)}", {"deal": {"products": PRODUCTS}}, NOW)
    assert (raised.value.line, raised.value.column) == (1, 35)


def test_something_callable_in_the_data_is_a_value_not_an_item_expression():
    assert evaluate("max(a, b)", {"a": 3, "b": 2}, NOW) == 3
    with pytest.raises(DslEvalError):
        evaluate("max(items, f)", {"items": [1, 2], "f": len}, NOW)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("len(x y)", "unexpected name 'y'; expected an operator, ',', '(' or ')'"),
        ("sum(xs, p ->)", "unexpected ')'; expected an expression"),
    ],
)
def test_syntax_errors_around_item_expressions_say_what_was_expected(text, message):
    with pytest.raises(DslSyntaxError) as raised:
        compile_expression(text)
    assert raised.value.message == message
