"""The fixed whitelist of functions an expression may call.

All are pure except now() and today(), which read the clock handed to evaluate(); none
reaches the network, the database or Python objects. A call to anything else is refused
when the text is compiled.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from dsl import values
from dsl.durations import parse_duration
from dsl.errors import DslEvalError, DslSyntaxError
from dsl.values import check_number, is_number, type_name


@dataclass(frozen=True)
class Function:
    name: str
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number
    needs_clock: bool = False
    # Whether the second argument may (or must) be an `item -> expression` lambda.
    item_function: Literal["no", "optional", "required"] = "no"

    def arity_text(self) -> str:
        if self.max_args is None:
            return f"at least {self.min_args}"
        if self.min_args == self.max_args:
            return str(self.min_args)
        return f"{self.min_args} to {self.max_args}"


def _text_arg(function: str, value: Any) -> str:
    if not isinstance(value, str):
        raise DslEvalError(f"{function}() needs text, not {type_name(value)}")
    return value


# --- clock ---------------------------------------------------------------------------------


def _now(now: datetime) -> datetime:
    return now


def _today(now: datetime) -> date:
    return now.date()


# --- text and collections ------------------------------------------------------------------


def _len(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple | Mapping):
        return len(value)
    raise DslEvalError(f"len() needs text or a list, not {type_name(value)}")


def _text_function(name: str, transform: Callable[[str], str]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if value is None:
            return None
        return transform(_text_arg(name, value))

    return apply


def _contains(container: Any, item: Any) -> bool:
    return values.contains(container, item)


def _starts_with(text: Any, prefix: Any) -> bool:
    if text is None:
        return False
    return _text_arg("starts_with", text).startswith(_text_arg("starts_with", prefix))


def _coalesce(*args: Any) -> Any:
    return next((arg for arg in args if arg is not None), None)


def _str(value: Any) -> str:
    return values.check_text(values.to_text(value))


_NUMBER_TEXT = re.compile(r"\s*[+-]?\d{1,100}(?:\.\d{1,100})?\s*", re.ASCII)


def _number(value: Any) -> int | Decimal | None:
    if value is None or is_number(value):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        text = value.strip()
        return check_number(Decimal(text) if "." in text else int(text))
    shown = repr(value[:50]) if isinstance(value, str) else type_name(value)
    raise DslEvalError(f"cannot convert {shown} to a number")


# --- numbers -------------------------------------------------------------------------------


def _round(value: Any, places: Any = 0) -> Any:
    if value is None:
        return None
    if not is_number(value):
        raise DslEvalError(f"round() needs a number, not {type_name(value)}")
    if not isinstance(places, int) or isinstance(places, bool) or abs(places) > 100:
        raise DslEvalError("round() needs a whole number of places between -100 and 100")
    if isinstance(value, int) and places >= 0:
        return value
    exponent = Decimal(1).scaleb(-places)
    rounded = Decimal(value).quantize(exponent, rounding=decimal.ROUND_HALF_UP, context=values.DECIMAL_CONTEXT)
    return int(rounded) if places <= 0 else rounded


def _abs(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return values.DECIMAL_CONTEXT.abs(value)
    if is_number(value) or isinstance(value, timedelta):
        return abs(value)
    raise DslEvalError(f"abs() needs a number or a duration, not {type_name(value)}")


def _extreme(name: str, pick_greater: bool) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        if len(args) == 2 and isinstance(args[1], ItemFunction):
            items: Any = [args[1](item) for item in _items(name, args[0])]
        else:
            items = args[0] if len(args) == 1 and isinstance(args[0], list | tuple) else args
        best = None
        for item in items:
            item = values.normalize(item)
            if item is None:
                continue
            if best is None or values.compare(">" if pick_greater else "<", item, best):
                best = item
        return best

    apply.__name__ = name
    return apply


# --- lists and the item functions (`p -> p.price * p.qty`) given to them -------------------


class ItemFunction:
    """What an `item -> expression` argument evaluates to: its body, run for one item.

    A class of its own, so a list function tells it from a value of the data (which may be
    anything a caller put in the environment, even something callable).
    """

    __slots__ = ("apply",)

    def __init__(self, apply: Callable[[Any], Any]) -> None:
        self.apply = apply

    def __call__(self, item: Any) -> Any:
        return self.apply(item)


def _items(function: str, value: Any) -> list[Any]:
    """The list a list function reads; null (an unset list) is an empty one."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    raise DslEvalError(f"{function}() needs a list, not {type_name(value)}")


def _each(function: str, value: Any, apply: ItemFunction | None) -> list[Any]:
    items = _items(function, value)
    return [apply(item) for item in items] if apply is not None else [values.normalize(item) for item in items]


