"""The demo store at work: what a new user sees on the very first start, on every screen.

`crm.demo` builds the store (pipelines, people, a dozen deals); this adds the automation in
motion on top: a deal on every stage of every pipeline, processes waiting (for the bank, in the
warehouse, on the road), an incident (on the job loop's first tick), tasks in every column of both task boards, unread
notifications for the demo manager and a delivery on driver1's day. It needs the deployed
processes, so it runs in `api.wiring.prepare_database` after them, on the first start only,
and it is idempotent on its own (it looks for the first deal it adds), so running it twice changes nothing.
It lives here, not in `crm`, because it starts processes: only `api` may import the engine.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm.demo import CREDIT_FIELDS, TIMEZONE
from crm.demo_board import load_board_activities
from crm.events import Cause
from crm.models import Deal, Pipeline
from crm.service import Crm
from engine.engine import Engine

CAUSE = Cause.system("demo")
MARKER = "Built-in oven Weissgauff"  # the first deal this adds: found, the workspace is there

# Pipeline stages crm.demo leaves empty get a deal each: (pipeline, stage, title, responsible, fields).
STAGE_DEALS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    # The Dyson deal leaves order_assembly for the warehouse below; this one stays there.
    ("main", "order_assembly", "Built-in oven Weissgauff", "manager.north1", {"payment_status": "paid"}),
    ("credit", "new", "Washer-dryer Candy on credit", "credit1", {**CREDIT_FIELDS}),
    ("credit", "documents", "Fridge Samsung RB38 on credit", "credit1", {**CREDIT_FIELDS}),
    ("credit", "bank_review", "Cooker Hansa on credit", "credit1", {**CREDIT_FIELDS}),
    ("credit", "approved", "Freezer Liebherr on credit", "credit1", {**CREDIT_FIELDS}),
    ("credit", "rejected", "Home cinema Sony on credit", "credit1", {**CREDIT_FIELDS}),
    ("installment", "new", "Smartphone Xiaomi in installments", "credit1", {"credit_type": "installment"}),
    ("installment", "documents", "Tablet Lenovo in installments", "credit1", {"credit_type": "installment"}),
    ("installment", "bank_review", "Robot vacuum Roborock in installments", "credit1",
     {"credit_type": "installment"}),
    ("installment", "approved", "Soundbar JBL in installments", "credit1", {"credit_type": "installment"}),
    ("installment", "rejected", "Console PlayStation in installments", "credit1", {"credit_type": "installment"}),
    ("warehouse", "stored", "Wardrobe fridge Haier, kept for the client", "manager.south1", {}),
    ("warehouse", "returned", "Dishwasher Bosch, collected", "manager.north1", {}),
    ("warehouse", "cancelled", "Range hood Elica, cancelled", "manager.north2", {}),
]

# A process whose step cannot work (`source` is not a custom field set_field may write): the job
# loop's first run of it opens the incident that monitoring shows and a designer can retry.
INCIDENT_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="https://dealflow.dev/demo">
<bpmn:process id="record_lead_source" name="Record the lead source" isExecutable="true">
<bpmn:startEvent id="start" name="Deal created"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:serviceTask id="record" name="Write the source"><bpmn:extensionElements>\
<spiffworkflow:serviceTaskOperator id="set_field" resultVariable="record_result"><spiffworkflow:parameters>\
<spiffworkflow:parameter id="field" type="any" value="deal.source"/>\
<spiffworkflow:parameter id="value" type="any" value='"showroom"'/>\
</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>\
<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
<bpmn:endEvent id="end" name="Source recorded"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="record"/>
<bpmn:sequenceFlow id="f2" sourceRef="record" targetRef="end"/>
</bpmn:process>
</bpmn:definitions>
"""


def load_workspace(engine: Engine) -> None:
    """Put the demo store to work; a second call finds the marker and does nothing."""
    with engine.unit() as rt:
        if rt.session.scalar(select(Deal.id).where(Deal.title == MARKER)) is not None:
            return
        if rt.session.scalar(select(Pipeline.id).where(Pipeline.code == "main")) is None:
            return  # no demo store to put to work
        crm = rt.crm
        now = rt.clock.now()
        load_board_activities(crm)
        for pipeline, stage, title, responsible, fields in STAGE_DEALS:
            crm.create_deal(title=title, pipeline=pipeline, stage=crm.stage(stage, pipeline),
                            amount=Decimal("25990"), responsible=crm.user(responsible),
                            department={"credit": "credit", "installment": "credit"}.get(pipeline, "store_north"),
                            source="showroom", fields=fields, cause=CAUSE)
        deals = {deal.title: deal.id for deal in rt.session.scalars(select(Deal))}
        _tasks(crm, deals, now)
        _notifications(crm, deals)
    _processes(engine, deals)


