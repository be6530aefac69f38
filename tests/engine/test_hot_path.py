"""The engine's hot path (issue 14): what a start writes, and the caches it may trust.

Counted statements are deterministic, so these tests hold on a busy machine; no timing is
asserted anywhere."""

from __future__ import annotations

from sqlalchemy import select

from engine.engine import Engine
from engine.models import HistoryEntry, ProcessInstance, ProcessVersion
from robots.actions import registry
from tests.support.bpmn import Bpmn
from tests.support.statements import statements_sent
from tests.support.world import TEST_CAUSE, make_deal

STRAIGHT = Bpmn("straight").start().script("a", "x = 1").script("b", "y = x + 1").end().chain(
    "start", "a", "b", "end").xml()
WAITING = Bpmn("waiting").start().user("approve").script("after", "done = 1").end().chain(
    "start", "approve", "after", "end").xml()


def writes_to(seen: list[str], table: str) -> list[str]:
    return [s for s in seen if s.startswith((f"INSERT INTO {table} ", f"UPDATE {table} "))]


def test_a_start_that_runs_to_its_end_inserts_the_instance_once_with_one_history_statement(engine):
    engine.deploy(STRAIGHT)
    engine.start("straight", None)  # the first start reads the latest version; later ones trust the cache
    with statements_sent(engine.db.engine) as seen:
        instance = engine.start("straight", None)
    assert instance.status == "completed"
    assert [s.split(" (")[0] for s in writes_to(seen, "process_instances")] == ["INSERT INTO process_instances"]
    assert len(writes_to(seen, "instance_history")) == 1  # started (element_name set) and completed (None)
    assert not [s for s in seen if "FROM process_versions" in s and "INSERT" not in s]
    with engine.unit() as rt:
        saved = rt.instance(instance.id)
        rows = rt.session.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == instance.id)
                                  .order_by(HistoryEntry.id)).all()
        assert (saved.status, saved.revision, saved.ended_at is not None) == ("completed", 1, True)
    assert [(r.element_id, r.element_name, r.outcome) for r in rows] == [
        ("process", "straight", "started"), ("start", "start", "completed"), ("a", "a", "completed"),
        ("b", "b", "completed"), ("end", "end", "completed"), ("process", None, "completed")]


def test_a_waiting_instance_is_inserted_with_its_task_and_completed_by_one_update(engine):
    engine.deploy(WAITING)
    deal_id = make_deal(engine)
    with statements_sent(engine.db.engine) as seen:
        instance = engine.start("waiting", deal_id)
    assert len(writes_to(seen, "process_instances")) == 1
    (task_id,) = instance.derived["tasks"].values()
    with engine.unit() as rt:
        task = rt.crm.task(task_id)
        assert task.process_instance_id == instance.id
    with statements_sent(engine.db.engine) as seen, engine.unit() as rt:
        rt.crm.complete_task(rt.crm.task(task_id), cause=TEST_CAUSE)
    assert [s.split(" SET")[0] for s in writes_to(seen, "process_instances")] == ["UPDATE process_instances"]
    with engine.unit() as rt:
        done = rt.instance(instance.id)
        assert (done.status, done.revision) == ("completed", 2)


def test_a_deploy_by_another_process_is_started_at_once_though_the_latest_version_is_cached(engine, database,
                                                                                             clock):
    engine.deploy(STRAIGHT)
    first = engine.start("straight", None)  # this process now caches version 1 as the latest
    elsewhere = Engine(database.reopen(), clock, registry)  # another worker, with a database of its own
    try:
        newer = elsewhere.deploy(STRAIGHT.replace("x = 1", "x = 2"))
    finally:
        elsewhere.db.dispose()
    second = engine.start("straight", None)
    with engine.unit() as rt:
        versions = {v.id: v.version for v in rt.session.scalars(select(ProcessVersion))}
        again = rt.instance(second.id)
    assert (versions[first.version_id], versions[second.version_id]) == (1, 2)
    assert again.version_id == newer.id
    assert engine.cached_latest("straight") == (newer.id, 2)


def test_a_deploy_here_is_started_by_the_next_start(engine):
    engine.deploy(STRAIGHT)
    engine.start("straight", None)
    newer = engine.deploy(STRAIGHT.replace("y = x + 1", "y = x + 2"))
    assert engine.start("straight", None).version_id == newer.id


def test_processes_started_by_a_step_of_a_new_instance_get_ids_of_their_own(engine):
    """A start inside the first step of another start: the outer instance is not inserted yet,
    so on SQLite its reserved id must not be handed to the inner one."""
    engine.deploy(STRAIGHT)
    engine.deploy(Bpmn("outer").start().service("go", "start_process", process='"straight"')
                  .service("again", "start_process", process='"straight"').end()
                  .chain("start", "go", "again", "end").xml())
    deal_id = make_deal(engine)
    outer = engine.start("outer", deal_id)
    with engine.unit() as rt:
        instances = rt.session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)).all()
        history = rt.session.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == outer.id)).all()
    assert [(i.key, i.status) for i in instances] == [("outer", "completed"), ("straight", "completed"),
                                                      ("straight", "completed")]
    assert instances[0].id == outer.id
    assert [h.element_id for h in history if h.outcome == "completed"] == ["start", "go", "again", "end", "process"]
