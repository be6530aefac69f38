"""String templates: literal text with {expression} holes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from dsl import DslEvalError, DslSyntaxError, Template, compile_template, limits, render
from tests.dsl.support import NOW, make_env


def show(text: str, env: dict | None = None) -> str:
    return render(text, make_env() if env is None else env, NOW)


def test_holes_are_replaced_by_their_values():
    assert show("Call {deal.contact.name} about {deal.title}") == "Call Anna about Bike rental"


def test_holes_hold_any_expression():
    assert show("Total: {deal.amount * 2 + 1}") == "Total: 3001.00"
    assert show("{coalesce(deal.source, 'direct')}/{upper(deal.stage)}") == "direct/NEW"
    assert show("{deal.amount > 1000 and 'big' in ['big']}") == "true"


def test_text_without_holes_renders_to_itself_keeping_whitespace():
    template = compile_template("  two  spaces\n and a line ")
    assert template.is_constant
    assert template.render({}, NOW) == "  two  spaces\n and a line "


def test_doubled_braces_are_literal_braces():
    assert show("{{deal.title}} is {deal.title}") == "{deal.title} is Bike rental"
    assert show("a }} b {{") == "a } b {"


def test_strings_inside_holes_may_contain_doubled_braces():
    assert show("{'{{' + '}}'}") == "{}"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ""),
        (True, "true"),
        (12, "12"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.000001"), "0.000001"),
        (1.5, "1.5"),
        (datetime(2026, 1, 5, 10, 30, tzinfo=UTC), "2026-01-05T10:30:00Z"),
        (datetime(2026, 1, 5).date(), "2026-01-05"),
        (["a", 1, None], "a, 1, "),
        ({"k": 1}, "k: 1"),
    ],
)
def test_values_are_shown_readably(value, shown):
    assert render("{v}", {"v": value}, NOW) == shown


def test_durations_are_shown_in_dsl_form():
    assert show("{2d 4h}") == "2d 4h"
    assert show("{90m}") == "1h 30m"
    assert show("{-1d}") == "-1d"


def test_records_are_shown_by_their_name_or_title_else_their_type():
    assert show("{deal.responsible}, {deal}") == "Ivan, Bike rental"


def test_paths_of_all_holes():
    template = compile_template("Deliver {deal.title} to {deal.delivery_address} by {now() + 1d}")
    assert template.paths == {"deal.title", "deal.delivery_address"}


def test_compile_template_is_cached_and_returns_a_template():
    template = compile_template("Hi {name}")
    assert isinstance(template, Template)
    assert template is compile_template("Hi {name}")
    assert template.text == "Hi {name}"


def test_syntax_errors_point_into_the_template():
    with pytest.raises(DslSyntaxError) as caught:
        compile_template("Line one\nDear {deal.contact.}")
    assert (caught.value.line, caught.value.column) == (2, 20)
    assert caught.value.expected == ["a name"]


def test_an_unclosed_hole_expects_an_operator_or_a_closing_brace():
    with pytest.raises(DslSyntaxError) as caught:
        compile_template("Hi {name")
    assert caught.value.expected == ["an operator", "'('", "'}'"]


def test_an_empty_hole_is_an_error():
    with pytest.raises(DslSyntaxError, match="expected an expression"):
        compile_template("Hi {}")


def test_a_lone_closing_brace_must_be_doubled():
    with pytest.raises(DslSyntaxError) as caught:
        compile_template("a } b")
    assert caught.value.message.startswith("a single '}' must be written as '}}'")
    assert caught.value.column == 3


def test_evaluation_errors_point_into_the_template():
    with pytest.raises(DslEvalError) as caught:
        show("Sum:\n  {deal.title * 2}")
    assert caught.value.message == "cannot multiply text by number"
    assert (caught.value.line, caught.value.column) == (2, 15)


def test_rendered_text_longer_than_the_limit_is_an_error():
    env = {"s": "x" * 40_000}
    assert len(render("{s}{s}", env, NOW)) == 80_000
    with pytest.raises(DslEvalError, match="text longer than"):
        render("{s}{s}{s}", env, NOW)


def test_the_step_budget_covers_all_holes_together(monkeypatch):
    monkeypatch.setattr(limits, "MAX_STEPS", 5)
    assert render("{1}{2}{3}", {}, NOW) == "123"
    with pytest.raises(DslEvalError, match="steps"):
        render("{1}{2}{3}{4}{5}{6}", {}, NOW)
