"""Bodies of sign-in, the caller's identity and API tokens."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Id, StrictSchema
from crm.models import LANGUAGES


class LoginSchema(StrictSchema):
    login = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class MeSchema(Schema):
    id = fields.Integer()
    login = fields.String()
    name = fields.String()
    roles = fields.List(fields.String())
    department_id = fields.Integer(allow_none=True)
    permissions = fields.List(fields.String(), metadata={"description": "what the caller's roles allow"})
    language = fields.String(metadata={"description": "the language the person reads the app in (en, uk, ru)"})


class MePatchSchema(StrictSchema):
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))


class SessionSchema(Schema):
    user = fields.Nested(MeSchema)
    csrf_token = fields.String(allow_none=True, metadata={
        "description": "send as X-CSRF-Token with every change made with the session cookie"})


class NewTokenSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    user_id = Id(load_default=None, metadata={"description": "another user's token (administrators only)"})
    expires_in_days = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=3650))


class TokenSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "shown once; only its hash is kept"})


class TokenQuerySchema(StrictSchema):
    all_users = fields.Boolean(load_default=False, metadata={"description": "administrators only"})
