"""Automation texts and a small catalog shared by the automation tests."""

from __future__ import annotations

from dsl.automation import ActionSignature, Catalog, ParamInfo

CREDIT = """\
# Credit pipeline: reminders while the bank decides.
pipeline credit "Credit"

stage documents:
  robot "remind to call the client" at deal.ready_date - 2h:
    create_task(to: deal.responsible, title: "Call {deal.contact.name} about the credit",
                due: deal.ready_date)
  robot after 3d if deal.bank_status == "pending":
    notify(deal.responsible.supervisor, "Credit for {deal.title} is stuck")
  then after 1d:
    set_field(bank_status: "escalated")

stage bank_review (robots off):          # per-stage switch: robots of this stage are not run
  robot immediately:
    notify(text: "In review")

stage approved:
  trigger "bank approved" on bank.decision if event.approved      # target = this stage
  trigger "manual approval" on deal.field_changed if event.field == "approved" allow backward

trigger "bank answered" on bank.decision if not event.approved:  # top level: actions say what to do
  move_to main.product_agreement
  notify_supervisor("Take {deal.title} under control")
"""

STORE = """\
global "Store intake"

trigger "new order" on order.created if event.status == "new":
  create_deal(pipeline: "main", stage: "in_processing", title: "Order {event.order_id}")
"""

# Every construct of the language, for round trips and the fuzzer's mutations.
MAIN = """\
pipeline main "Sales"

# Orders start here.
stage in_processing:
  robot "welcome" immediately in working hours:
    notify(deal.responsible, "New deal {deal.title}")
  robot at 10:00:
    notify(text: "Morning check of {deal.title}")
  robot after 2d at 09:30 in working hours of responsible if deal.amount > 1000 and not deal.paid:
    create_task(to: deal.responsible, title: "Call {deal.contact.name}", due: now() + 1d)
    notify(deal.responsible.supervisor, 'Unpaid: {deal.title} ({deal.amount} {deal.currency})')
  then "escalate" after 30s:
    notify(text: "still unpaid")
  then at deal.return_date + 1d at 12:00:
    move_to main.lost
  trigger on order.paid if event.order_id == deal.order_id
  trigger "paid by card" on payment.received if event.amount >= deal.amount allow backward:
    notify(text: "Paid {event.amount}")

stage delivery:
  robot:
    create_task(
      to: deal.responsible,
      title: "Deliver {deal.title} to {deal.delivery_address}",  # the address is required
      due: deal.delivery_date,
    )

trigger on task.moved if event.column == "problem":
  notify(deal.responsible, "Problem with delivery of {deal.title}")
  move_to(stage: "delivery_check")
  set_field(bank_status: null, amount: deal.amount * 2, tags: ["a", "b"], note: "{{literal}}")
"""

P = ParamInfo


def catalog() -> Catalog:
    deal = {
        "title": "text",
        "amount": "money",
        "currency": "text",
        "responsible": "user",
        "contact": "contact",
        "ready_date": "date",
        "return_date": "date",
        "bank_status": "text",
        "paid": "bool",
        "products": "list",
        "order_id": "text",
        "delivery_address": "text",
        "delivery_date": "date",
    }
    return Catalog(
        actions={
            "notify": ActionSignature("notify", {"to": P("user"), "text": P("text", True)}, positional=("to", "text")),
            "notify_supervisor": ActionSignature("notify_supervisor", {"text": P("text", True)}, positional=("text",)),
            "create_task": ActionSignature(
                "create_task",
                {"to": P("user"), "title": P("text", True), "due": P("datetime"), "hours": P("number")},
            ),
            "set_field": ActionSignature("set_field", {}, accepts_extra=True),
            "move_to": ActionSignature("move_to", {"stage": P("stage", True)}, positional=("stage",)),
            "create_deal": ActionSignature(
                "create_deal", {"pipeline": P("text", True), "stage": P("stage"), "title": P("text")}
            ),
            "wait": ActionSignature("wait", {"period": P("duration"), "flag": P("bool"), "data": P("dict")}),
        },
        stages={
            "credit": ("new", "documents", "bank_review", "approved", "rejected"),
            "main": ("new", "in_processing", "product_agreement", "delivery", "delivery_check", "won", "lost"),
        },
        deal_fields={"credit": deal, "main": deal},
        events={
            "bank.decision": {"approved": "bool", "deal_id": "number"},
            "deal.field_changed": {"field": "text", "value": "any"},
            "order.created": {"status": "text", "order_id": "text"},
            "order.paid": {"order_id": "text"},
            "payment.received": {"amount": "money"},
            "task.moved": {"column": "text"},
        },
    )
