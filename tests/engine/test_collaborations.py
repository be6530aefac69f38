"""Collaborations (several pools in one file): every executable pool deployed, messages correlated.

A file of several executable pools deploys each pool as its own process (its own key and
version) from the one upload; a message one pool's instance throws starts the other pool's
message start event, or reaches its waiting catch event, for the same deal; a correlation key
tells two conversations of the same deal apart.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.models import Task
from engine.errors import InvalidProcess, StepBudgetExceeded
from engine.models import MessageWait, ProcessInstance, ProcessVersion
from tests.support.bpmn import Bpmn, _message_def
from tests.support.world import TEST_CAUSE, make_deal
from triggers.messages import deliver_message

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:dealflow="https://dealflow.dev/schema/bpmn" id="defs"
                  targetNamespace="https://dealflow.dev/test">"""

POOL = """
  <bpmn:process id="{key}" isExecutable="{executable}">
    <bpmn:startEvent id="{key}_start"/>
    <bpmn:endEvent id="{key}_end"/>
    <bpmn:sequenceFlow id="{key}_flow" sourceRef="{key}_start" targetRef="{key}_end"/>
  </bpmn:process>"""


def collaboration(customer_executable: bool) -> str:
    pools = POOL.format(key="store", executable="true") + POOL.format(
        key="customer", executable=str(customer_executable).lower())
    return f"""{HEAD}
  <bpmn:collaboration id="collab">
    <bpmn:participant id="p_store" name="Store" processRef="store"/>
    <bpmn:participant id="p_customer" name="Customer" processRef="customer"/>
  </bpmn:collaboration>{pools}
</bpmn:definitions>"""


def versions(engine) -> list[tuple[str, int]]:
    with engine.unit() as rt:
        return sorted((v.key, v.version) for v in rt.session.scalars(select(ProcessVersion)))


def test_every_executable_pool_of_a_file_is_deployed_with_its_own_key_and_version(engine):
    with engine.unit() as rt:
        deployed = rt.deploy_all(collaboration(customer_executable=True))
        assert [(v.key, v.version, v.name) for v in deployed] == [("store", 1, "Store"), ("customer", 1, "Customer")]

    assert versions(engine) == [("customer", 1), ("store", 1)]
    with engine.unit() as rt:  # the same text again: the same versions
        assert [v.version for v in rt.deploy_all(collaboration(customer_executable=True))] == [1, 1]
    assert versions(engine) == [("customer", 1), ("store", 1)]


def test_a_collaboration_with_one_executable_pool_deploys_that_process(engine):
    version = engine.deploy(collaboration(customer_executable=False))

    assert version.key == "store"
    assert versions(engine) == [("store", 1)]


def test_a_bad_pool_refuses_the_whole_file_and_nothing_is_stored(engine):
    bad = collaboration(customer_executable=True).replace(
        '<bpmn:sequenceFlow id="customer_flow" sourceRef="customer_start" targetRef="customer_end"/>',
        '<bpmn:sequenceFlow id="customer_flow" sourceRef="customer_start" targetRef="customer_end">'
        '<bpmn:conditionExpression>amount &gt;</bpmn:conditionExpression></bpmn:sequenceFlow>')

    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(bad)

    assert refused.value.details[0]["element"] == "customer_flow"
    assert versions(engine) == []


