"""User-task forms: declared in the diagram, checked at deploy, carried by the CRM task, and the
answers checked on completion before they become the task's result and process variables."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.errors import InvalidInput
from crm.models import Task, TimelineEntry
from engine.errors import InvalidProcess
from engine.models import HistoryEntry
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, make_deal, tasks_of

FORM = (
    {"name": "answer", "label": "Did the client agree?", "type": "enum", "options": "Yes, No"},
    {"name": "amount_collected", "label": "Amount collected", "type": "money"},
    {"name": "note", "type": "text", "required": "false"},
    {"name": "courier", "type": "user", "required": "false"},
    {"name": "signed", "type": "bool"},
)


def asking(form=FORM) -> str:
    return (Bpmn("asking").start().user("ask", form=form, title='"Ask the client"').xor("agreed", default="no")
            .service("yes", "move_to", stage='"in_processing"').end("end_yes").end("end_no")
            .flow("start", "ask").flow("ask", "agreed")
            .flow("agreed", "yes", 'answer == "Yes" and amount_collected > 100').flow("agreed", "end_no", flow_id="no")
            .flow("yes", "end_yes").xml())


def open_task(engine, deal_id: int) -> Task:
    with engine.unit() as rt:
        [task] = [t for t in tasks_of(rt, deal_id) if t.status == "open"]
        rt.session.expunge(task)
        return task


def test_the_crm_task_carries_the_declared_form(engine):
    engine.deploy(asking())
    deal_id = make_deal(engine)
    engine.start("asking", deal_id)
    task = open_task(engine, deal_id)
    assert task.data["form"] == [
        {"name": "answer", "label": "Did the client agree?", "type": "enum", "required": True,
         "options": ["Yes", "No"]},
        {"name": "amount_collected", "label": "Amount collected", "type": "money", "required": True, "options": []},
        {"name": "note", "label": "note", "type": "text", "required": False, "options": []},
        {"name": "courier", "label": "courier", "type": "user", "required": False, "options": []},
        {"name": "signed", "label": "signed", "type": "bool", "required": True, "options": []},
    ]


def test_answers_become_the_result_and_variables_a_gateway_reads(engine):
    engine.deploy(asking())
    deal_id = make_deal(engine)
    instance = engine.start("asking", deal_id)
    task = open_task(engine, deal_id)
    with engine.unit() as rt:
        rt.crm.complete_task(rt.crm.task(task.id), cause=TEST_CAUSE, result={
            "answer": "Yes", "amount_collected": "1 500,50", "courier": "driver1", "signed": True})
    with engine.unit() as rt:
        done = rt.crm.task(task.id)
        driver = rt.crm.user("driver1")
        assert done.data["result"] == {"answer": "Yes", "amount_collected": 1500.5, "note": None,
                                       "courier": driver.id, "signed": True}
        assert rt.crm.deal(deal_id).stage.code == "in_processing"
        _, variables = rt.inspect(rt.instance(instance.id))
        assert variables["answer"] == "Yes" and variables["amount_collected"] == 1500.5
        assert variables["task_result"]["answer"] == "Yes"


def test_a_no_takes_the_other_way(engine):
    engine.deploy(asking())
    deal_id = make_deal(engine)
    engine.start("asking", deal_id)
    task = open_task(engine, deal_id)
    with engine.unit() as rt:
        rt.crm.complete_task(rt.crm.task(task.id), cause=TEST_CAUSE,
                             result={"answer": "No", "amount_collected": 0, "signed": False})
    with engine.unit() as rt:
        assert rt.crm.deal(deal_id).stage.code == "new"


def test_bad_answers_are_refused_field_by_field_and_nothing_changes(engine):
    engine.deploy(asking())
    deal_id = make_deal(engine)
    engine.start("asking", deal_id)
    task = open_task(engine, deal_id)
    with engine.unit() as rt:
        entries = rt.session.scalar(select(func.count(TimelineEntry.id)))
    with pytest.raises(InvalidInput) as refused, engine.unit() as rt:
        rt.crm.complete_task(rt.crm.task(task.id), cause=TEST_CAUSE, result={
            "answer": "Maybe", "amount_collected": "lots", "courier": "nobody", "extra": 1})
    assert refused.value.code == "invalid_task_result"
    assert set(refused.value.fields) == {"answer", "amount_collected", "courier", "extra"}
    assert "Yes, No" in refused.value.fields["answer"]
    with engine.unit() as rt:
        assert rt.crm.task(task.id).status == "open"
        assert rt.session.scalar(select(func.count(TimelineEntry.id))) == entries
    with pytest.raises(InvalidInput) as missing, engine.unit() as rt:
        rt.crm.complete_task(rt.crm.task(task.id), cause=TEST_CAUSE, result={})
    assert missing.value.fields == {"answer": "is required", "amount_collected": "is required"}


@pytest.mark.parametrize(("field", "problem"), [
    ({"name": "x", "type": "colour"}, "unknown type 'colour'"),
    ({"name": "two words", "type": "string"}, "must be a word"),
    ({"name": "choice", "type": "enum"}, "needs its options"),
    ({"name": "task_result", "type": "string"}, "reserved"),
])
def test_bad_form_fields_are_refused_at_deploy_naming_the_element(engine, field, problem):
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(asking(form=(field,)))
    [detail] = refused.value.details
    assert detail["element"] == "ask" and problem in detail["message"]


def test_a_field_declared_twice_is_refused(engine):
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(asking(form=({"name": "a"}, {"name": "a", "type": "number"})))
    assert refused.value.details == [{"element": "ask", "message": "form field a is declared twice"}]


def test_a_task_without_a_form_takes_any_result_as_before(engine):
    engine.deploy(Bpmn("plain").start().user("ask", title='"Plain"').end().chain("start", "ask", "end").xml())
    deal_id = make_deal(engine)
    instance = engine.start("plain", deal_id)
    task = open_task(engine, deal_id)
    assert "form" not in task.data
    with engine.unit() as rt:
        rt.crm.complete_task(rt.crm.task(task.id), cause=TEST_CAUSE, result={"anything": 1})
    with engine.unit() as rt:
        assert rt.instance(instance.id).status == "completed"


def test_a_task_without_a_form_gives_its_answers_as_variables_a_gateway_reads(engine):
    proc = (Bpmn("asking_plain").start().user("ask", title='"Ask"').xor("agreed", default="to_no")
            .script("yes", "went = \"yes\"").script("no", "went = \"no\"").end("end_yes").end("end_no")
            .flow("start", "ask").flow("ask", "agreed").flow("agreed", "yes", 'answer == "Yes"')
            .flow("agreed", "no", flow_id="to_no").flow("yes", "end_yes").flow("no", "end_no"))
    engine.deploy(proc.xml())
    deal_id = make_deal(engine)
    instance = engine.start("asking_plain", deal_id)
    task = open_task(engine, deal_id)

    with engine.unit() as rt:
        rt.crm.complete_task(rt.crm.task(task.id), cause=TEST_CAUSE,
                             result={"answer": "Yes", "task_result": "ignored", "not a name": 1})

    with engine.unit() as rt:
        variables = rt.inspect(rt.instance(instance.id))[1]
    assert variables["went"] == "yes" and variables["answer"] == "Yes"
    assert variables["task_result"] == {"answer": "Yes", "task_result": "ignored", "not a name": 1}
    assert "not a name" not in variables


CAMUNDA_FORM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="https://dealflow.dev/t">
  <bpmn:process id="camunda_form" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="ask" name="Ask the client">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="answer" label="Agreed?" type="enum">
            <camunda:value id="Yes" name="Yes"/><camunda:value id="No" name="No"/>
            <camunda:validation><camunda:constraint name="required"/></camunda:validation>
          </camunda:formField>
          <camunda:formField id="visits" label="Visits" type="long"/>
          <camunda:formField id="note" label="Note" type="textarea"/>
          <camunda:formField id="signed" label="Signed" type="boolean"/>
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="agreed" default="to_no"/>
    <bpmn:endEvent id="end_yes"/><bpmn:endEvent id="end_no"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>
    <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="agreed"/>
    <bpmn:sequenceFlow id="to_yes" sourceRef="agreed" targetRef="end_yes">
      <bpmn:conditionExpression>answer == "Yes" and visits == 3</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_no" sourceRef="agreed" targetRef="end_no"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_camunda_form_is_read_as_the_tasks_form(engine):
    engine.deploy(CAMUNDA_FORM)
    deal_id = make_deal(engine)
    instance = engine.start("camunda_form", deal_id)
    task = open_task(engine, deal_id)
    assert [(f["name"], f["type"], f["required"], f["options"]) for f in task.data["form"]] == [
        ("answer", "enum", True, ["Yes", "No"]), ("visits", "number", False, []), ("note", "text", False, []),
        ("signed", "bool", False, [])]

    with engine.unit() as rt, pytest.raises(InvalidInput) as refused:
        rt.crm.complete_task(rt.crm.task(task.id), cause=TEST_CAUSE, result={"visits": 3})
    assert refused.value.fields == {"answer": "is required"}
    with engine.unit() as rt:
        rt.crm.complete_task(rt.crm.task(task.id), cause=TEST_CAUSE, result={"answer": "Yes", "visits": "3"})

    with engine.unit() as rt:
        assert rt.instance(instance.id).status == "completed"
        ends = {h.element_id for h in rt.session.scalars(select(HistoryEntry).where(
            HistoryEntry.instance_id == instance.id, HistoryEntry.outcome == "completed"))}
    assert "end_yes" in ends
