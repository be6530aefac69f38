"""Events from outside (stores, banks, telephony, forms) enter through the trigger intake."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from api.auth import requires
from api.context import unit_of_work
from api.schemas.automation import EventResultSchema, EventSchema
from crm.events import Cause
from triggers.intake import accept_event

bp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="Incoming events")


@bp.post("")
@requires("send_events")
@unit_of_work
@bp.arguments(EventSchema)
@bp.response(202, EventResultSchema, description="accepted and applied")
@bp.alt_response(200, schema=EventResultSchema, description="a repeat of an event already accepted; nothing done")
def send_event(body: dict[str, Any], *, rt: Any) -> Any:
    """Stored once per (source, idempotency key), so a retried webhook does nothing twice."""
    result = accept_event(rt, body["type"], body["payload"], idempotency_key=body["idempotency_key"],
                          source=body["source"], cause=Cause("system", body["source"], body["source"]))
    return result.as_dict(), 200 if result.duplicate else 202
