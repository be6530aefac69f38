"""Data objects as Camunda Modeler and bpmn.io draw them (issue 13): a task whose output
association goes to a data object but whose answer has no value of that name leaves the object
as it was, and a task reading an object nobody wrote reads nothing, instead of the incident
SpiffWorkflow raised ("A data object could not be set"). A value a task does write is kept by
the object, across tasks, and read by the tasks with an input association to it."""

from __future__ import annotations

from tests.support.world import TEST_CAUSE, make_deal, tasks_of

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" '
    'targetNamespace="https://dealflow.dev/tests">\n'
)


def _writes(ref: str) -> str:
    return f"<bpmn:dataOutputAssociation><bpmn:targetRef>{ref}</bpmn:targetRef></bpmn:dataOutputAssociation>"


def _reads(ref: str, prop: str) -> str:
    return (f'<bpmn:property id="{prop}" name="__targetRef_placeholder"/>'
            f"<bpmn:dataInputAssociation><bpmn:sourceRef>{ref}</bpmn:sourceRef>"
            f"<bpmn:targetRef>{prop}</bpmn:targetRef></bpmn:dataInputAssociation>")


def approval_process() -> str:
    """ask and again write `approval`; copy reads it into `seen`, which the gateway tests."""
    return HEAD + f"""<bpmn:process id="approving" isExecutable="true">
  <bpmn:dataObject id="approval"/>
  <bpmn:dataObjectReference id="approval_w1" dataObjectRef="approval"/>
  <bpmn:dataObjectReference id="approval_w2" dataObjectRef="approval"/>
  <bpmn:dataObjectReference id="approval_r" dataObjectRef="approval"/>
  <bpmn:startEvent id="start"/>
  <bpmn:userTask id="ask" name="Ask">{_writes("approval_w1")}</bpmn:userTask>
  <bpmn:userTask id="again" name="Again">{_writes("approval_w2")}</bpmn:userTask>
  <bpmn:scriptTask id="copy" scriptFormat="dealflow">{_reads("approval_r", "copy_in")}
    <bpmn:script>seen = approval</bpmn:script></bpmn:scriptTask>
  <bpmn:exclusiveGateway id="gate" default="to_lost"/>
  <bpmn:serviceTask id="won"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="move_to">
    <spiffworkflow:parameters><spiffworkflow:parameter id="stage" type="str" value="&quot;in_processing&quot;"/>
    </spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>
  <bpmn:endEvent id="end"/>
  <bpmn:endEvent id="lost"/>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>
  <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="again"/>
  <bpmn:sequenceFlow id="f3" sourceRef="again" targetRef="copy"/>
  <bpmn:sequenceFlow id="f4" sourceRef="copy" targetRef="gate"/>
  <bpmn:sequenceFlow id="to_won" sourceRef="gate" targetRef="won">
    <bpmn:conditionExpression>seen == true</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="to_lost" sourceRef="gate" targetRef="lost"/>
  <bpmn:sequenceFlow id="f5" sourceRef="won" targetRef="end"/>
</bpmn:process></bpmn:definitions>"""


def unwritten_process() -> str:
    """`note` is written by a task that is answered without it, then read by the next."""
    return HEAD + f"""<bpmn:process id="unwritten" isExecutable="true">
  <bpmn:dataObject id="note"/>
  <bpmn:dataObjectReference id="note_w" dataObjectRef="note"/>
  <bpmn:dataObjectReference id="note_r" dataObjectRef="note"/>
  <bpmn:startEvent id="start"/>
  <bpmn:userTask id="write" name="Write">{_writes("note_w")}</bpmn:userTask>
  <bpmn:userTask id="read" name="Read">{_reads("note_r", "read_in")}</bpmn:userTask>
  <bpmn:endEvent id="end"/>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="write"/>
  <bpmn:sequenceFlow id="f2" sourceRef="write" targetRef="read"/>
  <bpmn:sequenceFlow id="f3" sourceRef="read" targetRef="end"/>
</bpmn:process></bpmn:definitions>"""


def _complete_open(engine, deal_id, result=None):
    with engine.unit() as rt:
        [task] = [t for t in tasks_of(rt, deal_id) if t.status == "open"]
        rt.crm.complete_task(task, cause=TEST_CAUSE, result=result)
        return task.element_id


def test_a_task_answered_without_the_data_object_moves_on_and_the_reader_reads_nothing(engine):
    engine.deploy(unwritten_process())
    deal_id = make_deal(engine)
    instance = engine.start("unwritten", deal_id)
    assert _complete_open(engine, deal_id) == "write"
    with engine.unit() as rt:
        assert rt.instance(instance.id).status == "running"
        assert rt.active_elements(rt.instance(instance.id)) == ["read"]
    assert _complete_open(engine, deal_id) == "read"
    with engine.unit() as rt:
        assert rt.instance(instance.id).status == "completed"


def test_a_value_written_is_kept_when_a_later_writer_gives_none_and_read_where_associated(engine):
    engine.deploy(approval_process())
    deal_id = make_deal(engine)
    instance = engine.start("approving", deal_id)
    assert _complete_open(engine, deal_id, {"approval": True}) == "ask"
    assert _complete_open(engine, deal_id) == "again"  # writes the object, with no value
    with engine.unit() as rt:
        assert rt.instance(instance.id).status == "completed"
        assert rt.crm.deal(deal_id).stage.code == "in_processing"


def test_without_any_value_the_gateway_takes_its_default(engine):
    engine.deploy(approval_process())
    deal_id = make_deal(engine)
    instance = engine.start("approving", deal_id)
    _complete_open(engine, deal_id, {"approval": False})
    _complete_open(engine, deal_id)
    with engine.unit() as rt:
        assert rt.instance(instance.id).status == "completed"
        assert rt.crm.deal(deal_id).stage.code != "in_processing"
