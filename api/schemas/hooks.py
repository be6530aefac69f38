"""Bodies and headers of the signed webhook endpoint."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from api.schemas.common import StrictSchema
from triggers.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER


class HookEventSchema(StrictSchema):
    """An event as POST /events takes it, less `source`: the path names the source that signed it."""

    type = fields.String(required=True, validate=validate.Length(min=1, max=200))
    payload = fields.Dict(keys=fields.String(), load_default=dict)
    idempotency_key = fields.String(load_default=None, validate=validate.Length(min=1, max=200),
                                    metadata={"description": "or the Idempotency-Key header (not both, unless equal)"})


class HookHeadersSchema(Schema):
    """The headers a sender adds; checked before the body is read (see docs/webhooks.md)."""

    class Meta:
        unknown = EXCLUDE  # every other header of the request

    signature = fields.String(required=True, data_key=SIGNATURE_HEADER, metadata={
        "description": 'sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" under the source\'s secret>'})
    timestamp = fields.String(required=True, data_key=TIMESTAMP_HEADER, metadata={
        "description": "unix time in seconds when the request was signed; refused outside the tolerance window"})
    idempotency_key = fields.String(load_default=None, data_key="Idempotency-Key",
                                    validate=validate.Length(min=1, max=200),
                                    metadata={"description": "stored once per (source, key)"})
