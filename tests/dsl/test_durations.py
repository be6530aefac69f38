"""parse_duration reads the DSL form and ISO 8601; anything else is a syntax error."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dsl import DslSyntaxError, parse_duration


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2d 4h", timedelta(days=2, hours=4)),
        ("2d4h", timedelta(days=2, hours=4)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("1w", timedelta(weeks=1)),
        (" 1h  30m ", timedelta(hours=1, minutes=30)),
        ("PT2H", timedelta(hours=2)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1DT30M", timedelta(days=1, minutes=30)),
        ("P2W", timedelta(weeks=2)),
        ("P3D", timedelta(days=3)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("-PT1H", timedelta(hours=-1)),
    ],
)
def test_durations_parse(text, value):
    assert parse_duration(text) == value


@pytest.mark.parametrize("text", ["", "2", "2 days", "P", "PT", "P1M", "P1Y", "2x", "PT1H2", "1h-", "d2"])
def test_anything_else_is_a_syntax_error(text):
    with pytest.raises(DslSyntaxError):
        parse_duration(text)


def test_years_and_months_are_refused_because_their_length_varies():
    with pytest.raises(DslSyntaxError, match="not a duration"):
        parse_duration("P1Y2M")


def test_absurdly_long_durations_are_syntax_errors():
    with pytest.raises(DslSyntaxError):
        parse_duration("9" * 90 + "w")
    with pytest.raises(DslSyntaxError):
        parse_duration(None)  # type: ignore[arg-type]
