"""Hostile text: whatever an attacker writes in an expression, template or script, the answer
is a DslError or a plain DSL value — never a Python object, never a crash, never a blow-up.

The dsl's own tests cover single cases (test_evaluator "safety" and "limits", test_parser
nesting); here the same attacks go through every entry point, and hypothesis walks attribute
and key chains made of Python's internal names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import DslError, DslSyntaxError, compile_expression, compile_script, evaluate, limits, render
from tests.dsl.support import NOW, make_env

INTERNALS = ["__class__", "__globals__", "__mro__", "__subclasses__", "__dict__", "__init__", "__builtins__",
             "__import__", "__code__", "__closure__", "__func__", "__self__", "__module__", "__getattribute__",
             "_sa_instance_state", "_fields", "gi_frame", "f_back", "f_globals", "func_globals", "mro",
             "password", "dsl_get", "format", "upper", "title", "custom", "contact", "products"]
ROOTS = ["deal", "event", "now", "lower", "len", "today", "count", "nothing", "''", "[]", "1", "(deal)"]


def plain(value: object) -> bool:
    """A value the DSL itself can produce (records excepted, which only its own fields expose)."""
    if isinstance(value, list):
        return all(plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and plain(item) for key, item in value.items())
    return value is None or isinstance(value, bool | int | Decimal | str | dt.date | dt.datetime | dt.timedelta) \
        or type(value).__name__ == "FakeRecord"


def answers_safely(action, *args) -> object:
    try:
        result = action(*args)
    except DslError:
        return None
    assert plain(result), f"{args[0]!r} reached {type(result).__name__}: {result!r}"
    return result


@st.composite
def walks(draw: st.DrawFn) -> str:
    """`root` followed by attribute reads, key reads, indexes and calls on internal names."""
    text = draw(st.sampled_from(ROOTS))
    for _ in range(draw(st.integers(1, 6))):
        name = draw(st.sampled_from(INTERNALS))
        text += draw(st.sampled_from([f".{name}", f"['{name}']", f'["{name}"]', "()", "[0]", "[-1]",
                                      f"({name})", f".{name}()"]))
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(walks())
def test_walks_through_python_internals_end_in_a_dsl_error_or_a_plain_value(text):
    answers_safely(evaluate, text, make_env(), NOW)
    answers_safely(render, "{" + text + "}", make_env(), NOW)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(walks())
def test_scripts_cannot_store_or_assign_their_way_to_internals(text):
    variables = {"v": 1}
    try:
        compile_script(f"v = {text}\nw = v").run(make_env(), variables, NOW)
    except DslError:
        assert variables == {"v": 1}  # a failed script changes nothing
        return
    assert plain(variables["v"]) and plain(variables["w"])


@pytest.mark.parametrize("script", [
    "__builtins__ = 1", "deal.__class__ = 1", "_x = 1", "deal.title = 'x'", "count = 1", "x.__dict__ = 1",
])
def test_scripts_cannot_assign_to_internals_or_the_environment(script):
    variables: dict = {}
    with pytest.raises(DslError):
        compile_script(script).run(make_env(), variables, NOW)
    assert variables == {}


@pytest.mark.parametrize("text", [
    "2 ** 100000000", "9 ^ 9 ^ 9", "1e999999999", "pow(10, 100000000)",  # no power operator at all
    "'x' * 1000000000", "1000000000 * 'ab'", "[1] * 1000000000",  # no repetition either
    " * ".join(["99999999999"] * 12),  # products grow past the digit limit and stop there
    "1" * (limits.MAX_DIGITS + 1), "0." + "1" * (limits.MAX_DIGITS + 1),
])
def test_arithmetic_that_would_blow_up_is_an_error(text):
    with pytest.raises(DslError):
        evaluate(text, make_env(), NOW)


@pytest.mark.parametrize("text", [
    "(" * 5_000 + "1" + ")" * 5_000, "[" * 60 + "]" * 60, "-" * 60 + "1", "not " * 60 + "true",
    "len(" * 60 + "'x'" + ")" * 60, " + ".join(["1"] * 5_000), "deal" + ".title" * 2_000,
])
def test_deep_or_long_text_is_refused_when_compiled(text):
    with pytest.raises(DslSyntaxError):
        compile_expression(text)
    with pytest.raises(DslSyntaxError):
        render("{" + text + "}", make_env(), NOW)
    with pytest.raises(DslSyntaxError):
        compile_script("v = " + text)


def test_a_script_cannot_loop_its_way_past_the_text_limit():
    lines = ["s = 'xxxxxxxxxx'"] + ["s = s + s"] * 20
    with pytest.raises(DslError, match="longer than"):
        compile_script("\n".join(lines)).run(make_env(), {}, NOW)
