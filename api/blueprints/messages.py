"""Messages and signals by name: any message a diagram waits for, delivered with the deal it is
about; a BPMN signal, broadcast to the deal's waiting instances and signal-start processes.

The CRM's own event types go through POST /events (stored once, rules run); this endpoint is
for the other names diagrams use (`contract.signed`, `bank.decision`...). A message nothing
waits for is 400 `no_correlation`, as Camunda answers, and nothing is written.
"""

from __future__ import annotations

from typing import Any

from api.auth import requires
from api.context import request_cause, retrying_unit_of_work
from api.parsing import Blueprint
from api.schemas.automation import MessageResultSchema, MessageSchema, SignalSchema
from engine.runtime import Runtime
from triggers.messages import deliver_message, deliver_signal

bp = Blueprint("messages", __name__, url_prefix="/api/v1/messages", description="Messages to waiting processes")
signals_bp = Blueprint("signals", __name__, url_prefix="/api/v1/signals", description="Signals broadcast to a deal")


@bp.post("")
@requires("send_events")
@retrying_unit_of_work
@bp.arguments(MessageSchema)
@bp.response(202, MessageResultSchema, description="delivered: the instances started and reached")
@bp.alt_response(400, description="no_correlation: no process starts by the message and no instance of the deal "
                                  "waits for it; nothing written")
@bp.alt_response(422, description="invalid_message: a CRM event type (send it to /events), a deal that does not "
                                  "exist, or text no database can store; nothing written")
@bp.alt_response(503, description="temporarily_unavailable: the database was busy; send it again (Retry-After)")
def send_message(body: dict[str, Any], *, rt: Runtime) -> Any:
    """Start the processes whose start event waits for the message and deliver it to the deal's waiting instances."""
    result = deliver_message(rt, body["name"], body["deal_id"], body["payload"],
                             cause=request_cause(), correlation_key=body["correlation_key"])
    return result.as_dict(), 202


@signals_bp.post("")
@requires("send_events")
@retrying_unit_of_work
@signals_bp.arguments(SignalSchema)
@signals_bp.response(202, MessageResultSchema, description="broadcast: the instances started and reached")
@signals_bp.alt_response(400, description="no_correlation: no process starts by the signal and no instance of the "
                                          "deal waits for it; nothing written")
@signals_bp.alt_response(422, description="invalid_signal: a deal that does not exist, or text no database can "
                                          "store; nothing written")
@signals_bp.alt_response(503, description="temporarily_unavailable: the database was busy; send it again (Retry-After)")
def send_signal(body: dict[str, Any], *, rt: Runtime) -> Any:
    """Broadcast a signal to the deal: every waiting instance of it and every process a signal start event starts."""
    result = deliver_signal(rt, body["name"], body["deal_id"], body["payload"], cause=request_cause())
    return result.as_dict(), 202
