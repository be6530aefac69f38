"""Event subprocesses (message, timer, error, escalation; interrupting and not) listen while their
scope runs, with dealflow's message waits and timer jobs. Before, Spiff never interrupted the
scope, never heard a message for one, and made a process wait for a timer handler to end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.models import Task
from engine.errors import InvalidProcess, StartRefused
from engine.models import HistoryEntry, Job, MessageWait
from engine.virtual_time import advance
from tests.support.world import TEST_CAUSE, make_deal

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'id="defs" targetNamespace="https://dealflow.dev/tests">'
        '<bpmn:message id="m_cancel" name="customer.cancelled"/><bpmn:error id="err_stock" errorCode="no_stock"/>'
        '<bpmn:escalation id="esc_late" escalationCode="late"/>\n')

MESSAGE = '<bpmn:messageEventDefinition messageRef="m_cancel"/>'
TIMER = '<bpmn:timerEventDefinition><bpmn:timeDuration>P2D</bpmn:timeDuration></bpmn:timerEventDefinition>'
ERROR = '<bpmn:errorEventDefinition errorRef="err_stock"/>'
ESCALATION = '<bpmn:escalationEventDefinition escalationRef="esc_late"/>'


def process(trigger: str, *, interrupting: bool = True, body: str | None = None, key: str = "evs") -> str:
    """start -> work (a CRM task) -> end, with an event subprocess: on the trigger, `react`."""
    body = body or ('<bpmn:userTask id="work" name="Prepare the order"><bpmn:incoming>f1</bpmn:incoming>'
                    '<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>')
    return (HEAD + f'<bpmn:process id="{key}" isExecutable="true">'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            f'{body}<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>'
            '<bpmn:subProcess id="on_event" name="React" triggeredByEvent="true">'
            f'<bpmn:startEvent id="sub_start" name="Event" isInterrupting="{str(interrupting).lower()}">'
            f'<bpmn:outgoing>s1</bpmn:outgoing>{trigger}</bpmn:startEvent>'
            '<bpmn:scriptTask id="react"><bpmn:incoming>s1</bpmn:incoming><bpmn:outgoing>s2</bpmn:outgoing>'
            '<bpmn:script>reacted = true</bpmn:script></bpmn:scriptTask>'
            '<bpmn:endEvent id="sub_end"><bpmn:incoming>s2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="react"/>'
            '<bpmn:sequenceFlow id="s2" sourceRef="react" targetRef="sub_end"/>'
            '</bpmn:subProcess></bpmn:process></bpmn:definitions>')


def state(engine, instance_id: int) -> tuple[str, list[str], int]:
    """The status, the open CRM tasks' elements and how often `react` ran."""
    with engine.unit() as rt:
        instance = rt.instance(instance_id)
        open_tasks = [t.element_id for t in rt.session.scalars(select(Task).where(
            Task.process_instance_id == instance_id, Task.status == "open"))]
        reacted = len(rt.session.scalars(select(HistoryEntry).where(
            HistoryEntry.instance_id == instance_id, HistoryEntry.element_id == "react",
            HistoryEntry.outcome == "completed")).all())
        return instance.status, open_tasks, reacted


def complete_work(engine, instance_id: int) -> None:
    with engine.unit() as rt:
        task = rt.session.scalars(select(Task).where(Task.process_instance_id == instance_id,
                                                     Task.status == "open")).one()
        rt.crm.complete_task(task, cause=TEST_CAUSE)


def test_an_interrupting_message_event_subprocess_stops_the_work_and_ends_the_process(engine):
    engine.deploy(process(MESSAGE))
    deal_id = make_deal(engine)
    instance_id = engine.start("evs", deal_id, cause=TEST_CAUSE).id
    with engine.unit() as rt:
        assert [w.message for w in rt.session.scalars(select(MessageWait).where(
            MessageWait.instance_id == instance_id))] == ["customer.cancelled"]
    assert state(engine, instance_id) == ("running", ["work"], 0)
    assert engine.send_message(deal_id, "customer.cancelled", {}, cause=TEST_CAUSE) == [instance_id]
    assert state(engine, instance_id) == ("completed", [], 1)  # the CRM task was closed with the work


