"""Start parameters: declared on the process, checked and typed before anything is written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from dsl import DslError, parse_duration
from engine.timers import to_datetime


def _number(value: Any) -> Decimal | int:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    if isinstance(value, int | Decimal):
        return value
    try:
        number = Decimal(str(value))
    except InvalidOperation as err:
        raise ValueError("expected a number") from err
    if not number.is_finite():
        raise ValueError("expected a finite number")
    return int(number) if number == number.to_integral_value() and "." not in str(value) else number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ValueError("expected true or false")


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError as err:
            raise ValueError("expected a date like 2026-01-31") from err
    raise ValueError("expected a date like 2026-01-31")


def _datetime(value: Any) -> datetime:
    try:
        return to_datetime(value)
    except (ValueError, TypeError) as err:
        raise ValueError("expected a date and time like 2026-01-31T10:00:00Z") from err


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    try:
        return parse_duration(str(value))
    except DslError as err:
        raise ValueError("expected a duration like 2d 4h or PT2H") from err


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text")
    return value


COERCE = {
    "string": _string,
    "number": _number,
    "money": lambda v: Decimal(str(_number(v))),
    "date": _date,
    "datetime": _datetime,
    "bool": _bool,
    "duration": _duration,
}


def coerce_parameters(
    declared: Sequence[Mapping[str, Any]], given: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values for the declared parameters, and every problem found (name -> reason)."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    names = {p["name"] for p in declared}
    for unknown in sorted(set(given) - names):
        problems[unknown] = "not a parameter of this process"
    for param in declared:
        name = param["name"]
        raw = given.get(name)
        if raw is None or raw == "":
            if param.get("required", True):
                problems[name] = "required"
            continue
        try:
            values[name] = COERCE[param.get("type", "string")](raw)
        except ValueError as err:
            problems[name] = str(err)
    return values, problems
