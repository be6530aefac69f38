"""Shared building blocks: strict request bodies and the one error body."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields


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


Id = fields.Integer(strict=True)
