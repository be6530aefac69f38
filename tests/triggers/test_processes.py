"""Events reach BPMN: they resume instances waiting for them and start message-start processes."""

from __future__ import annotations

from engine.models import ProcessInstance
from tests.support.bpmn import Bpmn, _message_def
from tests.support.world import TEST_CAUSE, make_deal, notes_of
from tests.triggers.conftest import send, stage_of

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