def _deal(deals: dict[str, int], title: str) -> int:
    return deals[title]


def _processes(engine: Engine, deals: dict[str, int]) -> None:
    """One instance waiting for the bank, one in the warehouse, one on the road, one to fail."""
    now = engine.clock.now()
    starts = [
        ("send_to_bank", 'TV Samsung 55" on credit', {"ready_date": (now + timedelta(days=3)).isoformat()}),
        ("warehouse_buffer", "Vacuum cleaner Dyson V15", {"return_date": (now + timedelta(days=10)).isoformat()}),
        ("courier_delivery", "Fridge Atlant and washing machine Indesit", {}),
    ]
    for key, title, params in starts:
        engine.start(key, _deal(deals, title), params, cause=CAUSE)
    engine.deploy(INCIDENT_BPMN)
    engine.start("record_lead_source", _deal(deals, "Hob Gorenje"), {}, cause=CAUSE)


def _tasks(crm: Crm, deals: dict[str, int], now: datetime) -> None:
    """Both task boards with a card in every column, and driver1's delivery today."""
    zone = ZoneInfo(TIMEZONE)
    today = now.astimezone(zone).date()
    at = lambda hour: datetime.combine(today, time(hour), zone)  # noqa: E731
    delivery = _deal(deals, "Fridge Atlant and washing machine Indesit")
    cards = [
        ("logistics", "new", "Deliver: Air conditioner Haier", "Air conditioner Haier", None, at(17)),
        ("logistics", "in_progress", "Deliver: Fridge Atlant and washing machine Indesit", None, "driver1", at(12)),
        ("logistics", "problem", "Deliver: Microwave Samsung MS23 (client not answering)", "Microwave Samsung MS23",
         None, at(15)),
        ("logistics", "done", "Deliver: Coffee machine DeLonghi", "Coffee machine DeLonghi", "driver2", at(10)),
        ("purchasing", "new", "Purchase: Bosch HBA534 oven", "Oven Bosch HBA (credit, incomplete)", None, at(18)),
        ("purchasing", "in_progress", "Purchase: Gorenje ECT643 hob", "Hob Gorenje", "purchaser1", at(16)),
        ("purchasing", "problem", "Purchase: LG GA-B509 (supplier out of stock)", "Fridge LG GA-B509", None, at(14)),
        ("purchasing", "done", "Purchase: Dyson V15 Detect", "Vacuum cleaner Dyson V15", "purchaser1", at(9)),
    ]
    for group, column, title, deal_title, assignee, deadline in cards:
        deal = delivery if deal_title is None else _deal(deals, deal_title)
        data = _delivery_data(crm.deal(deal)) if group == "logistics" else {}
        task = crm.create_task(title=title, deal=deal, group=group, column=column, assignee=assignee,
                               deadline=deadline, data=data, cause=CAUSE)
        if column == "done":
            crm.complete_task(task, cause=CAUSE)


def _delivery_data(deal: Deal) -> dict[str, Any]:
    """What the courier process puts on its delivery task (bpmn/courier_delivery.bpmn), read from
    the demo deal, so a demo card says what a real one says, in the deal's own currency."""
    fields = deal.fields or {}
    contact = deal.contact
    return {
        "deal_title": deal.title,
        "address": fields.get("delivery_address") or "Moscow, Lesnaya st. 12, apt. 34",
        "delivery_time": fields.get("delivery_time") or "10:00-14:00",
        "client": contact.name if contact is not None else None,
        "phone": next(iter(contact.phones or []), None) if contact is not None else None,
        "products": list(deal.products or []),
        "amount_to_collect": fields.get("amount_to_collect", str(deal.amount)),
        "currency": deal.currency,
    }


def _notifications(crm: Crm, deals: dict[str, int]) -> None:
    """The demo manager's feed: unread news about her own deals."""
    for text, title in [
        ("New order from the online store: Fridge Atlant and washing machine Indesit", None),
        ("The bank is reviewing TV Samsung 55\" on credit; call the client on the ready date",
         'TV Samsung 55" on credit'),
        ("Delivery problem: the client of Microwave Samsung MS23 does not answer", "Microwave Samsung MS23"),
        ("Order paid: Washing machine Bosch WAN28", "Washing machine Bosch WAN28"),
    ]:
        deal = _deal(deals, title or "Fridge Atlant and washing machine Indesit")
        crm.notify("manager.north1", text, deal=deal, kind="info", cause=CAUSE)
