"""Signed webhooks from stores, banks and other systems: the same intake as /events, but the
sender proves who it is with an HMAC signature instead of a session or an API token.

    POST /api/v1/hooks/<source>
    X-Dealflow-Timestamp: <unix seconds>
    X-Dealflow-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" under the source's secret>
    Idempotency-Key: <optional; or "idempotency_key" in the body>

The signature is verified on the raw bytes before the body is parsed, so an unsigned or
forged request is refused (401) without its JSON ever being read, and nothing is stored.
The source is the one in the path, the one whose secret signed the request: a body cannot
claim to come from elsewhere.

auth: none — these endpoints must stay reachable without a session or an API token (and
without a CSRF header); the signature is their authentication.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, request

from api.context import retrying_unit_of_work
from api.parsing import Blueprint
from api.schemas.automation import EventResultSchema
from api.schemas.hooks import HookEventSchema, HookHeadersSchema
from crm.errors import InvalidInput
from crm.events import Cause
from engine.runtime import Runtime
from triggers.intake import accept_event
from triggers.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, replay_key, verify_request

bp = Blueprint("hooks", __name__, url_prefix="/api/v1/hooks",
               description="Signed webhooks (HMAC per source) from stores, banks and other systems")

SETTINGS_KEY = "DEALFLOW_SETTINGS"


def _verified(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse the request with 401 unless it is signed by `source`'s secret and fresh.

    Placed outside the argument parser, so nothing of an unsigned body is parsed.
    """

    @wraps(view)
    def wrapper(*args: Any, source: str, **kwargs: Any) -> Any:
        settings = current_app.config[SETTINGS_KEY]
        # A refusal (SignatureRefused, 401) leaves through the API's one error handler.
        verify_request(settings.source_secrets.get(source), request.get_data(cache=True),
                       request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER),
                       now=time.time(), tolerance=settings.signature_tolerance)
        return view(*args, source=source, **kwargs)

    return wrapper


@bp.post("/<string(maxlength=64):source>")
@bp.doc(security=[])
@_verified
@retrying_unit_of_work
@bp.arguments(HookHeadersSchema, location="headers")
@bp.arguments(HookEventSchema)
@bp.response(202, EventResultSchema, description="verified, accepted and applied")
@bp.alt_response(200, schema=EventResultSchema, description="a repeat of an event already accepted; nothing done")
@bp.alt_response(401, description="missing_signature, bad_signature, stale_signature or unknown_source; "
                                  "nothing stored")
@bp.alt_response(409, description="deal_not_yet: an order.paid / order.cancelled of an order that has no deal yet; "
                                  "nothing stored, send it again later (Retry-After)")
@bp.alt_response(413, description="request_entity_too_large")
@bp.alt_response(422, description="invalid_event: every bad field named; nothing stored")
@bp.alt_response(503, description="temporarily_unavailable: the database was busy; nothing stored, send the same "
                                  "request again (Retry-After)")
def receive(headers: dict[str, Any], body: dict[str, Any], *, source: str, rt: Runtime) -> Any:
    """One signed event, stored once per (source, idempotency key) like POST /events."""
    header_key, given = headers["idempotency_key"], body["idempotency_key"]
    if header_key is not None and given is not None and header_key != given:
        raise InvalidInput("the Idempotency-Key header and the body's idempotency_key differ",
                           fields={"idempotency_key": "differs from the Idempotency-Key header"})
    key = replay_key(body["type"], given if given is not None else header_key, headers["signature"])
    result = accept_event(rt, body["type"], body["payload"], idempotency_key=key, source=source,
                          cause=Cause("system", source, source))
    return result.as_dict(), 200 if result.duplicate else 202
