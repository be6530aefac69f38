"""What the language's values are and what its operators do to them.

Values are plain Python: None, bool, int, Decimal, str, date, datetime (always UTC-aware),
timedelta, list, Mappings and `Record`s. Operators are defined here by type pairs, never by
Python's own operator overloading, so that data from the outside cannot bring behaviour in.
Every function raises DslEvalError without a position; the node that called it adds one.
"""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeGuard

from dsl import limits
from dsl.durations import format_duration
from dsl.errors import DslEvalError
from dsl.record import Record

#: All decimal arithmetic runs in this context, never in the thread's mutable default one.
DECIMAL_CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

_PLAIN_TYPES = frozenset({str, int, bool, Decimal, type(None), date, timedelta, list})
_ONE_MICROSECOND = timedelta(microseconds=1)


# --- what a value is -----------------------------------------------------------------


def type_name(value: Any) -> str:
    """The word error messages use for a value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | Decimal | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, timedelta):
        return "duration"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Record):
        return value.dsl_type
    if isinstance(value, Mapping):
        return "map"
    return "object"


def is_number(value: object) -> TypeGuard[int | Decimal]:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def normalize(value: Any) -> Any:
    """Bring a value read from outside into the language's types.

    Floats become Decimals (money must not drift), naive datetimes are taken as UTC and
    aware ones are converted to UTC, tuples become lists.
    """
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DslEvalError(f"{value} is not a finite number")
        return check_number(Decimal(repr(value)))
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, Decimal):
        return check_number(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise DslEvalError("the date is out of range") from None


def date_as_datetime(value: date) -> datetime:
    """A date compared or combined with a datetime means midnight UTC of that day."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), tzinfo=UTC)


def truthy(value: Any) -> bool:
    """Conditions treat null, false, zero, empty text, empty lists and zero durations as false."""
    if value is None:
        return False
    if isinstance(value, bool | int | Decimal | str | list | tuple | timedelta | Mapping):
        return bool(value)
    return True


# --- limits ------------------------------------------------------------------------------


