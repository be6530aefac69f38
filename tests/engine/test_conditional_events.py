"""Conditional events wait until their dsl condition holds: re-evaluated after each step of the
instance and when a deal field the condition reads changes (before, Spiff evaluated it once)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.models import Task
from engine.errors import InvalidProcess
from engine.models import Job
from tests.support.world import TEST_CAUSE, make_deal

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="https://dealflow.dev/tests">\n')


def conditional(condition: str) -> str:
    return ('<bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">'
            f'{condition}</bpmn:condition></bpmn:conditionalEventDefinition>')


def catch_process(condition: str = "deal.vip == true") -> str:
    return (HEAD + '<bpmn:process id="wait_paid" isExecutable="true">'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:intermediateCatchEvent id="paid" name="Paid"><bpmn:incoming>f1</bpmn:incoming>'
            f'<bpmn:outgoing>f2</bpmn:outgoing>{conditional(condition)}</bpmn:intermediateCatchEvent>'
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="paid"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="paid" targetRef="end"/>'
            '</bpmn:process></bpmn:definitions>')


def boundary_process(interrupting: bool = True) -> str:
    return (HEAD + '<bpmn:process id="watch" isExecutable="true">'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:userTask id="work"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
            '</bpmn:userTask>'
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
            f'<bpmn:boundaryEvent id="too_big" attachedToRef="work" cancelActivity="{str(interrupting).lower()}">'
            f'<bpmn:outgoing>f3</bpmn:outgoing>{conditional("deal.amount > 1000")}</bpmn:boundaryEvent>'
            '<bpmn:scriptTask id="escalate"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>'
            '<bpmn:script>escalated = true</bpmn:script></bpmn:scriptTask>'
            '<bpmn:endEvent id="end2"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="too_big" targetRef="escalate"/>'
            '<bpmn:sequenceFlow id="f4" sourceRef="escalate" targetRef="end2"/>'
            '</bpmn:process></bpmn:definitions>')


def set_fields(engine, deal_id: int, **changes) -> None:
    with engine.unit() as rt:
        rt.crm.set_fields(rt.crm.deal(deal_id), changes, cause=TEST_CAUSE)


def status(engine, instance_id: int) -> str:
    with engine.unit() as rt:
        return rt.instance(instance_id).status


def test_an_intermediate_conditional_event_waits_until_the_deal_field_makes_it_true(engine):
    engine.deploy(catch_process())
    deal_id = make_deal(engine, fields={"vip": False})
    instance_id = engine.start("wait_paid", deal_id, cause=TEST_CAUSE).id
    assert status(engine, instance_id) == "running"
    with engine.unit() as rt:
        [job] = rt.session.scalars(select(Job).where(Job.instance_id == instance_id, Job.kind == "condition"))
        assert (job.status, job.element_id, job.payload["paths"]) == ("waiting", "paid", ["deal.vip"])
    set_fields(engine, deal_id, title="Another title")  # a field the condition does not read
    assert status(engine, instance_id) == "running"
    set_fields(engine, deal_id, vip=True)
    assert status(engine, instance_id) == "completed"
    with engine.unit() as rt:
        assert {j.status for j in rt.session.scalars(select(Job).where(Job.instance_id == instance_id))} \
            == {"cancelled"}


def test_a_condition_already_true_passes_at_once(engine):
    engine.deploy(catch_process())
    instance_id = engine.start("wait_paid", make_deal(engine, fields={"vip": True}), cause=TEST_CAUSE).id
    assert status(engine, instance_id) == "completed"


@pytest.mark.parametrize("interrupting", [True, False])
def test_a_conditional_boundary_event_fires_when_the_deal_changes(engine, interrupting):
    engine.deploy(boundary_process(interrupting))
    deal_id = make_deal(engine, amount=500)
    instance_id = engine.start("watch", deal_id, cause=TEST_CAUSE).id
    set_fields(engine, deal_id, amount=5000)
    with engine.unit() as rt:
        open_tasks = rt.session.scalars(select(Task).where(Task.process_instance_id == instance_id,
                                                           Task.status == "open")).all()
        instance = rt.instance(instance_id)
        assert (instance.status, len(open_tasks)) == (("completed", 0) if interrupting else ("running", 1))


def test_a_conditional_event_subprocess_starts_when_its_condition_holds(engine):
    xml = (HEAD + '<bpmn:process id="evc" isExecutable="true">'
           '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
           '<bpmn:userTask id="work"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
            '</bpmn:userTask>'
           '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
           '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>'
           '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>'
           '<bpmn:subProcess id="lost" triggeredByEvent="true">'
           f'<bpmn:startEvent id="lost_start"><bpmn:outgoing>s1</bpmn:outgoing>{conditional("deal.vip")}'
           '</bpmn:startEvent><bpmn:endEvent id="lost_end"><bpmn:incoming>s1</bpmn:incoming></bpmn:endEvent>'
           '<bpmn:sequenceFlow id="s1" sourceRef="lost_start" targetRef="lost_end"/>'
           '</bpmn:subProcess></bpmn:process></bpmn:definitions>')
    engine.deploy(xml)
    deal_id = make_deal(engine)
    instance_id = engine.start("evc", deal_id, cause=TEST_CAUSE).id
    assert status(engine, instance_id) == "running"
    set_fields(engine, deal_id, vip=True)
    assert status(engine, instance_id) == "completed"


def test_a_condition_that_does_not_parse_is_refused_naming_the_event(engine):
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(catch_process("deal.vip =="))
    assert [d["element"] for d in refused.value.details] == ["paid"]
    assert refused.value.details[0]["message"].startswith("conditional event condition: ")
