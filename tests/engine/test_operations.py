"""What an operator does to running instances (engine.operations): a failing step reads as
retrying from the job table, variables change with an audit row, cancel keeps its reason,
an incident keeps the expression and the values it saw."""

from __future__ import annotations

from datetime import timedelta

import pytest
from marshmallow import Schema
from sqlalchemy import select

from engine import operations
from engine.errors import InvalidState
from engine.models import HistoryEntry, Incident
from engine.retry import RetryPolicy
from engine.virtual_time import advance
from robots.actions import registry
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, demo_engine, make_deal


def _down(ctx):
    raise ConnectionError("bank is down")


@pytest.fixture
def engine(database, clock):
    engine = demo_engine(database, clock, retry=RetryPolicy(attempts=3, base_delay=timedelta(minutes=1)))
    actions = registry.copy()
    actions.register("call_bank", _down, Schema)
    engine.actions = actions
    return engine


def test_a_failing_step_is_retrying_with_its_attempt_error_and_due_time_until_its_last_attempt(engine, clock):
    engine.deploy(Bpmn("flaky").start().service("ring", "call_bank").end().chain("start", "ring", "end").xml())
    instance = engine.start("flaky", make_deal(engine))
    with engine.unit() as rt:
        retry = operations.retrying(rt, [instance.id])[instance.id]
        assert (retry.element_id, retry.attempt, retry.of) == ("ring", 1, 3)
        assert "bank is down" in retry.error and retry.next_at == clock.now() + timedelta(minutes=1)
        assert operations.state_of(rt.instance(instance.id), retry) == "retrying"
        operations.retry_now(rt, instance.id)
    advance(engine, clock, timedelta(seconds=1))
    with engine.unit() as rt:
        assert operations.retrying(rt, [instance.id])[instance.id].attempt == 2
    advance(engine, clock, timedelta(hours=1))
    with engine.unit() as rt:
        assert operations.retrying(rt, [instance.id]) == {}
        assert rt.instance(instance.id).status == "incident"
        with pytest.raises(InvalidState):
            operations.retry_now(rt, instance.id)


def test_variables_change_where_the_instance_stands_with_who_old_and_new(engine):
    engine.deploy(Bpmn("waits").start().message_catch("paid", "order.paid").end().chain("start", "paid", "end").xml())
    instance = engine.start("waits", make_deal(engine))
    with engine.unit() as rt:
        operations.set_variables(rt, instance.id, {"promised": "Friday"}, cause=TEST_CAUSE)
    with engine.unit() as rt:
        operations.set_variables(rt, instance.id, {"promised": "Monday"}, cause=TEST_CAUSE)
        assert rt.inspect(rt.instance(instance.id))[1]["promised"] == "Monday"
        row = rt.session.scalars(select(HistoryEntry).order_by(HistoryEntry.id.desc())).first()
        assert (row.outcome, row.detail["old"], row.detail["new"], row.detail["label"]) == (
            "variables changed", {"promised": "Friday"}, {"promised": "Monday"}, "test")


@pytest.mark.parametrize("changes", [{"1x": 1}, {"deal": 1}, {"x": float("nan")}, {"x": {1: 2}}, {"x": object()}, {}])
def test_variables_that_are_not_names_or_json_are_refused(engine, changes):
    engine.deploy(Bpmn("waits").start().message_catch("paid", "order.paid").end().chain("start", "paid", "end").xml())
    instance = engine.start("waits", make_deal(engine))
    with engine.unit() as rt, pytest.raises(operations.InvalidVariables):
        operations.set_variables(rt, instance.id, changes, cause=TEST_CAUSE)


def test_a_finished_instance_keeps_its_variables_and_cancel_keeps_its_reason(engine):
    engine.deploy(Bpmn("waits").start().message_catch("paid", "order.paid").end().chain("start", "paid", "end").xml())
    instance = engine.start("waits", make_deal(engine))
    with engine.unit() as rt:
        operations.cancel(rt, instance.id, reason="  the customer withdrew ", cause=TEST_CAUSE)
    with engine.unit() as rt:
        row = rt.session.scalars(select(HistoryEntry).order_by(HistoryEntry.id.desc())).first()
        assert (row.outcome, row.detail["reason"]) == ("cancelled", "the customer withdrew")
        with pytest.raises(InvalidState):
            operations.set_variables(rt, instance.id, {"a": 1}, cause=TEST_CAUSE)


def test_an_incident_keeps_the_expression_and_the_values_it_saw(engine):
    engine.deploy(Bpmn("credit").start().service("check", "set_field", field='"source"', value="deal.down_payment * 2")
                  .end().chain("start", "check", "end").xml())
    instance = engine.start("credit", make_deal(engine))
    with engine.unit() as rt:
        incident = rt.session.scalars(select(Incident).where(Incident.instance_id == instance.id)).one()
        assert incident.details == {"expression": "deal.down_payment * 2", "error": incident.details["error"],
                                    "seen": {"deal.down_payment": None}, "seen_text": "deal.down_payment is empty"}
        assert "multiply" in incident.details["error"]
        assert operations.element_names(rt, rt.instance(instance.id).version_id)["check"] == "check"