def _sum(value: Any, apply: ItemFunction | None = None) -> Any:
    """Numbers (or durations) added up; null items are skipped and an empty list sums to 0."""
    total: Any = None
    for item in _each("sum", value, apply):
        if item is None:
            continue
        if total is None:
            if not (is_number(item) or isinstance(item, timedelta)):
                raise DslEvalError(f"sum() adds numbers or durations, not {type_name(item)}")
            total = item
        else:
            total = values.add(total, item)
    return 0 if total is None else total


def _count(value: Any, condition: ItemFunction | None = None) -> int:
    """Items that are not null, or with a condition the items for which it holds."""
    if condition is None:
        return sum(item is not None for item in _items("count", value))
    return sum(values.truthy(result) for result in _each("count", value, condition))


def _any(value: Any, condition: ItemFunction | None = None) -> bool:
    items = _items("any", value)
    return any(values.truthy(condition(item) if condition else values.normalize(item)) for item in items)


def _all(value: Any, condition: ItemFunction | None = None) -> bool:
    items = _items("all", value)
    return all(values.truthy(condition(item) if condition else values.normalize(item)) for item in items)


def _filter(value: Any, condition: ItemFunction) -> list[Any]:
    return [values.normalize(item) for item in _items("filter", value) if values.truthy(condition(item))]


def _map(value: Any, apply: ItemFunction) -> list[Any]:
    return _each("map", value, apply)


# --- dates ---------------------------------------------------------------------------------


def _to_datetime(value: Any) -> datetime | None:
    return None if value is None else _as_datetime(value)


def _as_datetime(value: object) -> datetime:
    if isinstance(value, date):
        return values.date_as_datetime(value)
    if isinstance(value, str):
        try:
            return values.as_utc(datetime.fromisoformat(value.strip()))
        except ValueError:
            raise DslEvalError(f"cannot read {value[:50]!r} as a date and time") from None
    raise DslEvalError(f"datetime() needs a date, a datetime or text, not {type_name(value)}")


def _to_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return values.as_utc(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return _as_datetime(value).date()
    raise DslEvalError(f"date() needs a date, a datetime or text, not {type_name(value)}")


def _days_between(start: Any, end: Any) -> int | None:
    """Whole days from start to end, counted towards zero (23 hours is 0 days)."""
    if start is None or end is None:
        return None
    if type(start) is date and type(end) is date:
        return (end - start).days
    first, second = _as_datetime(start), _as_datetime(end)
    seconds = (second - first).total_seconds()
    return int(seconds / 86_400)


def _duration(value: Any) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except DslSyntaxError as error:
            raise DslEvalError(error.message) from None
    raise DslEvalError(f"duration() needs text, not {type_name(value)}")


# Directives without flags or widths: `%1000000Y` would let a format grow without bound.
_DATE_FORMAT = re.compile(r"(?:[^%]|%[aAbBdHIjmMpSUwWyYzZeGuV%])*")


def _format_date(value: Any, pattern: Any = "%Y-%m-%d") -> str | None:
    if value is None:
        return None
    if not isinstance(value, date):
        raise DslEvalError(f"format_date() needs a date or a datetime, not {type_name(value)}")
    text = _text_arg("format_date", pattern)
    if len(text) > 200 or not _DATE_FORMAT.fullmatch(text):
        raise DslEvalError(f"format_date() cannot use the format {text[:50]!r}")
    day: date = values.as_utc(value) if isinstance(value, datetime) else value
    try:
        return day.strftime(text)
    except ValueError as error:
        raise DslEvalError(f"format_date() failed: {error}") from None


FUNCTIONS: dict[str, Function] = {
    function.name: function
    for function in (
        Function("now", _now, 0, 0, needs_clock=True),
        Function("today", _today, 0, 0, needs_clock=True),
        Function("len", _len, 1, 1),
        Function("lower", _text_function("lower", str.lower), 1, 1),
        Function("upper", _text_function("upper", str.upper), 1, 1),
        Function("trim", _text_function("trim", str.strip), 1, 1),
        Function("contains", _contains, 2, 2),
        Function("starts_with", _starts_with, 2, 2),
        Function("days_between", _days_between, 2, 2),
        Function("date", _to_date, 1, 1),
        Function("datetime", _to_datetime, 1, 1),
        Function("duration", _duration, 1, 1),
        Function("coalesce", _coalesce, 1, None),
        Function("round", _round, 1, 2),
        Function("abs", _abs, 1, 1),
        Function("min", _extreme("min", pick_greater=False), 1, None, item_function="optional"),
        Function("max", _extreme("max", pick_greater=True), 1, None, item_function="optional"),
        Function("sum", _sum, 1, 2, item_function="optional"),
        Function("count", _count, 1, 2, item_function="optional"),
        Function("any", _any, 1, 2, item_function="optional"),
        Function("all", _all, 1, 2, item_function="optional"),
        Function("filter", _filter, 2, 2, item_function="required"),
        Function("map", _map, 2, 2, item_function="required"),
        Function("str", _str, 1, 1),
        Function("number", _number, 1, 1),
        Function("format_date", _format_date, 1, 2),
    )
}