#: The store offers an order to the customer and waits for the answer; the customer's pool starts
#: on the offer, asks a person (a CRM task) and answers. Both messages carry the order number,
#: the correlation key `order` tells two offers of one deal apart.
OFFER = f"""{HEAD}
  <bpmn:collaboration id="offer">
    <bpmn:participant id="p_store" name="Store" processRef="store"/>
    <bpmn:participant id="p_customer" name="Customer" processRef="customer"/>
    <bpmn:messageFlow id="mf1" sourceRef="send_offer" targetRef="offered"/>
    <bpmn:messageFlow id="mf2" sourceRef="answer" targetRef="wait_answer"/>
    <bpmn:correlationKey id="order" name="order">
      <bpmn:correlationPropertyRef>order_no</bpmn:correlationPropertyRef>
    </bpmn:correlationKey>
  </bpmn:collaboration>
  <bpmn:correlationProperty id="order_no" name="order number">
    <bpmn:correlationPropertyRetrievalExpression messageRef="m_offer">
      <bpmn:messagePath>order_no</bpmn:messagePath>
    </bpmn:correlationPropertyRetrievalExpression>
    <bpmn:correlationPropertyRetrievalExpression messageRef="m_answer">
      <bpmn:messagePath>order_no</bpmn:messagePath>
    </bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>
  <bpmn:message id="m_offer" name="offer.made"/>
  <bpmn:message id="m_answer" name="offer.answered"/>
  <bpmn:process id="store" name="Store" isExecutable="true">
    <bpmn:extensionElements><dealflow:parameter name="order_no" type="string"/></bpmn:extensionElements>
    <bpmn:startEvent id="s_start"/>
    <bpmn:intermediateThrowEvent id="send_offer" name="Offer"><bpmn:messageEventDefinition messageRef="m_offer"/>
    </bpmn:intermediateThrowEvent>
    <bpmn:intermediateCatchEvent id="wait_answer" name="Answer"><bpmn:messageEventDefinition messageRef="m_answer"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="s_note" name="Note"><bpmn:script>answered = event.accepted</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="s_end"/>
    <bpmn:sequenceFlow id="s1" sourceRef="s_start" targetRef="send_offer"/>
    <bpmn:sequenceFlow id="s2" sourceRef="send_offer" targetRef="wait_answer"/>
    <bpmn:sequenceFlow id="s3" sourceRef="wait_answer" targetRef="s_note"/>
    <bpmn:sequenceFlow id="s4" sourceRef="s_note" targetRef="s_end"/>
  </bpmn:process>
  <bpmn:process id="customer" name="Customer" isExecutable="true">
    <bpmn:startEvent id="offered" name="Offered"><bpmn:messageEventDefinition messageRef="m_offer"/></bpmn:startEvent>
    <bpmn:scriptTask id="c_copy" name="Copy"><bpmn:script>order_no = event.order_no</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="decide" name="Decide"/>
    <bpmn:scriptTask id="c_yes" name="Yes"><bpmn:script>accepted = true</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="answer" name="Answer"><bpmn:messageEventDefinition messageRef="m_answer"/></bpmn:endEvent>
    <bpmn:sequenceFlow id="c1" sourceRef="offered" targetRef="c_copy"/>
    <bpmn:sequenceFlow id="c2" sourceRef="c_copy" targetRef="decide"/>
    <bpmn:sequenceFlow id="c3" sourceRef="decide" targetRef="c_yes"/>
    <bpmn:sequenceFlow id="c4" sourceRef="c_yes" targetRef="answer"/>
  </bpmn:process>
</bpmn:definitions>"""


def instances(engine, key: str) -> list[ProcessInstance]:
    with engine.unit() as rt:
        found = list(rt.session.scalars(select(ProcessInstance).where(ProcessInstance.key == key)
                                        .order_by(ProcessInstance.id)))
        rt.session.expunge_all()
        return found


def complete_open_task(engine, instance_id: int) -> None:
    with engine.unit() as rt:
        task = rt.session.scalars(select(Task).where(Task.process_instance_id == instance_id,
                                                     Task.status == "open")).one()
        rt.crm.complete_task(task, cause=TEST_CAUSE, result={})


def test_a_thrown_message_starts_the_other_pool_for_the_same_deal_and_its_answer_comes_back(engine):
    engine.deploy(OFFER)
    deal_id, other_id = make_deal(engine), make_deal(engine)

    store = engine.start("store", deal_id, {"order_no": "A-1"}, cause=TEST_CAUSE).id

    [customer] = instances(engine, "customer")
    assert customer.deal_id == deal_id and customer.status == "running"
    assert customer.started_by["kind"] == "process" and customer.started_by["ref"] == str(store)
    with engine.unit() as rt:
        assert rt.inspect(rt.instance(customer.id))[1]["order_no"] == "A-1"
        wait = rt.session.scalars(select(MessageWait).where(MessageWait.instance_id == store)).one()
        assert (wait.message, wait.correlation) == ("offer.answered", "A-1")
    assert other_id not in {i.deal_id for i in instances(engine, "customer")}

    complete_open_task(engine, customer.id)

    with engine.unit() as rt:
        assert rt.instance(customer.id).status == "completed"
        assert rt.instance(store).status == "completed"
        assert rt.inspect(rt.instance(store))[1]["answered"] is True


