"""Events reach BPMN: they resume instances waiting for them and start message-start processes."""

from __future__ import annotations

from engine.models import ProcessInstance
from tests.support.bpmn import Bpmn, _message_def
from tests.support.world import TEST_CAUSE, make_deal, notes_of
from tests.triggers.conftest import act, automation, send, stage_of, when

NEW_ORDER = {
    "order_id": "A-3001", "status": "new", "amount": "990.00", "currency": "RUB", "paid": False,
    "shipped": False, "customer": {"name": "Olga Petrova", "phone": "+7 916 555-00-11"},
    "items": [{"name": "Kettle", "qty": 1, "price": 990}], "department": "store_north",
}

BANK = (Bpmn("bank").start().message_catch("decision", "bank.decision").xor("approved", default="flow_rejected")
        .service("ok", "move_to", stage='"order_assembly"').service("no", "notify", text='"Rejected"')
        .end("e1").end("e2")
        .chain("start", "decision", "approved").flow("approved", "ok", "event.approved")
        .flow("approved", "no", flow_id="flow_rejected").chain("ok", "e1").chain("no", "e2").xml())


def paid_process() -> str:
    """Starts by itself when an order is paid."""
    proc = Bpmn("thank_for_payment")
    proc.messages.add("order.paid")
    proc._add("start", "startEvent", _message_def("order.paid"))
    return (proc.service("thanks", "notify", text='"Paid " + str(event.amount)').end()
            .chain("start", "thanks", "end").xml())


def test_a_bank_decision_resumes_the_process_waiting_for_it(engine, files):
    deal_id = make_deal(engine, stage="main.product_agreement")
    other_id = make_deal(engine, stage="main.product_agreement")
    engine.deploy(BANK)
    waiting = engine.start("bank", deal_id, cause=TEST_CAUSE).id
    engine.start("bank", other_id, cause=TEST_CAUSE)

    result = send(engine, files, "bank.decision", {"deal_id": deal_id, "approved": True}, source="bank")

    assert result.resumed == [waiting]
    assert stage_of(engine, deal_id) == "main.order_assembly"
    assert stage_of(engine, other_id) == "main.product_agreement"
    with engine.unit() as rt:
        assert rt.session.get(ProcessInstance, waiting).status == "completed"


def test_a_message_start_event_starts_its_process_with_the_event(engine, files):
    deal_id = make_deal(engine, fields={"order_id": "A-7"})
    engine.deploy(paid_process())

    result = send(engine, files, "order.paid", {"order_id": "A-7", "amount": "100"})

    assert len(result.started) == 1 and result.resumed == []
    with engine.unit() as rt:
        instance = rt.session.get(ProcessInstance, result.started[0])
        assert (instance.key, instance.deal_id, instance.status) == ("thank_for_payment", deal_id, "completed")
        assert notes_of(rt, deal_id) == ["Paid 100"]


def created_process() -> str:
    """Starts by itself when a new order comes in; its comment lands on the order's deal."""
    proc = Bpmn("welcome_order")
    proc.messages.add("order.created")
    proc._add("start", "startEvent", _message_def("order.created"))
    return (proc.service("hello", "add_comment", text='"New order " + event.order_id').end()
            .chain("start", "hello", "end").xml())


def test_a_new_order_starts_its_message_start_process_for_the_deal_its_rule_made(engine, files):
    files.add(automation("global", when("new", "order.created",
                                        actions=[act("create_deal_from_order", stage='"main.in_processing"')])))
    engine.deploy(created_process())

    result = send(engine, files, "order.created", NEW_ORDER)

    [deal_id] = result.created_deal_ids
    assert len(result.started) == 1
    with engine.unit() as rt:
        instance = rt.session.get(ProcessInstance, result.started[0])
        assert (instance.key, instance.deal_id, instance.status) == ("welcome_order", deal_id, "completed")
        assert comments_of(rt, deal_id) == ["New order A-3001"]


def test_a_new_order_no_rule_makes_a_deal_for_starts_its_process_without_a_deal(engine, files):
    engine.deploy(created_process())

    result = send(engine, files, "order.created", NEW_ORDER)

    assert result.created_deal_ids == [] and len(result.started) == 1
    with engine.unit() as rt:
        assert rt.session.get(ProcessInstance, result.started[0]).deal_id is None


def comments_of(rt, deal_id: int) -> list[str]:
    from sqlalchemy import select

    from crm.models import TimelineEntry

    return [e.text for e in rt.session.scalars(
        select(TimelineEntry).where(TimelineEntry.deal_id == deal_id, TimelineEntry.kind == "comment"))]
