"""Shared building blocks: strict request bodies and the one error body."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate


class StrictSchema(Schema):
    """Request bodies refuse unknown fields, so a typo is a 422, not a silently ignored value."""

    class Meta:
        unknown = RAISE


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "stable, machine-readable"})
    message = fields.String(required=True)
    details = fields.Raw(allow_none=True, metadata={"description": "per-field problems or error list"})


class CauseSchema(Schema):
    kind = fields.String()
    ref = fields.String(allow_none=True)
    label = fields.String(allow_none=True)


MAX_ID = 2**31 - 1
# Ids in paths: out-of-range numbers are a 404 from routing, never an overflow in the driver.
ID_RULE = f"int(min=1, max={MAX_ID})"


def Id(**kwargs: object) -> fields.Integer:
    """An id in a body or query: within the database's integer range."""
    kwargs.setdefault("strict", True)
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)  # type: ignore[arg-type]


def Count(**kwargs: object) -> fields.Integer:
    kwargs.setdefault("strict", True)
    return fields.Integer(validate=validate.Range(min=0, max=MAX_ID), **kwargs)  # type: ignore[arg-type]


class Bool(fields.Boolean):
    """true or false only: 0, "yes" or "on" in a JSON body is a mistake, not a boolean."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value
