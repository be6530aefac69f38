"""Events from outside (stores, banks, telephony, forms) enter through the trigger intake.

An event is answered 202 only once it is stored *and* applied in one transaction. A busy
database (deadlock, lock timeout, dropped connection) rolls it back whole: 503 with
Retry-After, nothing stored, and the same request with the same key works later. A payment
or cancellation of an order whose deal is not there yet is 409 `deal_not_yet` (nothing
stored). A rule that fails on an accepted event is recorded on it; once the rule is fixed,
POST /events/{id}/replay applies the event again.
"""

from __future__ import annotations

from typing import Any

from api.auth import requires
from api.context import request_cause, retrying_unit_of_work, unit_of_work
from api.parsing import Blueprint
from api.schemas.automation import EventResultSchema, EventSchema, StoredEventSchema
from api.schemas.common import ID_RULE
from crm.events import Cause
from engine.runtime import Runtime
from triggers.errors import EventNotFound
from triggers.intake import accept_event, replay_event
from triggers.models import Event

bp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="Incoming events")


@bp.post("")
@requires("send_events")
@retrying_unit_of_work
@bp.arguments(EventSchema)
@bp.response(202, EventResultSchema, description="accepted and applied")
@bp.alt_response(200, schema=EventResultSchema, description="a repeat of an event already accepted; nothing done")
@bp.alt_response(409, description="deal_not_yet: an order.paid / order.cancelled of an order that has no deal yet; "
                                  "nothing stored, send it again later (Retry-After)")
@bp.alt_response(422, description="invalid_event: every bad field named (text with a lone surrogate or a NUL "
                                  "included); nothing stored")
@bp.alt_response(503, description="temporarily_unavailable: the database was busy (deadlock, lock timeout, "
                                  "lost connection); nothing stored, send the same request again (Retry-After)")
def send_event(body: dict[str, Any], *, rt: Runtime) -> Any:
    """Stored once per (source, idempotency key), so a retried webhook does nothing twice."""
    result = accept_event(rt, body["type"], body["payload"], idempotency_key=body["idempotency_key"],
                          source=body["source"], cause=Cause("system", body["source"], body["source"]))
    return result.as_dict(), 200 if result.duplicate else 202


@bp.get(f"/<{ID_RULE}:event_id>")
@requires("retry_incidents")
@unit_of_work
@bp.response(200, StoredEventSchema)
def get_event(event_id: int, *, rt: Runtime) -> Any:
    """A stored event: its payload and what it did (its rules' evaluations, failed ones included)."""
    row = rt.session.get(Event, event_id)
    if row is None:
        raise EventNotFound(f"no event {event_id}")
    return row


@bp.post(f"/<{ID_RULE}:event_id>/replay")
@requires("retry_incidents")
@retrying_unit_of_work
@bp.response(200, EventResultSchema, description="applied again with the rules in force now")
@bp.alt_response(404, description="event_not_found")
@bp.alt_response(409, description="not_replayable: none of its rules failed, so a replay would apply it twice")
def replay(event_id: int, *, rt: Runtime) -> Any:
    """Apply an accepted event again once the rule that failed on it is fixed (dealflow events replay ID)."""
    return replay_event(rt, event_id, cause=request_cause()).as_dict()
