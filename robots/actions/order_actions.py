"""Store orders into deals (S5), and the deliberate no-op for events that should be ignored.

An order event carries everything the deal needs; mapping it here keeps the automation file
to one readable line (`create_deal_from_order("main.in_processing")`) instead of a dozen
field assignments, and makes the mapping one tested place.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields

from crm.models import Deal
from engine.actions import ActionContext, ActionInputError
from robots.actions.fields import StageRef
from robots.actions.registry import action

#: The variable the trigger intake puts the event's source in (beside `event`, the payload).
EVENT_SOURCE = "event_source"


class FromOrderSchema(Schema):
    stage = StageRef(required=True, metadata={"description": "pipeline.stage the new deal starts on"})


@action("create_deal_from_order", FromOrderSchema, category="deal", positional=("stage",),
        description="Create the deal of a store order event (contact found by phone or email, or created); "
                    "the same order twice gives one deal")
def create_deal_from_order(ctx: ActionContext, stage: str) -> dict[str, Any]:
    order = ctx.variables.get("event")
    if not isinstance(order, dict) or not order.get("order_id"):
        raise ActionInputError("create_deal_from_order runs on an order event (event.order_id)")
    existing = _deal_of_order(ctx, str(order["order_id"]))
    if existing is not None:
        return {"deal_id": existing.id, "created": False}
    if "." not in stage:
        raise ActionInputError("give the stage as pipeline.stage, e.g. main.in_processing")
    pipeline, _ = stage.split(".", 1)
    customer = order.get("customer") or {}
    contact = None
    if customer.get("phone") or customer.get("email"):
        contact = ctx.crm.find_or_create_contact(name=customer.get("name") or "Client", phone=customer.get("phone"),
                                                 email=customer.get("email"), cause=ctx.cause)
    department = order.get("department")
    if department is not None:
        try:
            ctx.crm.department(department)
        except Exception:  # an unknown store code: the deal is still created, unassigned to a store
            department = None
    deal = ctx.service.create_deal(  # with the order key, which the author API leaves out
        title=f"Order {order['order_id']}", pipeline=pipeline, stage=ctx.crm.stage(stage),
        amount=Decimal(str(order.get("amount") or 0)), currency=order.get("currency") or "RUB",
        contact=contact, department=department, source="store",
        products=[_product(item) for item in order.get("items") or []],
        fields=_fields(order), cause=ctx.cause, order=_order_key(ctx, order),
    )
    return {"deal_id": deal.id, "created": True}


def _order_key(ctx: ActionContext, order: dict[str, Any]) -> tuple[str, str]:
    """(who sent the order, its number): UNIQUE on deals, so the same order sent under four
    idempotency keys at once makes one deal; the losers' events run again and find it."""
    source = ctx.variables.get(EVENT_SOURCE)
    return (source if isinstance(source, str) and source else "store", str(order["order_id"]))


def _deal_of_order(ctx: ActionContext, order_id: str) -> Deal | None:
    return next(iter(ctx.crm.deals_with_field("order_id", order_id, limit=1)), None)


def _product(item: dict[str, Any]) -> dict[str, Any]:
    product = {"name": item.get("name"), "qty": item.get("qty", 1), "price": item.get("price")}
    if item.get("category"):
        product["category"] = item["category"]
    return product


# deal field <- the order's `credit` key: what "Send to bank" (S1) needs, as the store sends it
CREDIT_FIELDS = {"credit_type": "type", "bank": "bank", "id_document": "id_document", "term_months": "term_months",
                 "down_payment": "down_payment"}


def _fields(order: dict[str, Any]) -> dict[str, Any]:
    paid = bool(order.get("paid"))
    values: dict[str, Any] = {
        "order_id": str(order["order_id"]),
        "payment_status": "paid" if paid else "unpaid",
        "order_status": order.get("status"),
        "delivery_address": order.get("address"),
        "delivery_time": order.get("preferred_time"),
        "amount_to_collect": 0 if paid else order.get("amount"),
        "vip": bool(order.get("vip")),
    }
    categories = [i.get("category") for i in order.get("items") or [] if i.get("category")]
    if categories:
        values["category"] = categories[0]
    credit = order.get("credit") or {}
    if credit.get("type") in ("credit", "installment"):
        values.update({key: credit.get(source) for key, source in CREDIT_FIELDS.items()})
    return {k: v for k, v in values.items() if v is not None}


class WaitForEventSchema(Schema):
    event = fields.String(required=True, metadata={"description": "the event type, e.g. order.paid"})
    timeout = fields.Raw(load_default=None, metadata={"description": "give up after this long (a duration)"})


@action("wait_for_event", WaitForEventSchema, category="flow", positional=("event", "timeout"),
        description="In a robot chain: the following 'then' steps wait until this event arrives for the deal "
                    "(or the chain stops after the timeout)")
def wait_for_event(ctx: ActionContext, event: str, timeout: Any) -> dict[str, Any]:
    raise ActionInputError("wait_for_event is a step of a robot chain; a BPMN process waits with a message event")


class IgnoreSchema(Schema):
    pass


@action("ignore", IgnoreSchema, category="flow",
        description="Do nothing: a rule that matches and ignores an event, so later rules do not run")
def ignore(ctx: ActionContext) -> dict[str, Any]:
    return {"ignored": True}
