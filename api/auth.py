"""Who is calling, and whether they may: the API's side of sign-in.

Every request under /api/v1 is authenticated before its view runs, except the few public
paths below: a browser by its session cookie (and, for changes, the CSRF header that a
foreign page cannot read), a machine by `Authorization: Bearer <token>`. Views then only say
which permission they need (`@requires`) and which objects the caller may see
(crm/access.py); the rules themselves live in the domain.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, g, request

from api.context import engine
from crm import access
from crm.auth import Principal, csrf_matches, principal_for
from dsl.base_error import DealflowError

SESSION_COOKIE = "dealflow_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PUBLIC_PATHS = ("/api/v1/health", "/api/v1/auth/login", "/api/v1/hooks/")
PROTECTED_PREFIX = "/api/v1/"
SECURITY_SCHEMES = {
    "token": {"type": "http", "scheme": "bearer", "description": "an API token (POST /api/v1/auth/tokens)"},
    "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                "description": "set by POST /api/v1/auth/login; changes also need the X-CSRF-Token header"},
}


class AccessDenied(DealflowError):
    """401 (who are you?) or 403 (you may not); the body names which, with a stable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code=code)
        self.status = status


def current_user() -> Principal:
    """The signed-in caller of this request (authentication ran before the view)."""
    principal = g.get("principal")
    if principal is None:
        raise AccessDenied(401, "unauthenticated", "sign in or send an API token")
    return principal


def requires(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse the view with 403 unless the caller's roles grant `permission`.

    Put it above `unit_of_work` so a refused request never opens a transaction."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ensure(permission)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def ensure(permission: str) -> Principal:
    user = current_user()
    if not access.can(user, permission):
        raise AccessDenied(403, "forbidden", f"your roles do not allow '{permission}'")
    return user


def principal_from_request() -> Principal | None:
    """The caller named by this request's token or session cookie, if any is valid.

    Also used by socket.io's connect handler, which sees the same headers and cookies."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return principal_for_token(header[7:].strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    return _principal(cookie, "session") if cookie else None


def principal_for_token(token: str) -> Principal | None:
    return _principal(token, "token")


def _principal(secret: str, kind: str) -> Principal | None:
    # A connection of its own, outside the request's ORM session: that one is begun by the view's
    # unit of work as the view needs it (IMMEDIATE on SQLite), after the permission check.
    with engine().db.engine.connect() as connection:
        return principal_for(connection, secret, engine().clock, kind=kind)


def _authenticate() -> None:
    path = request.path
    if not path.startswith(PROTECTED_PREFIX) or path.startswith(PUBLIC_PATHS):
        return
    if request.method == "OPTIONS":
        return
    has_credentials = "Authorization" in request.headers or SESSION_COOKIE in request.cookies
    principal = principal_from_request() if has_credentials else None
    if principal is None:
        raise AccessDenied(401, "unauthenticated", "sign in or send a valid API token")
    unsafe = principal.via == "session" and request.method not in SAFE_METHODS
    if unsafe and not csrf_matches(request.cookies[SESSION_COOKIE], request.headers.get(CSRF_HEADER)):
        raise AccessDenied(403, "csrf", f"changes from a browser session need the {CSRF_HEADER} header")
    g.principal = principal


def init_auth(app: Flask) -> None:
    app.before_request(_authenticate)
