"""A plain `bpmn:task` (the step most exported diagrams draw, with no type) is work for a person:
it becomes a CRM task like a manual task, and completing that task moves the process on."""

from __future__ import annotations

from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, make_deal, tasks_of


def plain(properties: dict[str, str] | None = None) -> str:
    xml = (Bpmn("plain").start().user("call_client", **(properties or {}))
           .service("won", "move_to", stage='"in_processing"').end()
           .chain("start", "call_client", "won", "end").xml())
    return xml.replace("bpmn:userTask", "bpmn:task")


def test_a_plain_task_waits_as_a_crm_task_named_after_the_element(engine):
    engine.deploy(plain())
    deal_id = make_deal(engine)
    instance = engine.start("plain", deal_id)
    with engine.unit() as rt:
        [task] = tasks_of(rt, deal_id)
        assert (task.title, task.status, task.element_id) == ("call_client", "open", "call_client")
        assert rt.instance(instance.id).status == "running"
        assert rt.active_elements(rt.instance(instance.id)) == ["call_client"]


def test_completing_the_crm_task_resumes_the_process(engine):
    engine.deploy(plain({"title": "Call {deal.title}"}))
    deal_id = make_deal(engine)
    instance = engine.start("plain", deal_id)
    with engine.unit() as rt:
        [task] = tasks_of(rt, deal_id)
        assert task.title == "Call Washing machine"
        rt.crm.complete_task(task, cause=TEST_CAUSE)
    with engine.unit() as rt:
        assert rt.instance(instance.id).status == "completed"
        assert rt.crm.deal(deal_id).stage.code == "in_processing"
