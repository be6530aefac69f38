"""Which deal(s) an outside event is about.

Outside systems do not know our deal ids, except the ones we gave them (the bank got the deal
id with the application); the store knows its order number, telephony a phone number, mail
an address. Each is looked up the way the CRM indexes it. An event that names a deal or a
task that does not exist is refused — the sender has a bug we should tell it about — and so,
for now, is a payment or cancellation of an order whose deal is not there yet (409: the store
retries, and the retry is applied once the order is in), while an event that simply matches
no deal (an unknown caller, a new order) goes to the `global` rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from crm.models import Deal, Stage, Task
from crm.service import Crm
from triggers.errors import DealNotYet, InvalidEvent

#: A phone shared by a call centre must not fan one call out to a thousand deals.
MAX_DEALS_PER_EVENT = 20

#: Events that are about no deal yet, whatever their payload holds: they go to the global rules.
DEAL_LESS = ("order.created", "form.submitted")
#: Events about an order that must find its deal: arriving before it, they are refused (409) so
#: the sender retries, never acknowledged and dropped.
ORDER_FOLLOW_UPS = ("order.paid", "order.cancelled")
CONTACT_EVENTS = {"call.incoming": "phone", "call.missed": "phone", "email.received": "from"}


@dataclass(frozen=True)
class Resolution:
    deals: list[Deal]
    via: str  # deal_id / order_id / task_id / phone / from / none
    note: str | None = None


def resolve_deals(crm: Crm, event_type: str, payload: Mapping[str, Any]) -> Resolution:
    """The deals `payload` points at, oldest first; raises InvalidEvent for a dangling reference."""
    if event_type == "order.created":
        existing = deals_of_order(crm, payload["order_id"])
        if existing:
            return Resolution(existing, "order_id",
                              f"order {payload['order_id']} already has deal {existing[0].id}: no new deal")
        return Resolution([], "none")
    if event_type in DEAL_LESS:
        return Resolution([], "none")
    deal_id = payload.get("deal_id")
    if isinstance(deal_id, int) and not isinstance(deal_id, bool):
        deal = crm.session.get(Deal, deal_id)
        if deal is None:
            raise InvalidEvent(event_type, {"deal_id": f"deal {deal_id} does not exist"})
        return Resolution([deal], "deal_id")
    if payload.get("order_id") is not None:
        deals = deals_of_order(crm, str(payload["order_id"]))
        if not deals and event_type in ORDER_FOLLOW_UPS:
            raise DealNotYet(event_type, str(payload["order_id"]))
        return Resolution(deals, "order_id")
    task_id = payload.get("task_id")
    if isinstance(task_id, int) and not isinstance(task_id, bool):
        task = crm.session.get(Task, task_id)
        if task is None:
            raise InvalidEvent(event_type, {"task_id": f"task {task_id} does not exist"})
        return Resolution([task.deal] if task.deal is not None else [], "task_id")
    key = CONTACT_EVENTS.get(event_type)
    if key is not None and payload.get(key):
        return Resolution(open_deals_of_contact(crm, payload[key], "phone" if key == "phone" else "email"), key)
    return Resolution([], "none")


def deals_of_order(crm: Crm, order_id: str) -> list[Deal]:
    return crm.deals_with_field("order_id", str(order_id), limit=MAX_DEALS_PER_EVENT)


def open_deals_of_contact(crm: Crm, value: str, kind: str) -> list[Deal]:
    """Deals still in progress of every contact with this phone or email."""
    contacts = crm.find_contacts(phones=[value]) if kind == "phone" else crm.find_contacts(emails=[value])
    if not contacts:
        return []
    query = (
        select(Deal).join(Stage, Deal.stage_id == Stage.id)
        .where(Deal.contact_id.in_([c.id for c in contacts]), Stage.kind == "in_progress")
        .order_by(Deal.id).limit(MAX_DEALS_PER_EVENT)
    )
    return list(crm.session.scalars(query))
