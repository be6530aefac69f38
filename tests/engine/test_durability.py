"""Nothing waits only in memory: a new engine on the same database finishes what the old one started."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from engine.engine import Engine
from engine.models import HistoryEntry, ProcessInstance
from engine.virtual_time import advance
from robots.actions import registry
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, make_deal, notes_of, tasks_of

PROCESS = (Bpmn("long").start().timer_catch("sleep", duration="1d")
           .service("remind", "notify", text='"Woke up"').message_catch("wait", "bank.decision")
           .user("confirm", title="Confirm").service("done", "notify", text='"Done"').end()
           .chain("start", "sleep", "remind", "wait", "confirm", "done", "end").xml())


def restart(engine: Engine) -> Engine:
    """A fresh engine object with its own connections, as after a process restart."""
    engine.db.dispose()
    return Engine(engine.db.reopen(), engine.clock, registry)


def test_timers_messages_and_tasks_survive_restarts_between_every_step(engine, clock):
    engine.deploy(PROCESS)
    deals = [make_deal(engine) for _ in range(3)]
    instances = [engine.start("long", d).id for d in deals]

    engine = restart(engine)
    advance(engine, clock, timedelta(days=1))
    engine = restart(engine)
    for deal_id in deals:
        engine.send_message(deal_id, "bank.decision", {"approved": True}, cause=TEST_CAUSE)
    engine = restart(engine)
    with engine.unit() as rt:
        for deal_id in deals:
            (task,) = tasks_of(rt, deal_id)
            rt.crm.complete_task(task, cause=TEST_CAUSE)
    engine = restart(engine)
    advance(engine, clock, timedelta(days=30))

    with engine.unit() as rt:
        for deal_id in deals:
            assert notes_of(rt, deal_id) == ["Woke up", "Done"]
        statuses = rt.session.scalars(select(ProcessInstance.status).where(ProcessInstance.id.in_(instances)))
        assert set(statuses) == {"completed"}
        for instance_id in instances:
            ran = rt.session.scalar(select(func.count()).select_from(HistoryEntry).where(
                HistoryEntry.instance_id == instance_id, HistoryEntry.element_id == "remind"))
            assert ran == 1
