"""Parameter fields for values that come out of dsl expressions rather than JSON.

Expressions hand actions Python values: a user record (`deal.responsible`), a datetime, a
duration, a Decimal. These fields accept those as well as their plain JSON forms (ids,
logins, ISO text), so a parameter works the same whether it was typed in a form or computed.

Each field names its dsl type in `dealflow_type` (text, number, money, bool, date, datetime,
duration, user, stage, list, dict, any): that is what the save-time checks of automation
files and the designer's palette see. Plain marshmallow fields get theirs from `type_of`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields

from crm.clock import as_utc
from dsl import DslError, Record, parse_duration

#: The dsl's type names, as used by `dsl.automation.ParamInfo`.
DSL_TYPES = ("text", "number", "money", "bool", "date", "datetime", "duration", "user", "stage", "list", "dict",
             "any")

# Most specific first: Email is a String, AwareDateTime a DateTime, and so on.
_MARSHMALLOW_TYPES: tuple[tuple[type[fields.Field[Any]], str], ...] = (
    (fields.Boolean, "bool"),
    (fields.Integer, "number"),
    (fields.Float, "number"),
    (fields.Decimal, "number"),
    (fields.Number, "number"),
    (fields.DateTime, "datetime"),
    (fields.Date, "date"),
    (fields.TimeDelta, "duration"),
    (fields.String, "text"),
    (fields.List, "list"),
    (fields.Tuple, "list"),
    (fields.Dict, "dict"),
    (fields.Mapping, "dict"),
    (fields.Nested, "dict"),
)


def type_of(field: fields.Field[Any]) -> str:
    """The dsl type of a schema field: its own `dealflow_type`, else by its marshmallow class."""
    declared = getattr(field, "dealflow_type", None)
    if declared:
        return str(declared)
    for cls, name in _MARSHMALLOW_TYPES:
        if isinstance(field, cls):
            return name
    return "any"


class _Missing:
    """Stands for "not given", so that an explicit null (`deal.responsible.supervisor` of a
    user without one) is not mistaken for "use the default recipient"."""

    def __repr__(self) -> str:
        return "<not given>"


NOT_GIVEN: Any = _Missing()


class UserRef(fields.Field[int | str]):
    """A user: a user record, an id, or a login. Deserializes to an int id or a login str."""

    dealflow_type = "user"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int | str:
        if isinstance(value, Record):
            if getattr(value, "dsl_type", "user") != "user":
                raise ValidationError(f"expected a user, got a {value.dsl_type}")
            try:
                return int(value.dsl_get("id"))
            except KeyError as err:
                raise ValidationError("not a user") from err
        if isinstance(value, bool):
            raise ValidationError("not a user")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip():
            return int(value) if value.isdigit() else value.strip()
        raise ValidationError("expected a user (id, login or a user field such as deal.responsible)")


# What a Recipient field loads: an address, phone or login as typed, or ("user" | "contact", id).
Recipients = str | tuple[str, int]


class Recipient(fields.Field[Recipients]):
    """Who a message goes to: an address or phone number as text, a user, or a contact.

    Users and contacts become ("user", id) / ("contact", id); the action picks their email
    or phone, so `send_sms(deal.contact, ...)` and `send_email(deal.responsible, ...)` work.
    """

    dealflow_type = "any"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Recipients:
        if isinstance(value, Record):
            kind = getattr(value, "dsl_type", "")
            if kind not in ("user", "contact"):
                raise ValidationError(f"cannot send to a {kind or 'record'}")
            return kind, int(value.dsl_get("id"))
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise ValidationError("expected an address, a phone number, a user or a contact")


class When(fields.Field[datetime | timedelta]):
    """A moment: a datetime, a date, a duration from now, or ISO text. Kept as given if a duration."""

    dealflow_type = "datetime"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime | timedelta:
        if isinstance(value, datetime):
            return as_utc(value)
        if isinstance(value, date):
            return as_utc(datetime(value.year, value.month, value.day))
        if isinstance(value, timedelta):
            return value
        if isinstance(value, str):
            try:
                return as_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
            except ValueError:
                try:
                    return parse_duration(value)
                except DslError as err:
                    raise ValidationError("expected a date, a datetime or a duration") from err
        raise ValidationError("expected a date, a datetime or a duration")


class Duration(fields.Field[timedelta]):
    """A span of time: a duration value or text such as "2d 4h"."""

    dealflow_type = "duration"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except DslError as err:
                raise ValidationError("expected a duration such as 2d or 4h") from err
        raise ValidationError("expected a duration such as 2d or 4h")


class Days(Duration):
    """A number of days, or a duration (`30` and `30d` mean the same)."""

    dealflow_type = "number"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> timedelta:
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError:
            pass  # not a duration: a number of days
        if isinstance(value, bool):
            raise ValidationError("expected a number of days")
        try:
            days = Decimal(str(value))
        except (InvalidOperation, ValueError) as err:
            raise ValidationError("expected a number of days") from err
        if not days.is_finite() or days < 0:
            raise ValidationError("expected a number of days, not negative")
        return timedelta(days=float(days))


class Money(fields.Field[Decimal]):
    """An amount: a number, a Decimal or numeric text; kept exact as a Decimal."""

    dealflow_type = "money"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool):
            raise ValidationError("expected an amount")
        try:
            amount = Decimal(str(value).strip().replace(" ", "").replace(",", "."))
        except (InvalidOperation, ValueError) as err:
            raise ValidationError("expected an amount") from err
        if not amount.is_finite():
            raise ValidationError("expected an amount")
        return amount


class Text(fields.String):
    """Text; numbers and dates computed by an expression are written out rather than refused."""

    dealflow_type = "text"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int | Decimal | date) and not isinstance(value, bool):
            value = value.isoformat() if isinstance(value, date) else str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class StageRef(fields.String):
    """`stage` within the deal's pipeline, or `pipeline.stage`."""

    dealflow_type = "stage"