def test_the_correlation_key_tells_two_conversations_of_one_deal_apart(engine):
    engine.deploy(OFFER)
    deal_id = make_deal(engine)
    first = engine.start("store", deal_id, {"order_no": "A-1"}, cause=TEST_CAUSE).id
    second = engine.start("store", deal_id, {"order_no": "A-2"}, cause=TEST_CAUSE).id
    customers = {c.id for c in instances(engine, "customer")}
    with engine.unit() as rt:
        by_order = {rt.inspect(rt.instance(c))[1]["order_no"]: c for c in customers}

    complete_open_task(engine, by_order["A-2"])

    with engine.unit() as rt:
        assert rt.instance(second).status == "completed"
        assert rt.instance(first).status == "running"
    complete_open_task(engine, by_order["A-1"])
    with engine.unit() as rt:
        assert rt.instance(first).status == "completed"


def test_a_message_sent_with_a_correlation_key_value_reaches_only_the_instance_correlated_by_it(engine):
    engine.deploy(OFFER)
    deal_id = make_deal(engine)
    first = engine.start("store", deal_id, {"order_no": "A-1"}, cause=TEST_CAUSE).id
    second = engine.start("store", deal_id, {"order_no": "A-2"}, cause=TEST_CAUSE).id

    with engine.unit() as rt:
        reached = rt.send_message(None, "offer.answered", {"accepted": False}, cause=TEST_CAUSE, correlation="A-1")

    assert reached == [first]
    with engine.unit() as rt:
        assert rt.instance(first).status == "completed"
        assert rt.inspect(rt.instance(first))[1]["answered"] is False
        assert rt.instance(second).status == "running"
        assert rt.send_message(None, "offer.answered", {}, cause=TEST_CAUSE, correlation="nope") == []


def test_a_correlation_retrieval_expression_that_is_no_dsl_is_refused_at_deploy_naming_the_property(engine):
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(OFFER.replace("<bpmn:messagePath>order_no</bpmn:messagePath>",
                                    "<bpmn:messagePath>__import__('os')</bpmn:messagePath>", 1))

    assert refused.value.details[0]["element"] == "order_no"
    assert versions(engine) == []


def thrower() -> str:
    """The store's pool: tells the delivery pool the order is packed, then ends."""
    proc = Bpmn("packing")
    proc.messages.add("order.packed")
    proc._add("packed", "intermediateThrowEvent", _message_def("order.packed"))
    return (proc.start().script("weigh", "weight = 12").end()
            .chain("start", "weigh", "packed", "end").xml())


CATCHER = (Bpmn("delivery").start().message_catch("wait_packed", "order.packed")
           .script("plan", "planned = event.weight").end().chain("start", "wait_packed", "plan", "end").xml())


def test_a_message_thrown_by_a_pool_of_another_file_reaches_the_same_deals_waiting_instance(engine):
    deal_id, other_id = make_deal(engine), make_deal(engine)
    engine.deploy(CATCHER)
    engine.deploy(thrower())
    waiting = engine.start("delivery", deal_id, cause=TEST_CAUSE).id
    elsewhere = engine.start("delivery", other_id, cause=TEST_CAUSE).id

    thrown = engine.start("packing", deal_id, cause=TEST_CAUSE).id

    with engine.unit() as rt:
        assert rt.instance(thrown).status == "completed"
        assert rt.instance(waiting).status == "completed"
        # without a messagePayload the message carries the thrower's variables
        assert rt.inspect(rt.instance(waiting))[1]["planned"] == 12
        assert rt.instance(elsewhere).status == "running"


def ping_pong(key: str, hears: str, says: str) -> str:
    proc = Bpmn(key)
    proc.messages.update({hears, says})
    proc._add("start", "startEvent", _message_def(hears))._add("end", "endEvent", _message_def(says))
    return proc.chain("start", "end").xml()


def test_two_pools_starting_each_other_forever_are_stopped_by_the_step_budget_and_write_nothing(engine):
    engine.deploy(ping_pong("ping", "ball.served", "ball.returned"))
    engine.deploy(ping_pong("pong", "ball.returned", "ball.served"))
    deal_id = make_deal(engine)

    # each start is deferred work of the transaction, no instance's step: the transaction is refused
    with pytest.raises(StepBudgetExceeded), engine.unit() as rt:
        deliver_message(rt, "ball.served", deal_id, {}, cause=TEST_CAUSE)

    with engine.unit() as rt:
        assert rt.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
