"""Collaborations (several pools in one file): never a pool dropped without a word.

dealflow deploys one process per file for now; a file with several executable pools used to
deploy the first and drop the others silently. It is refused, naming every pool, and nothing is
stored; a collaboration whose other pools are not executable (a customer drawn as a black box)
deploys its one executable process as before.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidProcess
from engine.models import ProcessVersion
from tests.support.bpmn import Bpmn, _message_def
from tests.support.world import TEST_CAUSE, make_deal

POOL = """
  <bpmn:process id="{key}" isExecutable="{executable}">
    <bpmn:startEvent id="{key}_start"/>
    <bpmn:endEvent id="{key}_end"/>
    <bpmn:sequenceFlow id="{key}_flow" sourceRef="{key}_start" targetRef="{key}_end"/>
  </bpmn:process>"""


def collaboration(customer_executable: bool) -> str:
    pools = POOL.format(key="store", executable="true") + POOL.format(
        key="customer", executable=str(customer_executable).lower())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
                  targetNamespace="https://dealflow.dev/test">
  <bpmn:collaboration id="collab">
    <bpmn:participant id="p_store" name="Store" processRef="store"/>
    <bpmn:participant id="p_customer" name="Customer" processRef="customer"/>
  </bpmn:collaboration>{pools}
</bpmn:definitions>"""


def versions(engine) -> int:
    with engine.unit() as rt:
        return rt.session.scalar(select(func.count()).select_from(ProcessVersion))


def test_a_file_of_two_executable_pools_is_refused_naming_both_and_nothing_is_stored(engine):
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(collaboration(customer_executable=True))

    assert "Store (store)" in str(refused.value) and "Customer (customer)" in str(refused.value)
    assert [d["element"] for d in refused.value.details] == ["store", "customer"]
    assert versions(engine) == 0


def test_a_collaboration_with_one_executable_pool_deploys_that_process(engine):
    version = engine.deploy(collaboration(customer_executable=False))

    assert version.key == "store"


def thrower() -> str:
    """The store's pool: tells the delivery pool the order is packed, then ends."""
    proc = Bpmn("packing")
    proc.messages.add("order.packed")
    proc._add("packed", "intermediateThrowEvent", _message_def("order.packed"))
    return (proc.start().script("weigh", "weight = 12").end()
            .chain("start", "weigh", "packed", "end").xml())


CATCHER = (Bpmn("delivery").start().message_catch("wait_packed", "order.packed")
           .script("plan", "planned = true").end().chain("start", "wait_packed", "plan", "end").xml())


def test_a_message_thrown_by_one_pool_reaches_the_pool_of_the_same_deal_waiting_for_it(engine):
    deal_id, other_id = make_deal(engine), make_deal(engine)
    engine.deploy(CATCHER)
    engine.deploy(thrower())
    waiting = engine.start("delivery", deal_id, cause=TEST_CAUSE).id
    elsewhere = engine.start("delivery", other_id, cause=TEST_CAUSE).id

    thrown = engine.start("packing", deal_id, cause=TEST_CAUSE).id

    with engine.unit() as rt:
        assert rt.instance(thrown).status == "completed"
        assert rt.instance(waiting).status == "completed"
        assert rt.inspect(rt.instance(waiting))[1]["planned"] is True
        assert rt.instance(elsewhere).status == "running"
