"""Call activities to another deployed process by key: latest version at call time, or pinned.

`calledElement` is the key of a deployed process (or of a process in the same file, as before).
Variables go in and come out all by default, or only as `dealflow:in`/`dealflow:out` map them
(dsl expressions); a key that is not deployed is refused at deploy naming the call activity;
history says which process and version was called; a recursion meets the step budget.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.models import Task
from engine.errors import InvalidProcess
from engine.models import HistoryEntry, Incident, ProcessVersion
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, demo_engine, make_deal


def called(script: str = "price = amount * 2", key: str = "pricing", *, user: bool = False) -> str:
    proc = Bpmn(key, name="Pricing").start().script("work", script)
    if user:
        proc.user("check", title='"Check the price"')
        return proc.end().chain("start", "work", "check", "end").xml()
    return proc.end().chain("start", "work", "end").xml()


def caller(key: str = "ordering", called_key: str = "pricing", *, attrs: str = "", mappings: str = "",
           after: str = "total = price + 1") -> str:
    proc = Bpmn(key).parameter("amount", "number")
    ext = f"<bpmn:extensionElements>{mappings}</bpmn:extensionElements>" if mappings else ""
    proc._add("call", "callActivity", ext, f' calledElement="{called_key}"{attrs}')
    return proc.start().script("after", after).end().chain("start", "call", "after", "end").xml()


def variables(engine, instance_id: int) -> dict:
    with engine.unit() as rt:
        return rt.inspect(rt.instance(instance_id))[1]


def status(engine, instance_id: int) -> str:
    with engine.unit() as rt:
        return rt.instance(instance_id).status


def test_a_call_runs_the_deployed_process_with_all_variables_in_and_out(engine):
    engine.deploy(called())
    engine.deploy(caller())

    instance = engine.start("ordering", make_deal(engine), {"amount": 10}, cause=TEST_CAUSE).id

    assert status(engine, instance) == "completed"
    assert variables(engine, instance)["total"] == 21
    with engine.unit() as rt:
        [row] = rt.session.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == instance,
                                                              HistoryEntry.element_id == "call")).all()
        assert row.detail["called"] == {"key": "pricing", "version": 1, "name": "Pricing"}


def test_the_latest_version_at_call_time_is_called_and_kept_while_it_runs(engine):
    engine.deploy(called(user=True))
    engine.deploy(caller())
    deal_id = make_deal(engine)
    early = engine.start("ordering", deal_id, {"amount": 10}, cause=TEST_CAUSE).id  # waits in pricing v1

    engine.deploy(called("price = amount * 3", user=True))  # v2
    late = engine.start("ordering", deal_id, {"amount": 10}, cause=TEST_CAUSE).id

    with engine.unit() as rt:
        for task in rt.session.scalars(select(Task).where(Task.deal_id == deal_id, Task.status == "open")).all():
            rt.crm.complete_task(task, cause=TEST_CAUSE, result={})
    assert (status(engine, early), status(engine, late)) == ("completed", "completed")
    assert variables(engine, early)["total"] == 21  # v1, as it was when called
    assert variables(engine, late)["total"] == 31


def test_a_pinned_version_is_called_whatever_is_latest(engine):
    engine.deploy(called())
    engine.deploy(called("price = amount * 3"))
    engine.deploy(caller(attrs=' dealflow:calledVersion="1"'))

    instance = engine.start("ordering", make_deal(engine), {"amount": 10}, cause=TEST_CAUSE).id

    assert variables(engine, instance)["total"] == 21
    with engine.unit() as rt:
        row = rt.session.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == instance,
                                                            HistoryEntry.element_id == "call")).one()
        assert row.detail["called"]["version"] == 1


def test_mapped_variables_go_in_and_come_out_as_the_dsl_computes_them(engine):
    engine.deploy(called("price = amount * 2\nsecret = 1"))
    mappings = ('<dealflow:in source="amount + 5" target="amount"/>'
                '<dealflow:out source="price" target="price"/>')
    engine.deploy(caller(mappings=mappings))

    instance = engine.start("ordering", make_deal(engine), {"amount": 10}, cause=TEST_CAUSE).id

    seen = variables(engine, instance)
    assert seen["total"] == 31 and seen["amount"] == 10  # the caller's own amount is kept
    assert "secret" not in seen


@pytest.mark.parametrize(("xml", "problem"), [
    (caller(called_key="nowhere"), "calls process 'nowhere', which is not deployed"),
    (caller(attrs=' dealflow:calledVersion="7"'), "calls version 7 of process 'pricing', which has no such version"),
    (caller(attrs=' dealflow:calledVersion="latest"'), "dealflow:calledVersion 'latest' must be a version number"),
    (caller(mappings='<dealflow:in source="amount +" target="amount"/>'), "dealflow:in source:"),
    (caller(mappings='<dealflow:out source="price" target="not a name"/>'), "must be a variable name"),
])
def test_a_call_that_cannot_run_is_refused_at_deploy_naming_the_call_activity(engine, xml, problem):
    engine.deploy(called())

    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(xml)

    [detail] = refused.value.details
    assert detail["element"] == "call" and problem in detail["message"], detail
    if "version" in problem or "deployed" in problem:
        assert 'bpmn:callActivity "call" (id call)' in detail["message"]
    with engine.unit() as rt:
        assert rt.session.scalars(select(ProcessVersion.key)).all() == ["pricing"]


def test_two_deployed_processes_calling_each_other_are_stopped_by_the_step_budget(database, clock):
    engine = demo_engine(database, clock, step_budget=200)
    engine.deploy(called(key="b"))  # so the key exists when the one calling back is deployed
    engine.deploy(caller(key="a", called_key="b"))
    engine.deploy(caller(key="b", called_key="a"))  # b v2 calls a: a recursion through the latest versions

    instance = engine.start("a", make_deal(engine), {"amount": 1}, cause=TEST_CAUSE).id

    assert status(engine, instance) == "incident"
    with engine.unit() as rt:
        incident = rt.session.scalars(select(Incident).where(Incident.instance_id == instance)).one()
        assert incident.element_id == "call" and "automated steps" in incident.message