def test_a_non_interrupting_message_event_subprocess_runs_each_time_beside_the_work(engine):
    engine.deploy(process(MESSAGE, interrupting=False))
    deal_id = make_deal(engine)
    instance_id = engine.start("evs", deal_id, cause=TEST_CAUSE).id
    engine.send_message(deal_id, "customer.cancelled", {}, cause=TEST_CAUSE)
    engine.send_message(deal_id, "customer.cancelled", {}, cause=TEST_CAUSE)
    assert state(engine, instance_id) == ("running", ["work"], 2)
    complete_work(engine, instance_id)
    assert state(engine, instance_id) == ("completed", [], 2)
    with engine.unit() as rt:  # nothing listens once the scope has ended
        assert rt.session.scalars(select(MessageWait).where(MessageWait.instance_id == instance_id)).all() == []


def test_an_interrupting_timer_event_subprocess_is_a_timer_job_and_stops_the_work(engine, clock):
    engine.deploy(process(TIMER))
    instance_id = engine.start("evs", make_deal(engine), cause=TEST_CAUSE).id
    with engine.unit() as rt:
        [job] = rt.session.scalars(select(Job).where(Job.instance_id == instance_id, Job.kind == "timer"))
        assert job.due_at == clock.now() + timedelta(days=2)
    advance(engine, clock, timedelta(days=3))
    assert state(engine, instance_id) == ("completed", [], 1)


def test_a_timer_event_subprocess_does_not_hold_the_process_open_once_the_work_is_done(engine, clock):
    engine.deploy(process(TIMER, interrupting=False))
    instance_id = engine.start("evs", make_deal(engine), cause=TEST_CAUSE).id
    complete_work(engine, instance_id)
    assert state(engine, instance_id) == ("completed", [], 0)
    with engine.unit() as rt:
        assert {j.status for j in rt.session.scalars(select(Job).where(Job.instance_id == instance_id))} \
            == {"cancelled"}


def test_an_error_event_subprocess_catches_an_error_the_work_throws(engine):
    body = ('<bpmn:scriptTask id="work"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
            '<bpmn:script>tried = true</bpmn:script></bpmn:scriptTask>')
    xml = process(ERROR, body=body).replace(
        '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>',
        '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming>'
        '<bpmn:errorEventDefinition errorRef="err_stock"/></bpmn:endEvent>')
    engine.deploy(xml)
    instance_id = engine.start("evs", make_deal(engine), cause=TEST_CAUSE).id
    assert state(engine, instance_id) == ("completed", [], 1)


