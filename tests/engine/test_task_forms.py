"""User-task forms: declared in the diagram, checked at deploy, carried by the CRM task, and the
answers checked on completion before they become the task's result and process variables."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.errors import InvalidInput
from crm.models import Task, TimelineEntry
from engine.errors import InvalidProcess
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
