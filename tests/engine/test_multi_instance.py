"""Multi-instance activities over a collection the dsl reads (`deal.products`), or a count.

The store's example: one purchase request per out-of-stock product, a CRM task each for the
purchaser, whose answers are collected into a list in the products' order."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.models import Task
from engine.errors import InvalidProcess
from engine.models import Incident
from tests.support.world import TEST_CAUSE, demo_engine, make_deal

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'xmlns:dealflow="https://dealflow.dev/schema/bpmn" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
        'id="defs" targetNamespace="https://dealflow.dev/tests">\n')

PRODUCTS = [
    {"name": "Washer", "price": "300", "qty": 1, "in_stock": False},
    {"name": "Dryer", "price": "200", "qty": 1, "in_stock": True},
    {"name": "Hose", "price": "10", "qty": 2, "in_stock": False},
]


def process(loop: str, *, task: str = "userTask", inside: str = "", key: str = "purchase") -> str:
    body = inside or ('<bpmn:extensionElements><spiffworkflow:properties>'
                      '<spiffworkflow:property name="title" value="Order {product.name} ({loopCounter})"/>'
                      '</spiffworkflow:properties>'
                      '<dealflow:formField name="answer" label="Answer" type="string" required="false"/>'
                      '</bpmn:extensionElements>')
    return (HEAD + f'<bpmn:process id="{key}" isExecutable="true">'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            f'<bpmn:{task} id="ask" name="Ask the purchaser">{body}<bpmn:incoming>f1</bpmn:incoming>'
            f'<bpmn:outgoing>f2</bpmn:outgoing>{loop}</bpmn:{task}>'
            '<bpmn:scriptTask id="sum_up"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>'
            '<bpmn:script>answered = count(answers)</bpmn:script></bpmn:scriptTask>'
            '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="sum_up"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="sum_up" targetRef="end"/>'
            '</bpmn:process></bpmn:definitions>')


def standard(collection: str = "filter(deal.products, p -> not p.in_stock)", *, sequential: bool = False,
             condition: str = "") -> str:
    cond = f"<bpmn:completionCondition>{condition}</bpmn:completionCondition>" if condition else ""
    return (f'<bpmn:multiInstanceLoopCharacteristics isSequential="{str(sequential).lower()}">'
            f'<bpmn:loopDataInputRef>{collection}</bpmn:loopDataInputRef>'
            '<bpmn:loopDataOutputRef>answers</bpmn:loopDataOutputRef>'
            '<bpmn:inputDataItem id="ask_product" name="product"/>'
            f'<bpmn:outputDataItem id="ask_answer" name="answer"/>{cond}'
            '</bpmn:multiInstanceLoopCharacteristics>')


def open_tasks(engine, deal_id: int) -> list[Task]:
    with engine.unit() as rt:
        return list(rt.session.scalars(select(Task).where(Task.deal_id == deal_id, Task.status == "open")
                                       .order_by(Task.id)))


def complete(engine, task_id: int, answer: str) -> None:
    with engine.unit() as rt:
        rt.crm.complete_task(rt.session.get_one(Task, task_id), cause=TEST_CAUSE, result={"answer": answer})


def variables(engine, instance_id: int) -> tuple[str, dict]:
    with engine.unit() as rt:
        instance = rt.instance(instance_id)
        return instance.status, rt.inspect(instance)[1]


def test_a_parallel_multi_instance_makes_one_crm_task_per_product_and_collects_answers_in_order(engine):
    engine.deploy(process(standard()))
    deal_id = make_deal(engine, products=PRODUCTS)
    instance_id = engine.start("purchase", deal_id, cause=TEST_CAUSE).id
    tasks = open_tasks(engine, deal_id)
    assert [t.title for t in tasks] == ["Order Washer (1)", "Order Hose (2)"]
    complete(engine, tasks[1].id, "in a week")  # the second first: answers keep the products' order
    assert variables(engine, instance_id)[0] == "running"
    complete(engine, tasks[0].id, "tomorrow")
    status, seen = variables(engine, instance_id)
    assert status == "completed"
    assert seen["answers"] == ["tomorrow", "in a week"]
    assert seen["answered"] == 2
    assert "product" not in seen and "loopCounter" not in seen  # an instance's own names stay inside it


def test_a_sequential_multi_instance_asks_one_after_the_other(engine):
    engine.deploy(process(standard(sequential=True)))
    deal_id = make_deal(engine, products=PRODUCTS)
    instance_id = engine.start("purchase", deal_id, cause=TEST_CAUSE).id
    [first] = open_tasks(engine, deal_id)
    assert first.title == "Order Washer (1)"
    complete(engine, first.id, "yes")
    [second] = open_tasks(engine, deal_id)
    assert second.title == "Order Hose (2)"
    complete(engine, second.id, "no")
    assert variables(engine, instance_id) == ("completed", variables(engine, instance_id)[1])
    assert variables(engine, instance_id)[1]["answers"] == ["yes", "no"]


def test_the_completion_condition_stops_the_others_and_closes_their_tasks(engine):
    engine.deploy(process(standard("deal.products", condition='answer == "stop" or numberOfCompletedInstances >= 3')))
    deal_id = make_deal(engine, products=PRODUCTS)
    instance_id = engine.start("purchase", deal_id, cause=TEST_CAUSE).id
    tasks = open_tasks(engine, deal_id)
    assert len(tasks) == 3
    complete(engine, tasks[1].id, "stop")
    status, seen = variables(engine, instance_id)
    assert status == "completed"
    assert seen["answers"] == [None, "stop", None]
    assert open_tasks(engine, deal_id) == []


def test_an_empty_collection_runs_no_instance_and_goes_on(engine):
    engine.deploy(process(standard()))
    deal_id = make_deal(engine)  # no products
    instance_id = engine.start("purchase", deal_id, cause=TEST_CAUSE).id
    status, seen = variables(engine, instance_id)
    assert (status, seen["answers"], seen["answered"]) == ("completed", [], 0)


def test_a_missing_collection_is_an_incident_naming_the_element_and_expression_not_python(engine):
    engine.deploy(process(standard("requests")))
    deal_id = make_deal(engine)
    instance_id = engine.start("purchase", deal_id, cause=TEST_CAUSE).id
    with engine.unit() as rt:
        assert rt.instance(instance_id).status == "incident"
        [incident] = rt.session.scalars(select(Incident).where(Incident.instance_id == instance_id))
    assert incident.element_id == "ask"
    assert "Ask the purchaser (ask)" in incident.message
    assert "`requests`" in incident.message and "must be a list, not null" in incident.message
    assert "TypeError" not in incident.message and "NoneType" not in incident.message


def test_a_cardinality_without_an_output_item_a_task_leaves_unset_is_collected_as_null(engine):
    loop = ('<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality>'
            '<bpmn:loopDataOutputRef>answers</bpmn:loopDataOutputRef>'
            '<bpmn:outputDataItem id="never_set"/></bpmn:multiInstanceLoopCharacteristics>')
    engine.deploy(process(loop, inside=" "))
    deal_id = make_deal(engine)
    instance_id = engine.start("purchase", deal_id, cause=TEST_CAUSE).id
    for task in open_tasks(engine, deal_id):
        complete(engine, task.id, "ignored")
    status, seen = variables(engine, instance_id)
    assert (status, seen["answers"]) == ("completed", [None, None])


def test_a_cardinality_that_is_no_whole_number_is_an_incident_in_words(engine):
    loop = ('<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>deal.amount / 3</bpmn:loopCardinality>'
            '</bpmn:multiInstanceLoopCharacteristics>')
    engine.deploy(process(loop, inside=" ").replace("answered = count(answers)", "x = 1"))
    instance_id = engine.start("purchase", make_deal(engine, amount=100), cause=TEST_CAUSE).id
    with engine.unit() as rt:
        [incident] = rt.session.scalars(select(Incident).where(Incident.instance_id == instance_id))
    assert "loopCardinality must be a whole number" in incident.message


def test_camunda_7_collection_and_element_variable(engine):
    loop = ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="${deal.products}" '
            'camunda:elementVariable="product"/>')
    engine.deploy(process(loop).replace("answered = count(answers)", "x = 1"))
    deal_id = make_deal(engine, products=PRODUCTS)
    engine.start("purchase", deal_id, cause=TEST_CAUSE)
    assert [t.title for t in open_tasks(engine, deal_id)] == ["Order Washer (1)", "Order Dryer (2)", "Order Hose (3)"]


def test_camunda_8_loop_characteristics_with_an_output_expression(engine):
    loop = ('<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>'
            '<zeebe:loopCharacteristics inputCollection="=deal.products" inputElement="product" '
            'outputCollection="answers" outputElement="=product.name + &quot;: &quot; + answer"/>'
            '</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>')
    engine.deploy(process(loop))
    deal_id = make_deal(engine, products=PRODUCTS[:2])
    instance_id = engine.start("purchase", deal_id, cause=TEST_CAUSE).id
    for task, answer in zip(open_tasks(engine, deal_id), ["ok", "later"], strict=True):
        complete(engine, task.id, answer)
    assert variables(engine, instance_id)[1]["answers"] == ["Washer: ok", "Dryer: later"]


def test_instances_survive_a_restart_of_the_engine(database, clock):
    """A restored spec has lost Spiff's in-memory hook that hears an instance finish."""
    first = demo_engine(database, clock)
    first.deploy(process(standard("deal.products")))
    deal_id = make_deal(first, products=PRODUCTS[:2])
    instance_id = first.start("purchase", deal_id, cause=TEST_CAUSE).id
    second = demo_engine(database, clock)  # a new process: nothing cached
    for task in open_tasks(second, deal_id):
        complete(second, task.id, "done")
    assert variables(second, instance_id)[0] == "completed"
    assert variables(second, instance_id)[1]["answers"] == ["done", "done"]


