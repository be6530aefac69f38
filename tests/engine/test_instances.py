"""Running instances: start checks, dsl scripts and gateways, actions, user tasks, history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crm.models import Deal, Notification, Task
from engine.errors import StartRefused
from engine.models import HistoryEntry, ProcessInstance
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, make_deal


def history(engine, instance_id: int) -> list[tuple[str, str]]:
    with engine.unit() as rt:
        return [(h.element_id, h.outcome) for h in rt.session.scalars(
            select(HistoryEntry).where(HistoryEntry.instance_id == instance_id).order_by(HistoryEntry.id))]


def deal_state(engine, deal_id: int) -> tuple[str, str]:
    with engine.unit() as rt:
        deal = rt.session.get(Deal, deal_id)
        return deal.pipeline.code, deal.stage.code


def status(engine, instance_id: int) -> str:
    with engine.unit() as rt:
        return rt.instance(instance_id).status


GUARDED = (Bpmn("guarded").parameter("ready_date", "datetime").parameter("note", required=False)
           .required_field("bank", "Bank").required_field("term_months", "Term")
           .start().script("calc", "x = 1").end().chain("start", "calc", "end").xml())


def test_a_start_with_missing_fields_and_parameters_lists_them_all_and_writes_nothing(engine):
    engine.deploy(GUARDED)
    deal_id = make_deal(engine, fields={"bank": "Sber"})
    with pytest.raises(StartRefused) as refused:
        engine.start("guarded", deal_id, {"ready_date": "soon", "colour": "red"}, cause=TEST_CAUSE)
    assert refused.value.details == {
        "missing_fields": ["term_months"],
        "invalid_parameters": {"ready_date": "expected a date and time like 2026-01-31T10:00:00Z",
                               "colour": "not a parameter of this process"},
    }
    assert "Term" in refused.value.message
    with engine.unit() as rt:
        assert rt.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_parameters_become_typed_process_variables(engine):
    xml = (Bpmn("typed").parameter("ready_date", "datetime").parameter("price", "money").start()
           .script("calc", "later = ready_date + 1d\ntotal = price * 2").user("look").end()
           .chain("start", "calc", "look", "end").xml())
    engine.deploy(xml)
    instance = engine.start("typed", make_deal(engine), {"ready_date": "2026-02-01T10:00:00Z", "price": "10.50"})
    with engine.unit() as rt:
        workflow = rt._load(rt.instance(instance.id))
        data = workflow.get_tasks(spec_name="look")[0].data
    assert data["later"] == datetime(2026, 2, 2, 10, 0, tzinfo=UTC)
    assert str(data["total"]) == "21.00"


def test_gateways_choose_by_dsl_conditions_on_the_deal(engine):
    xml = (Bpmn("route").start().xor("gw", default="flow_small").service("big", "move_to", stage='"in_processing"')
           .service("small", "move_to", stage='"lost"').end("e1").end("e2")
           .chain("start", "gw").flow("gw", "big", "deal.amount >= 50000").flow("gw", "small", flow_id="flow_small")
           .chain("big", "e1").chain("small", "e2").xml())
    engine.deploy(xml)
    rich, poor = make_deal(engine, amount=90000), make_deal(engine, amount=100)
    engine.start("route", rich)
    engine.start("route", poor)
    assert deal_state(engine, rich) == ("main", "in_processing")
    assert deal_state(engine, poor) == ("main", "lost")


def test_service_tasks_call_actions_and_the_timeline_names_the_process(engine):
    xml = (Bpmn("move").start().service("to_credit", "change_pipeline", pipeline="deal.credit_type")
           .service("tell", "notify", text='"Sent " + deal.title + " to the bank"').end()
           .chain("start", "to_credit", "tell", "end").xml())
    engine.deploy(xml)
    deal_id = make_deal(engine, fields={"credit_type": "installment"})
    instance = engine.start("move", deal_id)
    assert deal_state(engine, deal_id) == ("installment", "new")
    with engine.unit() as rt:
        note = rt.session.scalars(select(Notification).where(Notification.deal_id == deal_id)).one()
        assert note.text == "Sent Washing machine to the bank"
        moves = [e for e in rt.crm.timeline(rt.crm.deal(deal_id)) if e.kind == "stage_moved"]
        assert (moves[-1].cause_kind, moves[-1].cause_ref) == ("process", str(instance.id))
    assert status(engine, instance.id) == "completed"


def test_a_user_task_becomes_a_crm_task_and_completing_it_resumes_the_instance(engine):
    xml = (Bpmn("deliver").start()
           .user("drive", title="Deliver {deal.title}", group="logistics", assignee="deal.responsible",
                 deadline="2d", data__address='"Main st. 1"')
           .service("check", "move_to", stage='"delivery_check"').end()
           .chain("start", "drive", "check", "end").xml())
    engine.deploy(xml)
    deal_id = make_deal(engine, stage="main.delivery")
    instance = engine.start("deliver", deal_id)
    with engine.unit() as rt:
        task = rt.session.scalars(select(Task).where(Task.deal_id == deal_id)).one()
        assert (task.title, task.group, task.status) == ("Deliver Washing machine", "logistics", "open")
        assert task.assignee.login == "manager.north1"
        assert task.data["address"] == "Main st. 1"
        assert task.deadline == datetime(2026, 1, 7, 9, 0, tzinfo=UTC)
        assert (task.process_instance_id, task.element_id) == (instance.id, "drive")
        rt.crm.complete_task(task, cause=TEST_CAUSE)
    assert deal_state(engine, deal_id) == ("main", "delivery_check")
    assert status(engine, instance.id) == "completed"
    assert ("drive", "completed") in history(engine, instance.id)


def test_history_lists_each_element_in_the_order_it_ran(engine):
    engine.deploy(Bpmn("seq").start().script("a", "x = 1").script("b", "y = x + 1").end()
                  .chain("start", "a", "b", "end").xml())
    instance = engine.start("seq", make_deal(engine))
    assert history(engine, instance.id) == [
        ("process", "started"), ("start", "completed"), ("a", "completed"), ("b", "completed"),
        ("end", "completed"), ("process", "completed"),
    ]


def test_history_keeps_what_each_action_returned(engine):
    engine.deploy(Bpmn("acts").start().service("go", "move_to", stage='"in_processing"').end()
                  .chain("start", "go", "end").xml())
    instance = engine.start("acts", make_deal(engine))
    with engine.unit() as rt:
        entry = rt.session.scalars(select(HistoryEntry).where(
            HistoryEntry.instance_id == instance.id, HistoryEntry.element_id == "go")).one()
    assert entry.detail["result"] == {"moved": True, "stage": "in_processing"}


def test_cancelling_an_instance_archives_its_open_tasks_and_stops_its_waits(engine):
    engine.deploy(Bpmn("c").start().user("u", title="Do it").end().chain("start", "u", "end").xml())
    deal_id = make_deal(engine)
    instance = engine.start("c", deal_id)
    with engine.unit() as rt:
        rt.cancel(instance.id, cause=TEST_CAUSE)
    with engine.unit() as rt:
        assert rt.instance(instance.id).status == "cancelled"
        task = rt.session.scalars(select(Task).where(Task.deal_id == deal_id)).one()
        assert task.status == "archived"
