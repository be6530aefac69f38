"""Errors of the event intake.

They are `crm.errors.InvalidInput`s so the API turns them into a 4xx body listing every bad
field, the same way it does for a refused deal or task; nothing has been written when one is
raised.
"""

from __future__ import annotations

from collections.abc import Mapping

from crm.errors import Conflict, InvalidInput, NotFound


class InvalidEvent(InvalidInput):
    """The event cannot be accepted: unknown type, bad payload, or it names a deal that does not exist."""

    code = "invalid_event"

    def __init__(self, event_type: str, fields: Mapping[str, str]) -> None:
        problems = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
        super().__init__(f"{event_type} event refused: {problems}", fields=fields, code=self.code)
        self.event_type = event_type


class DealNotYet(Conflict):
    """An event about an order whose deal does not exist yet (`order.paid` overtook
    `order.created`). Refused, not stored: acknowledging it would drop it, and the store's
    resend under the same key would then be a duplicate while the deal stays unpaid. The API
    answers 409 with Retry-After, and the sender's retry is applied once the order is in."""

    code = "deal_not_yet"
    retry_after = 60

    def __init__(self, event_type: str, order_id: str) -> None:
        self.fields = {"order_id": f"order {order_id} has no deal yet"}
        super().__init__(f"{event_type} refused for now: order {order_id} has no deal yet; send it again "
                         f"after the order's order.created (nothing was stored)", details=self.fields)
        self.event_type = event_type
        self.order_id = order_id


class EventNotFound(NotFound):
    code = "event_not_found"


class NotReplayable(Conflict):
    """A replay of an event none of whose rules failed: it would apply the event twice."""

    code = "not_replayable"
