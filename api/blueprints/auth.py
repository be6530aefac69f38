"""Sign in and out (browser sessions) and API tokens for machines."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from flask import current_app, jsonify, request

from api.auth import SESSION_COOKIE, current_user, ensure
from api.context import request_cause, unit_of_work
from api.parsing import Blueprint
from api.schemas.auth import (
    IssuedTokenSchema,
    LoginSchema,
    MePatchSchema,
    NewTokenSchema,
    SessionSchema,
    TokenQuerySchema,
    TokenSchema,
)
from api.schemas.common import ID_RULE
from crm import access
from crm.auth import (
    SESSION_LIFETIME,
    Principal,
    SignInLocked,
    authenticate,
    csrf_token,
    issue,
    revoke,
    tokens_of,
)
from engine.runtime import Runtime

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-in and API tokens")


@bp.post("/login")
@bp.doc(security=[])
@unit_of_work
@bp.arguments(LoginSchema)
@bp.response(200, SessionSchema)
def login(body: dict[str, Any], *, rt: Runtime) -> Any:
    """Sets the session cookie; the answer carries the CSRF token the browser must echo.
    Five wrong passwords in a row lock the login for 15 minutes (429 with Retry-After)."""
    try:
        user = authenticate(rt.session, body["login"], body["password"], rt.crm.clock)
    except SignInLocked as locked:
        wait = max(1, int((locked.until - rt.crm.clock.now()).total_seconds()))
        return jsonify(locked.body()), 429, {"Retry-After": str(wait)}
    if user is None:  # answered, not raised: the count of wrong passwords must be committed
        return jsonify({"code": "invalid_credentials", "message": "wrong login or password"}), 401
    credential, secret = issue(rt.session, user, rt.crm.clock, kind="session", lifetime=SESSION_LIFETIME)
    response = jsonify(SessionSchema().dump(_session_body(Principal.of(user, credential), secret)))
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(SESSION_LIFETIME.total_seconds()), httponly=True,
                        samesite="Lax", secure=current_app.config["DEALFLOW_SECURE_COOKIES"], path="/")
    return response


@bp.post("/logout")
@unit_of_work
@bp.response(204)
def logout(*, rt: Runtime) -> Any:
    """Ends this session for good (the cookie alone can never sign in again)."""
    me = current_user()
    if me.via == "session":
        revoke(rt.session, me.credential_id, rt.crm.clock)
    response = current_app.response_class(status=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@bp.get("/me")
@bp.response(200, SessionSchema)
def me() -> Any:
    principal = current_user()
    secret = request.cookies.get(SESSION_COOKIE) if principal.via == "session" else None
    return _session_body(principal, secret)


@bp.patch("/me")
@unit_of_work
@bp.arguments(MePatchSchema)
@bp.response(200, SessionSchema)
def update_me(body: dict[str, Any], *, rt: Runtime) -> Any:
    """The caller's own preferences (today the language); nobody changes another person's here."""
    principal = current_user()
    user = rt.crm.set_language(principal.id, body["language"], cause=request_cause())
    principal = replace(principal, language=user.language)
    secret = request.cookies.get(SESSION_COOKIE) if principal.via == "session" else None
    return _session_body(principal, secret)


@bp.get("/tokens")
@unit_of_work
@bp.arguments(TokenQuerySchema, location="query")
@bp.response(200, TokenSchema(many=True))
def list_tokens(args: dict[str, Any], *, rt: Runtime) -> Any:
    owner = _owner_or_all(args["all_users"])
    return tokens_of(rt.session, owner)


@bp.post("/tokens")
@unit_of_work
@bp.arguments(NewTokenSchema)
@bp.response(201, IssuedTokenSchema)
def create_token(body: dict[str, Any], *, rt: Runtime) -> Any:
    """The token is in this answer only; keep it, it cannot be shown again."""
    me = current_user()
    user_id = body["user_id"] or me.id
    if user_id != me.id:
        ensure("manage_users")
    user = rt.crm.user(user_id)
    lifetime = timedelta(days=body["expires_in_days"]) if body["expires_in_days"] else None
    credential, secret = issue(rt.session, user, rt.crm.clock, kind="token", name=body["name"], lifetime=lifetime)
    return {**{name: getattr(credential, name) for name in TokenSchema().fields}, "token": secret}


@bp.delete(f"/tokens/<{ID_RULE}:token_id>")
@unit_of_work
@bp.response(200, TokenSchema)
def revoke_token(token_id: int, *, rt: Runtime) -> Any:
    """Someone else's token is not found unless the caller manages users."""
    me = current_user()
    owner = None if access.can(me, "manage_users") else me.id
    return revoke(rt.session, token_id, rt.crm.clock, owner=owner, kind="token")


def _owner_or_all(all_users: bool) -> int | None:
    me = current_user()
    if all_users:
        ensure("manage_users")
        return None
    return me.id


def _session_body(principal: Principal, secret: str | None) -> dict[str, Any]:
    user = {
        "id": principal.id, "login": principal.login, "name": principal.name, "roles": list(principal.roles),
        "department_id": principal.department_id, "language": principal.language,
        "permissions": sorted(name for name in access.PERMISSIONS if access.can(principal, name)),
    }
    return {"user": user, "csrf_token": csrf_token(secret) if secret else None}