def test_a_non_interrupting_escalation_event_subprocess_runs_and_the_work_goes_on(engine):
    body = ('<bpmn:intermediateThrowEvent id="late"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f1b</bpmn:outgoing>'
            '<bpmn:escalationEventDefinition escalationRef="esc_late"/></bpmn:intermediateThrowEvent>'
            '<bpmn:sequenceFlow id="f1b" sourceRef="late" targetRef="work"/>'
            '<bpmn:userTask id="work"><bpmn:incoming>f1b</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
            '</bpmn:userTask>')
    xml = process(ESCALATION, interrupting=False, body=body).replace(
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>',
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="late"/>')
    engine.deploy(xml)
    instance_id = engine.start("evs", make_deal(engine), cause=TEST_CAUSE).id
    assert state(engine, instance_id) == ("running", ["work"], 1)
    complete_work(engine, instance_id)
    assert state(engine, instance_id) == ("completed", [], 1)


def test_an_event_subprocess_inside_a_subprocess_listens_only_while_it_runs(engine):
    inner = process(MESSAGE).split('<bpmn:process id="evs" isExecutable="true">')[1].split("</bpmn:process>")[0]
    xml = (HEAD + '<bpmn:process id="outer" isExecutable="true">'
           '<bpmn:startEvent id="o_start"><bpmn:outgoing>o1</bpmn:outgoing></bpmn:startEvent>'
           f'<bpmn:subProcess id="stage"><bpmn:incoming>o1</bpmn:incoming><bpmn:outgoing>o2</bpmn:outgoing>{inner}'
           '</bpmn:subProcess>'
           '<bpmn:userTask id="after"><bpmn:incoming>o2</bpmn:incoming><bpmn:outgoing>o3</bpmn:outgoing>'
           '</bpmn:userTask>'
           '<bpmn:endEvent id="o_end"><bpmn:incoming>o3</bpmn:incoming></bpmn:endEvent>'
           '<bpmn:sequenceFlow id="o1" sourceRef="o_start" targetRef="stage"/>'
           '<bpmn:sequenceFlow id="o2" sourceRef="stage" targetRef="after"/>'
           '<bpmn:sequenceFlow id="o3" sourceRef="after" targetRef="o_end"/>'
           '</bpmn:process></bpmn:definitions>')
    engine.deploy(xml)
    deal_id = make_deal(engine)
    instance_id = engine.start("outer", deal_id, cause=TEST_CAUSE).id
    engine.send_message(deal_id, "customer.cancelled", {}, cause=TEST_CAUSE)
    assert state(engine, instance_id) == ("running", ["after"], 1)  # the stage was cut short, the process goes on
    with engine.unit() as rt:
        assert rt.session.scalars(select(MessageWait).where(MessageWait.instance_id == instance_id)).all() == []


@pytest.mark.parametrize(("trigger", "message"), [
    ("", "the start event of an event subprocess needs one trigger"),
    ('<bpmn:compensateEventDefinition/>', "a compensation start event is not supported"),
    ('<bpmn:cancelEventDefinition/>', "an event subprocess started by a cancelEventDefinition is not supported"),
])
def test_an_event_subprocess_that_cannot_run_is_refused_naming_its_start_event(engine, trigger, message):
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(process(trigger))
    assert [(d["element"], d["message"].startswith(message)) for d in refused.value.details] == [("sub_start", True)]


def test_a_process_started_by_a_message_keeps_its_start_and_its_event_subprocess_listens_after_it(engine):
    xml = process(MESSAGE).replace(
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>',
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing>'
        '<bpmn:messageEventDefinition messageRef="m_order"/></bpmn:startEvent>').replace(
        '<bpmn:message id="m_cancel"', '<bpmn:message id="m_order" name="order.paid"/><bpmn:message id="m_cancel"')
    version = engine.deploy(xml)
    assert version.start_messages == ["order.paid"]
    deal_id = make_deal(engine)
    with pytest.raises(StartRefused, match=r'starts on message "order\.paid"'):
        engine.start("evs", deal_id, cause=TEST_CAUSE)  # it would wait at its start forever
    with engine.unit() as rt:
        # as the event intake starts it for a CRM event (triggers/intake.py)
        instance_id = rt.start("evs", deal_id, {}, cause=TEST_CAUSE, on_event="order.paid").id
        rt.send_message(deal_id, "order.paid", {}, cause=TEST_CAUSE)
    assert state(engine, instance_id) == ("running", ["work"], 0)
    engine.send_message(deal_id, "customer.cancelled", {}, cause=TEST_CAUSE)
    assert state(engine, instance_id) == ("completed", [], 1)


def test_a_signal_thrown_by_another_instance_of_the_deal_starts_the_event_subprocess(engine):
    from tests.engine.test_signals import THROWER

    engine.deploy(process('<bpmn:signalEventDefinition signalRef="sig_x"/>').replace(
        '<bpmn:escalation id="esc_late"',
        '<bpmn:signal id="sig_x" name="stock.arrived"/><bpmn:escalation id="esc_late"'))
    engine.deploy(THROWER)
    deal_id, other_id = make_deal(engine), make_deal(engine)
    listening = engine.start("evs", deal_id, cause=TEST_CAUSE).id
    elsewhere = engine.start("evs", other_id, cause=TEST_CAUSE).id

    engine.start("announce", deal_id, cause=TEST_CAUSE)

    assert state(engine, listening) == ("completed", [], 1)
    assert state(engine, elsewhere) == ("running", ["work"], 0)
