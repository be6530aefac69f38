"""Parameter fields for values that come out of dsl expressions rather than JSON.

Expressions hand actions Python values: a user record (`deal.responsible`), a datetime, a
duration. These fields accept those as well as their plain JSON forms (ids, logins, ISO
text), so a parameter works the same whether it was typed in a form or computed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from marshmallow import ValidationError, fields

from crm.clock import as_utc
from dsl import DslError, Record, parse_duration


class UserRef(fields.Field):
    """A user: a user record, an id, or a login. Deserializes to an int id or a login str."""

    dealflow_type = "user"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int | str:
        if isinstance(value, Record):
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


class When(fields.Field):
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


class Text(fields.String):
    dealflow_type = "text"


class StageRef(fields.String):
    """`stage` within the deal's pipeline, or `pipeline.stage`."""

    dealflow_type = "stage"