def check_number(value: int | Decimal) -> int | Decimal:
    """Reject numbers with more than MAX_DIGITS digits before or after the point.

    Checked after every operation, so repeated multiplication in a script stops early.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise DslEvalError("the result is not a finite number")
        too_big = value and value.adjusted() >= limits.MAX_DIGITS
        if too_big or value.as_tuple().exponent < -limits.MAX_DIGITS:  # type: ignore[operator]
            raise DslEvalError(f"number has more than {limits.MAX_DIGITS} digits")
    elif abs(value) >= _integer_bound(limits.MAX_DIGITS):
        raise DslEvalError(f"number has more than {limits.MAX_DIGITS} digits")
    return value


@functools.cache
def _integer_bound(digits: int) -> int:
    return int(10**digits)  # int ** int is typed Any (a negative power is a float)


def check_text(value: str) -> str:
    if len(value) > limits.MAX_TEXT_LENGTH:
        raise DslEvalError(f"text longer than {limits.MAX_TEXT_LENGTH} characters")
    return value


def check_list(value: list[Any]) -> list[Any]:
    if len(value) > limits.MAX_LIST_LENGTH:
        raise DslEvalError(f"list longer than {limits.MAX_LIST_LENGTH} items")
    return value


# --- reading fields ----------------------------------------------------------------------


def read_field(value: Any, name: str) -> Any:
    """`value.name`: Mappings by key (missing → null), Records through dsl_get, nothing else."""
    if value is None:
        return None
    if not isinstance(name, str) or name.startswith("_"):
        raise DslEvalError(f"field {name!r} cannot be read")
    if isinstance(value, Record):
        try:
            return normalize(value.dsl_get(name))
        except KeyError:
            raise DslEvalError(f"{value.dsl_type} has no field '{name}'") from None
    if isinstance(value, Mapping):
        return normalize(value.get(name))
    raise DslEvalError(f"cannot read field '{name}' of {type_name(value)}")


def read_index(value: Any, key: Any) -> Any:
    """`value[key]`: list items by integer (negative counts from the end, out of range → null)."""
    if value is None:
        return None
    if isinstance(key, str) and isinstance(value, Mapping | Record):
        return read_field(value, key)
    if isinstance(value, list | tuple):
        if not is_number(key) or key != int(key):
            raise DslEvalError(f"a list index must be a whole number, not {type_name(key)}")
        index = int(key)
        if -len(value) <= index < len(value):
            return normalize(value[index])
        return None
    raise DslEvalError(f"cannot index {type_name(value)} with {type_name(key)}")


# --- comparison ----------------------------------------------------------------------------


def _comparable(left: Any, right: Any) -> tuple[Any, Any] | None:
    """The pair in a form Python can compare, or None when the types do not compare."""
    if is_number(left) and is_number(right):
        return left, right
    if isinstance(left, date) and isinstance(right, date):
        if isinstance(left, datetime) != isinstance(right, datetime):
            return date_as_datetime(left), date_as_datetime(right)
        return left, right
    for kind in (str, timedelta, bool):
        if isinstance(left, kind) and isinstance(right, kind):
            return left, right
    return None


def equals(left: Any, right: Any) -> bool:
    """`==`: values of different types are simply unequal; 1 == 1.0 and a date equals its midnight."""
    pair = _comparable(left, right)
    if pair is not None:
        return bool(pair[0] == pair[1])
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    if type_name(left) != type_name(right):
        return False
    return bool(left == right)


def compare(operator: str, left: Any, right: Any) -> bool:
    """`< <= > >=`: an unset value (null) is never less or greater than anything."""
    if left is None or right is None:
        return False
    pair = _comparable(left, right)
    if pair is None or isinstance(pair[0], bool):
        raise DslEvalError(f"cannot compare {type_name(left)} and {type_name(right)}")
    a, b = pair
    if operator == "<":
        return bool(a < b)
    if operator == "<=":
        return bool(a <= b)
    if operator == ">":
        return bool(a > b)
    return bool(a >= b)


def contains(container: Any, item: Any) -> bool:
    """`item in container`: list membership, substring, or key of a map; nothing is in null."""
    if container is None:
        return False
    if isinstance(container, str):
        if not isinstance(item, str):
            raise DslEvalError(f"cannot look for {type_name(item)} in text")
        return item in container
    if isinstance(container, list | tuple):
        return any(equals(item, normalize(element)) for element in container)
    if isinstance(container, Mapping) and not isinstance(container, Record):
        return isinstance(item, str) and not item.startswith("_") and item in container
    raise DslEvalError(f"cannot look for {type_name(item)} in {type_name(container)}")


# --- arithmetic ----------------------------------------------------------------------------


def _decimal(value: int | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else DECIMAL_CONTEXT.create_decimal(value)


def _number_op(operator: str, left: int | Decimal, right: int | Decimal) -> int | Decimal:
    if operator in "/%" and right == 0:
        raise DslEvalError("division by zero")
    if isinstance(left, int) and isinstance(right, int):
        if operator == "+":
            return check_number(left + right)
        if operator == "-":
            return check_number(left - right)
        if operator == "*":
            return check_number(left * right)
        if operator == "%":
            return left % right
        if left % right == 0:
            return left // right
    a, b = _decimal(left), _decimal(right)
    if operator == "+":
        result = DECIMAL_CONTEXT.add(a, b)
    elif operator == "-":
        result = DECIMAL_CONTEXT.subtract(a, b)
    elif operator == "*":
        result = DECIMAL_CONTEXT.multiply(a, b)
    elif operator == "/":
        result = DECIMAL_CONTEXT.divide(a, b)
    else:
        result = DECIMAL_CONTEXT.remainder(a, b)
        if result and (result < 0) != (b < 0):  # the sign of the divisor, as for integers
            result = DECIMAL_CONTEXT.add(result, b)
    return check_number(result)


def _shift_date(day: date, delta: timedelta) -> date:
    """A date moved by whole days stays a date; by hours or minutes it becomes a datetime."""
    if delta % timedelta(days=1):
        return date_as_datetime(day) + delta
    return day + delta


def _scale(delta: timedelta, factor: int | Decimal) -> timedelta:
    micros = DECIMAL_CONTEXT.multiply(_decimal(delta // _ONE_MICROSECOND), _decimal(factor))
    return timedelta(microseconds=int(micros.to_integral_value(rounding=decimal.ROUND_HALF_EVEN)))


def add(left: Any, right: Any) -> Any:
    if is_number(left) and is_number(right):
        return _number_op("+", left, right)
    if isinstance(left, str) and isinstance(right, str):
        return check_text(left + right)
    if isinstance(left, list) and isinstance(right, list):
        return check_list(left + right)
    if isinstance(left, timedelta) and isinstance(right, date | timedelta):
        left, right = right, left
    if isinstance(right, timedelta):
        if isinstance(left, timedelta | datetime):
            return left + right
        if isinstance(left, date):
            return _shift_date(left, right)
    raise DslEvalError(f"cannot add {type_name(left)} and {type_name(right)}")


def subtract(left: Any, right: Any) -> Any:
    if is_number(left) and is_number(right):
        return _number_op("-", left, right)
    if isinstance(right, timedelta):
        if isinstance(left, timedelta | datetime):
            return left - right
        if isinstance(left, date):
            return _shift_date(left, -right)
    if isinstance(left, date) and isinstance(right, date):
        if isinstance(left, datetime) or isinstance(right, datetime):
            return date_as_datetime(left) - date_as_datetime(right)
        return left - right
    raise DslEvalError(f"cannot subtract {type_name(right)} from {type_name(left)}")


def multiply(left: Any, right: Any) -> Any:
    if is_number(left) and is_number(right):
        return _number_op("*", left, right)
    if isinstance(left, timedelta) and is_number(right):
        return _scale(left, right)
    if is_number(left) and isinstance(right, timedelta):
        return _scale(right, left)
    raise DslEvalError(f"cannot multiply {type_name(left)} by {type_name(right)}")


def divide(left: Any, right: Any) -> Any:
    if is_number(left) and is_number(right):
        return _number_op("/", left, right)
    if isinstance(left, timedelta) and (is_number(right) or isinstance(right, timedelta)):
        if not right:
            raise DslEvalError("division by zero")
        if isinstance(right, timedelta):
            return _number_op("/", left // _ONE_MICROSECOND, right // _ONE_MICROSECOND)
        return _scale(left, DECIMAL_CONTEXT.divide(Decimal(1), _decimal(right)))
    raise DslEvalError(f"cannot divide {type_name(left)} by {type_name(right)}")


def modulo(left: Any, right: Any) -> Any:
    if is_number(left) and is_number(right):
        return _number_op("%", left, right)
    raise DslEvalError(f"cannot take {type_name(left)} modulo {type_name(right)}")


def negate(value: Any) -> Any:
    if isinstance(value, Decimal):
        return DECIMAL_CONTEXT.minus(value)
    if is_number(value):
        return -value
    if isinstance(value, timedelta):
        return -value
    raise DslEvalError(f"cannot negate {type_name(value)}")


ARITHMETIC = {"+": add, "-": subtract, "*": multiply, "/": divide, "%": modulo}


# --- text --------------------------------------------------------------------------------


def format_decimal(value: Decimal) -> str:
    """Plain digits, never an exponent: 1E+2 reads as 100."""
    return format(value, "f")


def format_datetime(value: datetime) -> str:
    value = as_utc(value)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def to_text(value: Any) -> str:
    """How templates and str() show a value to people: readable, never a Python repr."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, float):
        return format_decimal(normalize(value))
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, list | tuple):
        return check_text(", ".join(to_text(normalize(item)) for item in value))
    if isinstance(value, Record):
        return _record_text(value)
    if isinstance(value, Mapping):
        pairs = (f"{to_text(normalize(key))}: {to_text(normalize(item))}" for key, item in value.items())
        return check_text(", ".join(pairs))
    return f"<{type_name(value)}>"


def _record_text(record: Record) -> str:
    """A record shows its name or title when it has one (a contact, a deal), else its type."""
    for field in ("name", "title"):
        try:
            shown = record.dsl_get(field)
        except KeyError:
            continue
        if shown is not None and not isinstance(shown, Record):
            return to_text(normalize(shown))
    return record.dsl_type
