"""Every error leaves the API as JSON with a stable code; nothing leaks as a 500 page."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from api.auth import AccessDenied
from api.messages import localize_error
from dsl.base_error import DealflowError
from engine.failures import is_database_transient

#: How long a caller should wait after a lost database connection (the pool reconnects at once)
#: and after a busy one (a deadlock or lock timeout clears when the other writer is done).
RETRY_AFTER_LOST_SECONDS = 1
RETRY_AFTER_BUSY_SECONDS = 5


def _body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return body


def register_error_handlers(app: Flask) -> None:
    @app.after_request
    def in_the_callers_language(response: Response) -> Response:
        # One place for every error body, also those a view answers itself (sign-in, webhooks).
        response.vary.add("Accept-Language")
        return localize_error(response, request)

    @app.errorhandler(DealflowError)
    def refused(err: DealflowError) -> Any:
        # Every family (crm, dsl, engine, robots, triggers, the API's own) in one shape; the
        # class says the status, and "send it again later" travels as Retry-After.
        headers = {"Retry-After": str(err.retry_after)} if err.retry_after is not None else {}
        if isinstance(err, AccessDenied) and err.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="dealflow"'
        return jsonify(err.body()), err.status, headers

    @app.errorhandler(ValidationError)
    def invalid_payload(err: ValidationError) -> Any:
        return jsonify(_body("invalid_payload", "the request body is invalid", err.messages)), 422

    @app.errorhandler(StaleDataError)
    def stale(err: StaleDataError) -> Any:
        return jsonify(_body("conflict", "someone else changed this first; reload and try again")), 409

    @app.errorhandler(DBAPIError)
    def busy(err: DBAPIError) -> Any:
        # SQLite refuses a write from an outdated snapshot with "database is locked".
        if "database is locked" in str(err.orig):
            return jsonify(_body("conflict", "someone else is changing this; try again")), 409
        # A connection that died under the request (a restart, a failover, pg_terminate_backend):
        # the transaction rolled back with it and the pool has dropped it, so the same request
        # sent again meets a fresh connection (pre-ping checks the idle ones).
        if err.connection_invalidated:
            body = _body("database_unavailable", "the database connection was lost and the pool has replaced it; "
                         "try again")
            return jsonify(body), 503, {"Retry-After": str(RETRY_AFTER_LOST_SECONDS)}
        # A deadlock, a lock or statement timeout (engine.failures): the transaction was rolled
        # back whole, nothing was stored, and the same request with the same idempotency key may
        # be sent again. 503 says so to a store's retry logic. Anything else is a bug: a 500.
        if is_database_transient(err):
            return (jsonify(_body("temporarily_unavailable",
                                  "the database was busy and nothing was stored; send the request again")),
                    503, {"Retry-After": str(RETRY_AFTER_BUSY_SECONDS)})
        raise err

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(err: RequestEntityTooLarge) -> Any:
        # Raised by werkzeug before any of the body is parsed (Content-Length, or while reading).
        # The code is the one every other HTTP error gets from its name; only the limit is added.
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return jsonify(_body("request_entity_too_large", f"the request body is larger than {limit} bytes",
                             {"max_bytes": limit})), 413

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Any:
        # webargs (flask-smorest's argument parser) hands its field messages in `data`.
        messages = (getattr(err, "data", None) or {}).get("messages")
        if messages is not None:
            details = next(iter(messages.values())) if len(messages) == 1 else messages
            code = "invalid_json" if err.code == 400 else "invalid_payload"
            return jsonify(_body(code, "the request is invalid", details)), err.code
        # Keep the exception's own headers (a 405's Allow, for one) but answer in JSON.
        headers = [(name, value) for name, value in err.get_headers() if name.lower() != "content-type"]
        return jsonify(_body(err.name.lower().replace(" ", "_"), err.description or err.name)), err.code, headers
