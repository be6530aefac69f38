"""Request bodies of the minimal API (the full REST surface comes with the API issue)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class StartProcessSchema(StrictSchema):
    deal_id = fields.Integer(required=True, strict=True)
    params = fields.Dict(keys=fields.String(), load_default=dict)


class EventSchema(StrictSchema):
    type = fields.String(required=True, validate=validate.Length(min=1, max=200))
    payload = fields.Dict(keys=fields.String(), load_default=dict)
    idempotency_key = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    source = fields.String(load_default="api", validate=validate.Length(min=1, max=64))


class CompleteTaskSchema(StrictSchema):
    result = fields.Dict(keys=fields.String(), load_default=dict)


class MoveTaskSchema(StrictSchema):
    column = fields.String(required=True, validate=validate.Length(min=1, max=50))
