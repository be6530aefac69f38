"""Bounded execution: a process that loops (recursion, a cycle of tasks and gateways, a loop
marker) stops after the step budget or its seconds, its step is rolled back, and the instance
is left in a durable incident naming the element that looped; the rest of the transaction and
every other writer go on (docs/processes.md, "Bounded execution")."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm.models import Notification
from engine.errors import StepBudgetExceeded
from engine.models import HistoryEntry, Incident, MessageWait, ProcessInstance
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, demo_engine, make_deal

LOOPS = Path(__file__).resolve().parent / "loops"


@pytest.fixture
def small_budget(database, clock):
    return demo_engine(database, clock, step_budget=60)


def incidents(engine, instance_id: int) -> list[tuple[str | None, str]]:
    with engine.unit() as rt:
        return [(i.element_id, i.message) for i in rt.session.scalars(
            select(Incident).where(Incident.instance_id == instance_id).order_by(Incident.id))]


def status(engine, instance_id: int) -> str:
    with engine.unit() as rt:
        return rt.instance(instance_id).status


@pytest.mark.parametrize(("file", "element"), [
    ("call_itself.bpmn", "call_self"),  # a call activity calling its own process
    ("script_cycle.bpmn", "join"),  # script task and gateways in a cycle
    ("endless_loop_marker.bpmn", "repeat"),  # a loop marker whose condition stays true
])
def test_a_looping_process_stops_in_an_incident_naming_the_element(small_budget, file, element):
    engine = small_budget
    key = engine.deploy((LOOPS / file).read_bytes()).key
    instance = engine.start(key, make_deal(engine), cause=TEST_CAUSE)
    assert status(engine, instance.id) == "incident"
    [(blamed, message)] = incidents(engine, instance.id)
    assert blamed == element
    assert "60 steps" in message and repr(element) in message


def test_the_looping_step_is_rolled_back_and_the_rest_of_the_transaction_commits(small_budget):
    """The notifications the loop sent are undone with it; the incident and the work done
    beside it in the same transaction are kept."""
    engine = small_budget
    xml = (Bpmn("noisy").start().message_catch("wait", "go").xor("join")
           .service("shout", "notify", text='"again"').xor("again", default="flow_out").end()
           .chain("start", "wait", "join", "shout", "again").flow("again", "join", "true", flow_id="flow_back")
           .flow("again", "end", flow_id="flow_out").xml())
    engine.deploy(xml)
    deal_id = make_deal(engine)
    instance_id = engine.start("noisy", deal_id, cause=TEST_CAUSE).id
    with engine.unit() as rt:
        assert rt.send_message(deal_id, "go", {}, cause=TEST_CAUSE) == [instance_id]
        rt.crm.notify(rt.crm.user("manager.north1"), "written beside the loop", cause=TEST_CAUSE)
    with engine.unit() as rt:
        texts = [n.text for n in rt.session.scalars(select(Notification))]
        assert texts == ["written beside the loop"]
        assert rt.instance(instance_id).status == "incident"
        assert rt.active_elements(rt.instance(instance_id)) == ["wait"]  # its last saved state
        assert rt.session.scalar(select(func.count()).select_from(MessageWait)) == 0  # in incident: waits for no one
    [(blamed, _)] = incidents(engine, instance_id)
    assert blamed in ("join", "again", "shout")


def test_a_loop_is_stopped_by_the_seconds_when_its_steps_are_slow(database, clock):
    """Spiff walks its whole task tree per step, so steps slow down as a loop grows: the time
    bound holds even with a budget of steps nobody reaches."""
    engine = demo_engine(database, clock, step_budget=10**9, step_seconds=0.5)
    key = engine.deploy((LOOPS / "call_itself.bpmn").read_bytes()).key
    began = time.monotonic()
    instance = engine.start(key, make_deal(engine), cause=TEST_CAUSE)
    assert time.monotonic() - began < 10
    assert status(engine, instance.id) == "incident"
    assert incidents(engine, instance.id)[0][0] == "call_self"


def test_retrying_the_incident_stops_again_rather_than_hanging(small_budget):
    engine = small_budget
    key = engine.deploy((LOOPS / "script_cycle.bpmn").read_bytes()).key
    instance_id = engine.start(key, make_deal(engine), cause=TEST_CAUSE).id
    [first] = engine_incident_ids(engine, instance_id)
    engine.retry_incident(first, cause=TEST_CAUSE)
    assert status(engine, instance_id) == "incident"
    assert len(incidents(engine, instance_id)) == 2


def engine_incident_ids(engine, instance_id: int) -> list[int]:
    with engine.unit() as rt:
        return list(rt.session.scalars(select(Incident.id).where(Incident.instance_id == instance_id)))


def test_a_short_process_within_the_budget_completes(small_budget):
    engine = small_budget
    xml = (Bpmn("short").start().script("a", "x = 1").script("b", "y = x + 1").end()
           .chain("start", "a", "b", "end").xml())
    engine.deploy(xml)
    assert engine.start("short", make_deal(engine), cause=TEST_CAUSE).status == "completed"


def test_steps_outside_a_process_step_over_the_budget_refuse_the_transaction(database, clock):
    """Deferred work that keeps deferring (robots triggering each other) has no instance to put
    in incident: the transaction is refused (409 over the API) and nothing of it is written."""
    engine = demo_engine(database, clock, step_budget=20)

    def again(rt):
        rt.crm.notify(rt.crm.user("manager.north1"), "ping", cause=TEST_CAUSE)
        rt.defer(lambda: again(rt))

    with pytest.raises(StepBudgetExceeded), engine.unit() as rt:
        rt.defer(lambda: again(rt))
    with engine.unit() as rt:
        assert rt.session.scalar(select(func.count()).select_from(Notification)) == 0
        assert rt.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_a_huge_parallel_cardinality_is_refused_before_its_instances_are_made(small_budget):
    """All instances of a parallel multi-instance task are made in one step, so the cardinality
    itself is held to the step budget."""
    engine = small_budget
    xml = (LOOPS / "endless_loop_marker.bpmn").read_bytes().replace(
        b"<bpmn:standardLoopCharacteristics><bpmn:loopCondition>true</bpmn:loopCondition>"
        b"</bpmn:standardLoopCharacteristics>",
        b"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>100000000</bpmn:loopCardinality>"
        b"</bpmn:multiInstanceLoopCharacteristics>").replace(b"endless_loop_marker", b"wide")
    engine.deploy(xml)
    began = time.monotonic()
    instance_id = engine.start("wide", make_deal(engine), cause=TEST_CAUSE).id
    assert time.monotonic() - began < 10
    with engine.unit() as rt:
        errors = [h.detail["message"] for h in rt.session.scalars(
            select(HistoryEntry).where(HistoryEntry.instance_id == instance_id, HistoryEntry.outcome == "error"))]
    assert errors and "more than the 60 instances" in errors[0]