@pytest.mark.parametrize(("loop", "message"), [
    (standard("deal.products +"), "loopDataInputRef: "),
    (standard("").replace("<bpmn:loopDataInputRef></bpmn:loopDataInputRef>", "<bpmn:loopDataInputRef/>"),
     "loopDataInputRef: a collection expression is required"),
    (standard().replace('name="product"', 'name="deal"'), "inputDataItem 'deal'"),
    (standard().replace("<bpmn:loopDataOutputRef>answers", "<bpmn:loopDataOutputRef>process"),
     "loopDataOutputRef 'process'"),
    (standard().replace("answers</bpmn:loopDataOutputRef>", "answers</bpmn:loopDataOutputRef>")
     .replace("</bpmn:outputDataItem>", "").replace('<bpmn:outputDataItem id="ask_answer" name="answer"/>',
                                                    '<bpmn:completionCondition>answer ==</bpmn:completionCondition>'),
     "completionCondition: "),
])
def test_every_multi_instance_text_is_checked_at_deploy_naming_the_element(engine, loop, message):
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(process(loop))
    details = refused.value.details or []
    assert any(d["element"] == "ask" and d["message"].startswith(message) and d.get("line") for d in details), details


def test_retrying_the_incident_of_a_missing_collection_makes_the_instances_then(engine):
    engine.deploy(process(standard("if deal.vip then deal.products else null")))
    deal_id = make_deal(engine, products=PRODUCTS, fields={"vip": False})
    instance_id = engine.start("purchase", deal_id, cause=TEST_CAUSE).id
    with engine.unit() as rt:
        [incident] = rt.session.scalars(select(Incident).where(Incident.instance_id == instance_id))
        rt.crm.set_fields(rt.crm.deal(deal_id), {"vip": True}, cause=TEST_CAUSE)
    engine.retry_incident(incident.id, cause=TEST_CAUSE)
    assert [t.title for t in open_tasks(engine, deal_id)] == ["Order Washer (1)", "Order Dryer (2)", "Order Hose (3)"]
    for task in open_tasks(engine, deal_id):
        complete(engine, task.id, "ok")
    assert variables(engine, instance_id) == ("completed", variables(engine, instance_id)[1])


def test_a_parallel_collection_larger_than_the_step_budget_is_an_incident_before_any_instance(database, clock):
    engine = demo_engine(database, clock)
    engine.step_budget = 2
    engine.deploy(process(standard("deal.products")))
    deal_id = make_deal(engine, products=PRODUCTS)
    instance_id = engine.start("purchase", deal_id, cause=TEST_CAUSE).id
    with engine.unit() as rt:
        [incident] = rt.session.scalars(select(Incident).where(Incident.instance_id == instance_id))
    assert incident.element_id == "ask" and "3 items, more than the 2 instances" in incident.message
    assert open_tasks(engine, deal_id) == []
