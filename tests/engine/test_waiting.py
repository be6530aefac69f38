"""Waiting: timers as job rows on the injected clock, messages correlated by deal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.models import Deal
from engine.errors import InvalidProcess
from engine.models import Job, MessageWait
from engine.virtual_time import advance
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, make_deal, notes_of, tasks_of


def stage_of(engine, deal_id: int) -> str:
    with engine.unit() as rt:
        deal = rt.session.get(Deal, deal_id)
        return f"{deal.pipeline.code}.{deal.stage.code}"


def pending_timers(engine, instance_id: int) -> list[datetime]:
    with engine.unit() as rt:
        return [j.due_at for j in rt.session.scalars(
            select(Job).where(Job.instance_id == instance_id, Job.kind == "timer", Job.status == "pending"))]


def status(engine, instance_id: int) -> str:
    with engine.unit() as rt:
        return rt.instance(instance_id).status


DELAYED = (Bpmn("delayed").start().timer_catch("wait", duration="2d")
           .service("go", "move_to", stage='"in_processing"').end().chain("start", "wait", "go", "end").xml())


def test_a_duration_timer_is_a_job_that_fires_when_the_clock_reaches_it(engine, clock):
    engine.deploy(DELAYED)
    deal_id = make_deal(engine)
    instance = engine.start("delayed", deal_id)
    assert pending_timers(engine, instance.id) == [clock.now() + timedelta(days=2)]
    advance(engine, clock, timedelta(days=1, hours=23))
    assert stage_of(engine, deal_id) == "main.new"
    advance(engine, clock, timedelta(hours=1))
    assert stage_of(engine, deal_id) == "main.in_processing"
    assert pending_timers(engine, instance.id) == []
    assert status(engine, instance.id) == "completed"


RETURN = (Bpmn("ret").start().timer_catch("wait", date="deal.return_date")
          .service("back", "move_to", stage='"in_processing"').end().chain("start", "wait", "back", "end").xml())


def test_a_date_timer_follows_the_deal_field_it_reads(engine, clock):
    engine.deploy(RETURN)
    deal_id = make_deal(engine, fields={"return_date": "2026-01-10T09:00:00Z"})
    instance = engine.start("ret", deal_id)
    assert pending_timers(engine, instance.id) == [datetime(2026, 1, 10, 9, 0, tzinfo=UTC)]
    with engine.unit() as rt:
        rt.crm.set_fields(rt.crm.deal(deal_id), {"return_date": "2026-01-20T09:00:00Z"}, cause=TEST_CAUSE)
    assert pending_timers(engine, instance.id) == [datetime(2026, 1, 20, 9, 0, tzinfo=UTC)]
    advance(engine, clock, timedelta(days=10))
    assert stage_of(engine, deal_id) == "main.new"
    advance(engine, clock, timedelta(days=6))
    assert stage_of(engine, deal_id) == "main.in_processing"


def test_a_date_timer_on_an_empty_field_waits_for_it_to_be_set(engine, clock):
    engine.deploy(RETURN)
    deal_id = make_deal(engine, fields={"return_date": "2026-01-10T09:00:00Z"})
    instance = engine.start("ret", deal_id)
    with engine.unit() as rt:
        rt.crm.set_fields(rt.crm.deal(deal_id), {"return_date": None}, cause=TEST_CAUSE)
    assert pending_timers(engine, instance.id) == []
    advance(engine, clock, timedelta(days=30))
    assert stage_of(engine, deal_id) == "main.new"
    assert status(engine, instance.id) == "running"
    with engine.unit() as rt:
        rt.crm.set_fields(rt.crm.deal(deal_id), {"return_date": "2026-02-10T09:00:00Z"}, cause=TEST_CAUSE)
    assert pending_timers(engine, instance.id) == [datetime(2026, 2, 10, 9, 0, tzinfo=UTC)]
    advance(engine, clock, timedelta(days=7))
    assert stage_of(engine, deal_id) == "main.in_processing"


def test_a_date_already_past_fires_at_once(engine):
    engine.deploy(RETURN)
    deal_id = make_deal(engine, fields={"return_date": "2025-12-31T00:00:00Z"})
    instance = engine.start("ret", deal_id)
    assert stage_of(engine, deal_id) == "main.in_processing"
    assert status(engine, instance.id) == "completed"


def test_an_interrupting_boundary_timer_cancels_the_task_it_sits_on(engine, clock):
    xml = (Bpmn("esc").start().user("call", title="Call the client").end("done")
           .boundary("late", "call", duration="1d").service("lost", "move_to", stage='"lost"').end("gave_up")
           .chain("start", "call", "done").chain("late", "lost", "gave_up").xml())
    engine.deploy(xml)
    deal_id = make_deal(engine)
    engine.start("esc", deal_id)
    advance(engine, clock, timedelta(days=1))
    assert stage_of(engine, deal_id) == "main.lost"
    with engine.unit() as rt:
        assert [t.status for t in tasks_of(rt, deal_id)] == ["archived"]


def test_a_cycle_timer_repeats_as_many_times_as_it_says(engine, clock):
    xml = (Bpmn("nag").start().user("wait_user", title="Pay").end("paid")
           .boundary("every_day", "wait_user", cycle='"R3/P1D"', interrupting=False)
           .service("remind", "notify", text='"Please pay"').end("reminded")
           .chain("start", "wait_user", "paid").chain("every_day", "remind", "reminded").xml())
    engine.deploy(xml)
    deal_id = make_deal(engine)
    engine.start("nag", deal_id)
    advance(engine, clock, timedelta(days=10))
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Please pay"] * 3


BANK = (Bpmn("bank").start().event_gateway("gw").message_catch("decision", "bank.decision")
        .timer_catch("ready", duration="2d").service("remind", "notify", text='"Call the client"')
        .message_catch("decision_late", "bank.decision").xor("join").xor("approved", default="flow_rejected")
        .service("ok", "move_to", stage='"order_assembly"').service("no", "move_to", stage='"product_agreement"')
        .end("e1").end("e2")
        .chain("start", "gw").flow("gw", "decision").flow("gw", "ready").chain("ready", "remind", "decision_late")
        .flow("decision", "join").flow("decision_late", "join").chain("join", "approved")
        .flow("approved", "ok", "event.approved").flow("approved", "no", flow_id="flow_rejected")
        .chain("ok", "e1").chain("no", "e2").xml())


def test_an_event_based_gateway_takes_whichever_comes_first(engine, clock):
    engine.deploy(BANK)
    quick, slow = make_deal(engine), make_deal(engine)
    fast_instance = engine.start("bank", quick)
    slow_instance = engine.start("bank", slow)
    engine.send_message(quick, "bank.decision", {"approved": True})
    assert stage_of(engine, quick) == "main.order_assembly"
    assert pending_timers(engine, fast_instance.id) == []
    advance(engine, clock, timedelta(days=3))
    with engine.unit() as rt:
        assert notes_of(rt, slow) == ["Call the client"]
        assert notes_of(rt, quick) == []
    engine.send_message(slow, "bank.decision", {"approved": False})
    assert stage_of(engine, slow) == "main.product_agreement"
    assert status(engine, slow_instance.id) == "completed"


def test_messages_reach_only_the_instances_of_their_deal(engine):
    engine.deploy(BANK)
    mine, other = make_deal(engine), make_deal(engine)
    engine.start("bank", mine)
    other_instance = engine.start("bank", other)
    resumed = engine.send_message(mine, "bank.decision", {"approved": True})
    assert len(resumed) == 1
    assert stage_of(engine, other) == "main.new"
    with engine.unit() as rt:
        waits = rt.session.scalars(select(MessageWait).where(MessageWait.deal_id == other)).all()
        assert [(w.instance_id, w.message) for w in waits] == [(other_instance.id, "bank.decision")]


def test_a_message_nobody_waits_for_changes_nothing(engine):
    engine.deploy(BANK)
    deal_id = make_deal(engine)
    engine.start("bank", deal_id)
    assert engine.send_message(deal_id, "order.paid", {}) == []
    assert stage_of(engine, deal_id) == "main.new"


def test_every_move_of_a_process_task_to_a_column_is_a_message_to_its_instance(engine):
    xml = (Bpmn("buy").start().user("purchase", title="Buy it", group="purchasing").end("done")
           .boundary("problem", "purchase", message="task.column.problem", interrupting=False)
           .service("tell", "notify", text='"Contact purchasing"').end("told")
           .chain("start", "purchase", "done").chain("problem", "tell", "told").xml())
    engine.deploy(xml)
    deal_id = make_deal(engine)
    instance = engine.start("buy", deal_id)
    with engine.unit() as rt:
        task = tasks_of(rt, deal_id)[0]
        rt.crm.move_task(task, "problem", cause=TEST_CAUSE)
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Contact purchasing"]
        rt.crm.move_task(tasks_of(rt, deal_id)[0], "new", cause=TEST_CAUSE)
        rt.crm.move_task(tasks_of(rt, deal_id)[0], "problem", cause=TEST_CAUSE)
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Contact purchasing", "Contact purchasing"]
        assert tasks_of(rt, deal_id)[0].status == "open"
        rt.crm.complete_task(tasks_of(rt, deal_id)[0], cause=TEST_CAUSE)
    assert status(engine, instance.id) == "completed"


def test_a_message_without_a_name_is_known_by_its_id(engine):
    """`name` is optional on bpmn:message and modelers leave it out; BPMN identifies a message
    by its id, so the instance waits for, and is resumed by, the id."""
    xml = (Bpmn("nameless").start().message_catch("wait", "paid").end().chain("start", "wait", "end").xml()
           .replace('<bpmn:message id="msg_paid" name="paid"/>', '<bpmn:message id="msg_paid"/>'))
    version = engine.deploy(xml)
    assert version.messages == ["msg_paid"]
    deal_id = make_deal(engine)
    instance = engine.start("nameless", deal_id)
    with engine.unit() as rt:
        assert [w.message for w in rt.session.scalars(select(MessageWait))] == ["msg_paid"]
    assert engine.send_message(deal_id, "msg_paid", {}) == [instance.id]
    assert status(engine, instance.id) == "completed"


def test_a_message_event_with_neither_a_message_nor_a_name_is_refused_at_deploy(engine):
    xml = (Bpmn("anonymous").start().message_catch("wait", "paid").end().chain("start", "wait", "end").xml()
           .replace(' messageRef="msg_paid"', "").replace('id="wait" name="wait"', 'id="wait"'))
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(xml)
    assert refused.value.details[0]["element"] == "wait"
