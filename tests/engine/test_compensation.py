"""Compensation runs as Camunda 8 runs it: a compensation throw or end event runs the handlers
of its level's completed activities, the last completed first (with an activityRef, only that
activity's). Before, Spiff passed a compensation throw as a plain event (the handlers never
ran), so dealflow refused every compensation element at deploy."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from sqlalchemy import select

from crm.models import Task
from engine.errors import InvalidProcess
from engine.models import HistoryEntry
from tests.support.world import TEST_CAUSE, make_deal

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="x">\n')


def script(node_id: str, text: str, extra: str = "") -> str:
    return (f'<bpmn:scriptTask id="{node_id}" name="{node_id}"{extra}><bpmn:script>{text}</bpmn:script>'
            "</bpmn:scriptTask>")


def undoable(activity: str, handler: str) -> str:
    """A compensation boundary on `activity` and its association to `handler` (which the schema
    wants after the flow elements: `artifacts` moves it to the end of the process)."""
    return (f'<bpmn:boundaryEvent id="{activity}_undo" attachedToRef="{activity}">'
            '<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>'
            f'<!--A--><bpmn:association id="{activity}_assoc" associationDirection="One" '
            f'sourceRef="{activity}_undo" targetRef="{handler}"/><!--/A-->')


def artifacts(xml: str) -> str:
    """The associations moved after every flow element, as the BPMN schema orders them."""
    found = re.findall(r"<!--A-->(.*?)<!--/A-->", xml)
    xml = re.sub(r"<!--A-->.*?<!--/A-->", "", xml)
    return xml.replace("</bpmn:process>", "".join(found) + "</bpmn:process>", 1)


def chain(*ids: str) -> str:
    return "".join(f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}"/>'
                   for a, b in pairwise(ids))


FOR_COMP = ' isForCompensation="true"'
THROW = '<bpmn:intermediateThrowEvent id="compensate" name="Undo">{d}</bpmn:intermediateThrowEvent>'
COMPENSATE = '<bpmn:compensateEventDefinition/>'


def booking(*, throw: str = THROW.format(d=COMPENSATE), refund: str | None = None, fail: bool = True,
            failure: str = "charged") -> str:
    """book -> charge -> (fail?) -> compensate -> end; book undone by cancel_booking, charge by refund."""
    refund = refund or script("refund", "refunded = true", FOR_COMP)
    after = ("<bpmn:exclusiveGateway id=\"failed\" default=\"f_failed_end\"/>"
             '<bpmn:sequenceFlow id="f_failed_compensate" sourceRef="failed" targetRef="compensate">'
             f'<bpmn:conditionExpression>{failure}</bpmn:conditionExpression></bpmn:sequenceFlow>'
             '<bpmn:sequenceFlow id="f_failed_end" sourceRef="failed" targetRef="end"/>') if fail else ""
    return (HEAD + '<bpmn:process id="comp" isExecutable="true"><bpmn:startEvent id="start"/>'
            + script("book", "booked = true") + script("charge", "charged = true")
            + script("cancel_booking", "booked = false", FOR_COMP) + refund
            + undoable("book", "cancel_booking") + undoable("charge", "refund") + throw
            + '<bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>'
            + (chain("start", "book", "charge", "failed") + after + chain("compensate", "end2") if fail
               else chain("start", "book", "charge", "compensate", "end2"))
            + "</bpmn:process></bpmn:definitions>")


def deploy(engine, xml: str) -> None:
    engine.deploy(artifacts(xml))


def completed(engine, instance_id: int) -> list[str]:
    with engine.unit() as rt:
        return [h.element_id for h in rt.session.scalars(select(HistoryEntry).where(
            HistoryEntry.instance_id == instance_id, HistoryEntry.outcome == "completed").order_by(HistoryEntry.id))
            if h.element_id in {"book", "charge", "cancel_booking", "refund", "compensate", "end", "end2"}]



def test_a_compensation_throw_undoes_the_completed_activities_last_first(engine):
    deploy(engine, booking())
    instance_id = engine.start("comp", make_deal(engine), cause=TEST_CAUSE).id
    assert completed(engine, instance_id) == ["book", "charge", "refund", "cancel_booking", "compensate", "end2"]
    with engine.unit() as rt:
        assert rt.instance(instance_id).status == "completed"


def test_no_handler_runs_when_the_path_does_not_compensate(engine):
    deploy(engine, booking(failure="charged == false"))
    instance_id = engine.start("comp", make_deal(engine), cause=TEST_CAUSE).id
    assert completed(engine, instance_id) == ["book", "charge", "end"]


def test_an_activity_that_did_not_complete_is_not_undone(engine):
    """charge is a CRM task still open when a message-free path compensates: drawn here as book,
    then a parallel split into compensate and a charge that waits; only book is undone."""
    xml = (HEAD + '<bpmn:process id="comp" isExecutable="true"><bpmn:startEvent id="start"/>'
           + script("book", "booked = true") + '<bpmn:userTask id="charge" name="Charge"/>'
           + script("cancel_booking", "booked = false", FOR_COMP) + script("refund", "refunded = true", FOR_COMP)
           + undoable("book", "cancel_booking") + undoable("charge", "refund") + THROW.format(d=COMPENSATE)
           + '<bpmn:parallelGateway id="split"/><bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>'
           + chain("start", "book", "split", "compensate", "end2") + chain("split", "charge", "end")
           + "</bpmn:process></bpmn:definitions>")
    deploy(engine, xml)
    instance_id = engine.start("comp", make_deal(engine), cause=TEST_CAUSE).id
    assert completed(engine, instance_id) == ["book", "cancel_booking", "compensate", "end2"]
    with engine.unit() as rt:
        task = rt.session.scalars(select(Task).where(Task.process_instance_id == instance_id,
                                                     Task.status == "open")).one()
        assert task.element_id == "charge"
        rt.crm.complete_task(task, cause=TEST_CAUSE)
    assert completed(engine, instance_id)[-1] == "end"  # charge completed after the throw: not undone
    assert "refund" not in completed(engine, instance_id)


def test_an_activity_ref_throw_undoes_only_that_activity(engine):
    throw = THROW.format(d='<bpmn:compensateEventDefinition activityRef="book"/>')
    xml = booking(throw=throw).replace("<bpmn:endEvent id=\"end2\"/>", "")
    xml = xml.replace('<bpmn:boundaryEvent id="charge_undo"', '<bpmn:boundaryEvent id="charge_undo"')
    xml = xml.replace('id="compensate" name="Undo">', 'id="compensate" name="Undo">')
    # charge's handler needs a throw of its own level: an end event compensating charge only
    xml = xml.replace('<bpmn:endEvent id="end"/>', '<bpmn:endEvent id="end"/><bpmn:endEvent id="end2">'
                      '<bpmn:compensateEventDefinition activityRef="charge"/></bpmn:endEvent>')
    deploy(engine, xml)
    instance_id = engine.start("comp", make_deal(engine), cause=TEST_CAUSE).id
    assert completed(engine, instance_id) == ["book", "charge", "cancel_booking", "compensate", "refund", "end2"]


def test_a_compensation_end_event_undoes_and_ends(engine):
    xml = booking(fail=False, throw='<bpmn:endEvent id="compensate">' + COMPENSATE + "</bpmn:endEvent>")
    xml = xml.replace('<bpmn:sequenceFlow id="f_compensate_end2" sourceRef="compensate" targetRef="end2"/>', "")
    deploy(engine, xml)
    instance_id = engine.start("comp", make_deal(engine), cause=TEST_CAUSE).id
    assert completed(engine, instance_id) == ["book", "charge", "refund", "cancel_booking", "compensate"]
    with engine.unit() as rt:
        assert rt.instance(instance_id).status == "completed"


def test_a_user_task_handler_is_a_crm_task_the_throw_waits_for(engine):
    deploy(engine, booking(refund='<bpmn:userTask id="refund" name="Refund the customer" isForCompensation="true"/>'))
    instance_id = engine.start("comp", make_deal(engine), cause=TEST_CAUSE).id
    assert completed(engine, instance_id) == ["book", "charge"]
    with engine.unit() as rt:
        task = rt.session.scalars(select(Task).where(Task.process_instance_id == instance_id,
                                                     Task.status == "open")).one()
        assert task.element_id == "refund"
        rt.crm.complete_task(task, cause=TEST_CAUSE)
    assert completed(engine, instance_id) == ["book", "charge", "refund", "cancel_booking", "compensate", "end2"]


def test_a_service_task_handler_runs_its_action(engine):
    refund = ('<bpmn:serviceTask id="refund" name="Refund" isForCompensation="true"><bpmn:extensionElements>'
              '<spiffworkflow:serviceTaskOperator id="notify" resultVariable="refund_result">'
              '<spiffworkflow:parameters><spiffworkflow:parameter id="text" type="any" value="&quot;refunded&quot;"/>'
              '</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>'
              '</bpmn:serviceTask>')
    deploy(engine, booking(refund=refund))
    instance_id = engine.start("comp", make_deal(engine), cause=TEST_CAUSE).id
    assert completed(engine, instance_id) == ["book", "charge", "refund", "cancel_booking", "compensate", "end2"]


@pytest.mark.parametrize(("xml", "element", "start"), [
    (booking().replace(undoable("book", "cancel_booking"), ""), "cancel_booking",
     "a compensation handler (isForCompensation) needs an association"),
    (booking().replace('targetRef="cancel_booking"/>', 'targetRef="charge"/>'), "book_undo",
     "a compensation boundary event needs exactly one compensation handler"),
    (booking(throw=THROW.format(d='<bpmn:compensateEventDefinition activityRef="nowhere"/>')), "compensate",
     "the activityRef 'nowhere' is not on the same level"),
    (booking().replace(THROW.format(d=COMPENSATE), THROW.format(d="")), "book_undo",
     "no compensation throw or end event on this level compensates the activity 'book'"),
    (booking().replace("</bpmn:process>", '<bpmn:subProcess id="on_comp" triggeredByEvent="true">'
                       '<bpmn:startEvent id="comp_start"><bpmn:compensateEventDefinition/></bpmn:startEvent>'
                       "</bpmn:subProcess></bpmn:process>"), "comp_start",
     "a compensation start event is not supported (dealflow runs no compensation event subprocess)"),
])
def test_compensation_that_cannot_run_is_refused_by_element(engine, xml, element, start):
    with pytest.raises(InvalidProcess) as refused:
        deploy(engine, xml)
    details = {d["element"]: d["message"] for d in refused.value.details}
    assert element in details
    assert details[element].startswith(start)
    assert all(d.get("line") for d in refused.value.details)
    assert str(refused.value).startswith("compensation that cannot run: ")


def test_a_condition_written_like_a_made_one_is_refused_as_dsl(engine):
    xml = booking().replace("<bpmn:conditionExpression>charged</bpmn:conditionExpression>",
                            '<bpmn:conditionExpression xmlns:dealflow="https://dealflow.dev/schema/bpmn" '
                            'dealflow:compensation="next">dealflow-compensation:{"next": "book", "of": {}}'
                            "</bpmn:conditionExpression>")
    with pytest.raises(InvalidProcess) as refused:
        deploy(engine, xml)
    assert [d["element"] for d in refused.value.details] == ["f_failed_compensate"]


def test_a_throw_inside_a_subprocess_undoes_that_subprocess_s_activities(engine):
    inner = booking(fail=False).split('<bpmn:process id="comp" isExecutable="true">', 1)[1]
    inner = inner.split("</bpmn:process>", 1)[0]
    inner = artifacts("<bpmn:process>" + inner + "</bpmn:process>")[len("<bpmn:process>"):-len("</bpmn:process>")]
    xml = (HEAD + '<bpmn:process id="comp" isExecutable="true"><bpmn:startEvent id="outer_start"/>'
           f'<bpmn:subProcess id="trip" name="Trip">{inner}</bpmn:subProcess><bpmn:endEvent id="outer_end"/>'
           + chain("outer_start", "trip", "outer_end") + "</bpmn:process></bpmn:definitions>")
    xml = xml.replace('<bpmn:endEvent id="end"/>', "")
    deploy(engine, xml)
    instance_id = engine.start("comp", make_deal(engine), cause=TEST_CAUSE).id
    assert completed(engine, instance_id) == ["book", "charge", "refund", "cancel_booking", "compensate", "end2"]
    with engine.unit() as rt:
        assert rt.instance(instance_id).status == "completed"


def test_an_activity_two_throws_compensate_is_refused(engine):
    xml = booking().replace('<bpmn:endEvent id="end"/>',
                            '<bpmn:endEvent id="end">' + COMPENSATE + "</bpmn:endEvent>")
    with pytest.raises(InvalidProcess) as refused:
        deploy(engine, xml)
    assert {d["element"] for d in refused.value.details} == {"end"}
    assert "is also compensated by 'Undo' (id compensate)" in refused.value.details[0]["message"]


def test_activity_ref_throws_on_one_path_each_undo_their_own_activity(engine):
    """book -> undo book -> charge -> undo charge."""
    xml = (HEAD + '<bpmn:process id="comp" isExecutable="true"><bpmn:startEvent id="start"/>'
           + script("book", "booked = true") + script("charge", "charged = true")
           + script("cancel_booking", "booked = false", FOR_COMP) + script("refund", "refunded = true", FOR_COMP)
           + undoable("book", "cancel_booking") + undoable("charge", "refund")
           + THROW.format(d='<bpmn:compensateEventDefinition activityRef="book"/>')
           + '<bpmn:endEvent id="end2"><bpmn:compensateEventDefinition activityRef="charge"/></bpmn:endEvent>'
           + chain("start", "book", "compensate", "charge", "end2") + "</bpmn:process></bpmn:definitions>")
    deploy(engine, xml)
    instance_id = engine.start("comp", make_deal(engine), cause=TEST_CAUSE).id
    assert completed(engine, instance_id) == ["book", "cancel_booking", "compensate", "charge", "refund", "end2"]


def test_an_activity_already_undone_is_not_undone_again_when_the_throw_is_reached_again(engine):
    """start -> book -> merge -> compensate -> count -> (twice) back to merge: book is undone once."""
    xml = (HEAD + '<bpmn:process id="comp" isExecutable="true"><bpmn:startEvent id="start"/>'
           + script("init", "n = 0") + script("book", "booked = true") + script("count", "n = n + 1")
           + script("cancel_booking", "booked = false", FOR_COMP) + undoable("book", "cancel_booking")
           + THROW.format(d=COMPENSATE) + '<bpmn:exclusiveGateway id="merge"/>'
           + '<bpmn:exclusiveGateway id="again" default="f_again_end2"/><bpmn:endEvent id="end2"/>'
           + chain("start", "init", "book", "merge", "compensate", "count", "again")
           + '<bpmn:sequenceFlow id="f_again_end2" sourceRef="again" targetRef="end2"/>'
           + '<bpmn:sequenceFlow id="f_again_merge" sourceRef="again" targetRef="merge">'
           + "<bpmn:conditionExpression>n &lt; 2</bpmn:conditionExpression></bpmn:sequenceFlow>"
           + "</bpmn:process></bpmn:definitions>")
    deploy(engine, xml)
    instance_id = engine.start("comp", make_deal(engine), cause=TEST_CAUSE).id
    assert completed(engine, instance_id) == ["book", "cancel_booking", "compensate", "compensate", "end2"]


def test_a_subprocess_handler_runs_its_steps(engine):
    refund = ('<bpmn:subProcess id="refund" name="Refund" isForCompensation="true"><bpmn:startEvent id="r_start"/>'
              + script("r_pay_back", "paid_back = true") + '<bpmn:endEvent id="r_end"/>'
              + chain("r_start", "r_pay_back", "r_end") + "</bpmn:subProcess>")
    deploy(engine, booking(refund=refund))
    instance_id = engine.start("comp", make_deal(engine), cause=TEST_CAUSE).id
    assert completed(engine, instance_id) == ["book", "charge", "refund", "cancel_booking", "compensate", "end2"]
    with engine.unit() as rt:
        assert "r_pay_back" in [h.element_id for h in rt.session.scalars(select(HistoryEntry).where(
            HistoryEntry.instance_id == instance_id, HistoryEntry.outcome == "completed"))]


def test_an_activity_interrupted_by_a_boundary_event_is_not_undone(engine):
    """charge (a CRM task) is cut short by the customer cancelling: compensation undoes book only."""
    xml = (HEAD.replace('targetNamespace="x">', 'targetNamespace="x"><bpmn:message id="m_cancel" '
                        'name="customer.cancelled"/>')
           + '<bpmn:process id="comp" isExecutable="true"><bpmn:startEvent id="start"/>'
           + script("book", "booked = true") + '<bpmn:userTask id="charge" name="Charge"/>'
           + '<bpmn:boundaryEvent id="cancelled" attachedToRef="charge">'
           + '<bpmn:messageEventDefinition messageRef="m_cancel"/></bpmn:boundaryEvent>'
           + script("cancel_booking", "booked = false", FOR_COMP) + script("refund", "refunded = true", FOR_COMP)
           + undoable("book", "cancel_booking") + undoable("charge", "refund") + THROW.format(d=COMPENSATE)
           + '<bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>'
           + chain("start", "book", "charge", "end") + chain("cancelled", "compensate", "end2")
           + "</bpmn:process></bpmn:definitions>")
    deploy(engine, xml)
    deal_id = make_deal(engine)
    instance_id = engine.start("comp", deal_id, cause=TEST_CAUSE).id
    assert engine.send_message(deal_id, "customer.cancelled", {}, cause=TEST_CAUSE) == [instance_id]
    assert completed(engine, instance_id) == ["book", "cancel_booking", "compensate", "end2"]
