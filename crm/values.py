"""Typed values in JSON columns: what people and processes hand in, what is stored, what is read.

Custom fields live in one JSON column so that adding a field needs no migration. The price is
that JSON knows no dates or decimals, so each type has a storage form (ISO strings, plain
numbers) and a Python form (date, aware datetime, Decimal). Every conversion happens here so
the service, the records and the API agree on both.

Input converters raise `ValueError` whose message is the reason shown next to the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
# Numeric(14, 2): twelve digits before the point.
MAX_MONEY = Decimal("1e12")
TRUE_WORDS = {"true", "yes", "1", "on"}
FALSE_WORDS = {"false", "no", "0", "off"}


def is_empty(value: Any) -> bool:
    """What counts as "not filled in" for required-field checks and for clearing a field."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | dict) and not value


# --- input: anything reasonable -> Python form --------------------------------------------


def parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip().replace(" ", "").replace("\u00a0", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"'{value}' is not a number") from None
    else:
        raise ValueError("must be a number")
    if not result.is_finite():
        raise ValueError("must be a finite number")
    return result


def parse_money(value: Any) -> Decimal:
    amount = parse_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    if abs(amount) >= MAX_MONEY:
        raise ValueError("is too large")
    return amount


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return as_aware(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return as_aware(datetime.fromisoformat(text)).date()
        except ValueError:
            raise ValueError(f"'{value}' is not a date (YYYY-MM-DD)") from None
    raise ValueError("must be a date (YYYY-MM-DD)")


def parse_datetime(value: Any) -> datetime:
    """A moment in UTC; naive input is read as UTC and a bare date as its midnight."""
    if isinstance(value, datetime):
        return as_aware(value)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, str):
        try:
            return as_aware(datetime.fromisoformat(value.strip()))
        except ValueError:
            raise ValueError(f"'{value}' is not a date and time (ISO 8601)") from None
    raise ValueError("must be a date and time (ISO 8601)")


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ValueError("must be true or false")


def parse_string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError("must be text")
    return str(value)


def parse_enum(value: Any, options: Sequence[str]) -> str:
    text = parse_string(value).strip()
    if text not in options:
        raise ValueError(f"must be one of: {', '.join(options)}")
    return text


def as_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- storage form <-> Python form ------------------------------------------------------------


def number_to_json(number: Decimal) -> int | float:
    """Plain JSON numbers: exact for money (12 digits + cents fit a double's 15)."""
    return int(number) if number == number.to_integral_value() else float(number)


def number_from_json(raw: Any) -> Decimal:
    return raw if isinstance(raw, Decimal) else Decimal(str(raw))


def to_json(field_type: str, value: Any) -> Any:
    """The storage form of an already parsed Python value."""
    if value is None:
        return None
    if field_type in ("number", "money"):
        return number_to_json(value)
    if field_type in ("date", "datetime"):
        return value.isoformat()
    return value


def from_json(field_type: str, raw: Any) -> Any:
    """The Python form of a stored value; user fields stay a user id here."""
    if raw is None:
        return None
    if field_type == "number":
        return number_from_json(raw)
    if field_type == "money":
        return number_from_json(raw).quantize(CENT)
    if field_type == "date":
        return date.fromisoformat(raw)
    if field_type == "datetime":
        return as_aware(datetime.fromisoformat(raw))
    return raw


def parse_field(field_type: str, value: Any, options: Sequence[str] = ()) -> Any:
    """Input to Python form for every type but `user`, which needs the database."""
    parsers = {
        "string": parse_string,
        "number": parse_decimal,
        "money": parse_money,
        "date": parse_date,
        "datetime": parse_datetime,
        "bool": parse_bool,
    }
    if field_type == "enum":
        return parse_enum(value, options)
    return parsers[field_type](value)


# --- products ----------------------------------------------------------------------------------

PRODUCT_KEYS = ("name", "qty", "price", "category")


def parse_products(value: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Products in storage form, and the errors by path ("products[1].price")."""
    if value is None:
        return [], {}
    if isinstance(value, dict | str) or not isinstance(value, Sequence):
        return [], {"products": "must be a list of {name, qty, price}"}
    products: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for index, item in enumerate(value):
        path = f"products[{index}]"
        if not isinstance(item, dict):
            errors[path] = "must be an object with name, qty and price"
            continue
        product, item_errors = _parse_product(item)
        errors.update({f"{path}.{key}": reason for key, reason in item_errors.items()})
        products.append(product)
    return products, errors


def _parse_product(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    product: dict[str, Any] = {}
    name = item.get("name")
    if is_empty(name) or not isinstance(name, str):
        errors["name"] = "is required"
    else:
        product["name"] = name.strip()
    for key, parse, default in (("qty", parse_decimal, 1), ("price", parse_money, None)):
        raw = item.get(key, default)
        if raw is None:
            errors[key] = "is required"
            continue
        try:
            number = parse(raw)
        except ValueError as error:
            errors[key] = str(error)
            continue
        if number < 0 or (key == "qty" and number == 0):
            errors[key] = "must be positive" if key == "qty" else "must not be negative"
        product[key] = number_to_json(number)
    category = item.get("category")
    if not is_empty(category):
        product["category"] = str(category)
    # Extra scalars a store sends (sku, line id) are kept as they are.
    for key, extra in item.items():
        if key not in PRODUCT_KEYS and isinstance(extra, str | int | float | bool | type(None)):
            product[key] = extra
    return product, errors


def product_view(product: dict[str, Any]) -> dict[str, Any]:
    """A stored product with Decimal numbers, safe for expression arithmetic."""
    view = dict(product)
    view["qty"] = number_from_json(product.get("qty", 1))
    view["price"] = number_from_json(product.get("price", 0)).quantize(CENT)
    view.setdefault("category", None)
    return view
