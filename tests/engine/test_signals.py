"""A thrown signal is broadcast: it reaches the deal's other waiting instances and starts the
processes whose signal start event waits for it, for that deal (engine/collaboration.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import StartRefused, StepBudgetExceeded
from engine.models import MessageWait, ProcessInstance
from tests.support.world import TEST_CAUSE, make_deal

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_{key}"
                  targetNamespace="https://dealflow.dev/test">
  <bpmn:signal id="sig_arrived" name="stock.arrived"/>
  <bpmn:signal id="sig_back" name="stock.counted"/>"""


def process(key: str, first: str, last: str = '<bpmn:endEvent id="end"/>') -> str:
    return f"""{HEAD.format(key=key)}
  <bpmn:process id="{key}" isExecutable="true">
    {first}
    {last}
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def throwing(key: str, signal: str, start: str = "") -> str:
    """Throws `signal` at an intermediate throw event, then ends."""
    return f"""{HEAD.format(key=key)}
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start">{start}</bpmn:startEvent>
    <bpmn:intermediateThrowEvent id="throw"><bpmn:signalEventDefinition signalRef="{signal}"/>
    </bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="throw"/>
    <bpmn:sequenceFlow id="f2" sourceRef="throw" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def catching(key: str) -> str:
    """Waits at an intermediate signal catch event."""
    return f"""{HEAD.format(key=key)}
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="sig_arrived"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


THROWER = throwing("announce", "sig_arrived")
STARTED_BY_SIGNAL = process(
    "recount", '<bpmn:startEvent id="start"><bpmn:signalEventDefinition signalRef="sig_arrived"/></bpmn:startEvent>')


def status(engine, instance_id: int) -> str:
    with engine.unit() as rt:
        return rt.instance(instance_id).status


def instances(engine, key: str) -> list[ProcessInstance]:
    with engine.unit() as rt:
        rows = list(rt.session.scalars(select(ProcessInstance).where(ProcessInstance.key == key)))
        for row in rows:
            rt.session.expunge(row)
        return rows


def test_a_thrown_signal_reaches_the_deals_other_waiting_instances_and_not_another_deals(engine):
    engine.deploy(catching("shelf"))
    engine.deploy(THROWER)
    deal_id, other_id = make_deal(engine), make_deal(engine)
    first = engine.start("shelf", deal_id, cause=TEST_CAUSE).id
    second = engine.start("shelf", deal_id, cause=TEST_CAUSE).id
    elsewhere = engine.start("shelf", other_id, cause=TEST_CAUSE).id
    with engine.unit() as rt:
        assert rt.session.scalars(select(MessageWait.message).where(MessageWait.instance_id == first)).all() \
            == ["signal:stock.arrived"]

    thrower = engine.start("announce", deal_id, cause=TEST_CAUSE).id

    assert status(engine, thrower) == "completed"
    assert (status(engine, first), status(engine, second)) == ("completed", "completed")
    assert status(engine, elsewhere) == "running"
    with engine.unit() as rt:
        assert rt.session.scalar(select(func.count()).select_from(MessageWait)
                                 .where(MessageWait.instance_id.in_([first, second]))) == 0


def test_a_thrown_signal_starts_the_processes_with_a_signal_start_event_for_the_deal(engine):
    engine.deploy(STARTED_BY_SIGNAL)
    engine.deploy(THROWER)
    deal_id = make_deal(engine)

    with pytest.raises(StartRefused, match=r'starts on signal "stock\.arrived"'):
        engine.start("recount", deal_id, cause=TEST_CAUSE)  # started plainly it would wait forever
    thrower = engine.start("announce", deal_id, cause=TEST_CAUSE).id

    [started] = instances(engine, "recount")
    assert (started.deal_id, started.status) == (deal_id, "completed")
    assert started.started_by["kind"] == "process" and started.started_by["ref"] == str(thrower)


def test_a_signal_boundary_event_of_another_instance_interrupts_its_task(engine):
    engine.deploy(f"""{HEAD.format(key="packing")}
  <bpmn:process id="packing" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="pack" name="Pack"/>
    <bpmn:boundaryEvent id="stop" attachedToRef="pack"><bpmn:signalEventDefinition signalRef="sig_arrived"/>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="packed"/>
    <bpmn:endEvent id="stopped"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pack"/>
    <bpmn:sequenceFlow id="f2" sourceRef="pack" targetRef="packed"/>
    <bpmn:sequenceFlow id="f3" sourceRef="stop" targetRef="stopped"/>
  </bpmn:process>
</bpmn:definitions>""")
    engine.deploy(THROWER)
    deal_id = make_deal(engine)
    packing = engine.start("packing", deal_id, cause=TEST_CAUSE).id

    engine.start("announce", deal_id, cause=TEST_CAUSE)

    assert status(engine, packing) == "completed"
    with engine.unit() as rt:
        assert rt.active_elements(rt.instance(packing)) == []


def test_two_processes_signalling_each_other_forever_are_stopped_by_the_step_budget_and_write_nothing(engine):
    ping = throwing("ping", "sig_back", '<bpmn:signalEventDefinition signalRef="sig_arrived"/>')
    pong = throwing("pong", "sig_arrived", '<bpmn:signalEventDefinition signalRef="sig_back"/>')
    engine.deploy(ping)
    engine.deploy(pong)
    engine.deploy(THROWER)
    deal_id = make_deal(engine)

    with pytest.raises(StepBudgetExceeded):
        engine.start("announce", deal_id, cause=TEST_CAUSE)

    with engine.unit() as rt:
        assert rt.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_a_signal_end_event_throws_its_signal(engine):
    """Spiff 3.2 alone reads a signal end event as a plain end (engine/bpmn.py `_SignalEnds`)."""
    engine.deploy(catching("shelf"))
    engine.deploy(process("closing", '<bpmn:startEvent id="start"/>',
                          '<bpmn:endEvent id="end"><bpmn:signalEventDefinition signalRef="sig_arrived"/>'
                          '</bpmn:endEvent>'))
    deal_id = make_deal(engine)
    waiting = engine.start("shelf", deal_id, cause=TEST_CAUSE).id

    assert status(engine, engine.start("closing", deal_id, cause=TEST_CAUSE).id) == "completed"

    assert status(engine, waiting) == "completed"
