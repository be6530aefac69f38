"""Whatever the text and data, the dsl raises nothing but DslError subclasses."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import DslError, compile_expression, compile_script, compile_template, evaluate, render
from dsl.formatter import format_expression
from tests.dsl.strategies import expressions, token_soup
from tests.dsl.support import NOW, make_env

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ANY_TEXT = st.one_of(st.text(max_size=200), token_soup(), expressions())


def only_dsl_errors(action, *args) -> None:
    """Run `action`; a DslError is an answer, anything else fails the test."""
    with contextlib.suppress(DslError):
        action(*args)


@FUZZ
@given(ANY_TEXT)
def test_compile_expression_raises_only_dsl_errors(text):
    only_dsl_errors(compile_expression, text)


@FUZZ
@given(ANY_TEXT)
def test_evaluate_raises_only_dsl_errors(text):
    only_dsl_errors(evaluate, text, make_env(), NOW)


@FUZZ
@given(st.one_of(st.text(max_size=200), token_soup(), expressions().map(lambda e: "Hi {" + e + "}!")))
def test_templates_raise_only_dsl_errors(text):
    only_dsl_errors(render, text, make_env(), NOW)
    only_dsl_errors(compile_template, text)


@FUZZ
@given(
    st.one_of(
        st.text(max_size=200),
        token_soup(),
        st.lists(expressions().map(lambda e: "v = " + e), max_size=4).map("\n".join),
    )
)
def test_scripts_raise_only_dsl_errors(text):
    def run() -> None:
        compile_script(text).run(make_env(), {"v": 1}, NOW)

    only_dsl_errors(run)


@FUZZ
@given(expressions())
def test_formatting_round_trips_to_the_same_tree(text):
    try:
        original = compile_expression(text)
    except DslError:
        return
    formatted = format_expression(original)
    again = compile_expression(formatted)
    assert again.node == original.node, formatted
    assert format_expression(again) == formatted
