"""A failing step is retried with backoff, then becomes an incident a person can retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from marshmallow import Schema, fields
from sqlalchemy import select

from engine.actions import ActionInputError
from engine.engine import Engine
from engine.models import Incident, Job
from engine.retry import RetryPolicy
from engine.virtual_time import advance
from robots.actions import registry
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, make_deal, notes_of

FLAKY = (Bpmn("flaky").start().service("ring_bank", "call_bank", amount="deal.amount")
         .service("tell", "notify", text='"Bank called"').end()
         .chain("start", "ring_bank", "tell", "end").xml())


class BankSchema(Schema):
    amount = fields.Decimal(required=True)


class Bank:
    """A stand-in for an external system that is down until told otherwise."""

    def __init__(self) -> None:
        self.up = False
        self.calls = 0

    def __call__(self, ctx, amount):
        self.calls += 1
        ctx.crm.set_fields(ctx.deal, {"bank": "half-written"}, cause=ctx.cause)
        if not self.up:
            raise ConnectionError("bank is down")
        return {"ok": True}


@pytest.fixture
def bank() -> Bank:
    return Bank()


@pytest.fixture
def flaky_engine(database, clock, bank) -> Engine:
    actions = registry.copy()
    actions.register("call_bank", bank, BankSchema)
    actions.register("strict", lambda ctx: (_ for _ in ()).throw(ActionInputError("bad input")), Schema)
    from tests.support.world import demo_engine

    engine = demo_engine(database, clock, retry=RetryPolicy(attempts=3, base_delay=timedelta(minutes=1)))
    engine.actions = actions
    return engine


def instance_status(engine, instance_id):
    with engine.unit() as rt:
        return rt.instance(instance_id).status


def test_a_failing_action_leaves_no_partial_write_and_is_retried_with_backoff(flaky_engine, clock, bank):
    engine = flaky_engine
    engine.deploy(FLAKY)
    deal_id = make_deal(engine)
    instance = engine.start("flaky", deal_id)
    with engine.unit() as rt:
        assert rt.crm.deal(deal_id).fields.get("bank") is None
        retry = rt.session.scalars(select(Job).where(Job.kind == "retry")).one()
        assert retry.due_at == clock.now() + timedelta(minutes=1)
        assert "bank is down" in retry.last_error
    assert instance_status(engine, instance.id) == "running"
    advance(engine, clock, timedelta(minutes=1))
    with engine.unit() as rt:
        second = rt.session.scalars(select(Job).where(Job.kind == "retry", Job.status == "pending")).one()
        assert second.due_at == clock.now() + timedelta(minutes=2)
    assert bank.calls == 2


def test_after_its_retries_a_step_becomes_an_incident_that_can_be_retried_after_a_fix(flaky_engine, clock, bank):
    engine = flaky_engine
    engine.deploy(FLAKY)
    deal_id = make_deal(engine)
    instance = engine.start("flaky", deal_id)
    advance(engine, clock, timedelta(hours=1))
    assert bank.calls == 3
    assert instance_status(engine, instance.id) == "incident"
    with engine.unit() as rt:
        incident = rt.session.scalars(select(Incident)).one()
        assert (incident.element_id, incident.attempts, incident.status) == ("ring_bank", 3, "open")
        assert "ConnectionError: bank is down" in incident.message
    advance(engine, clock, timedelta(days=1))
    assert bank.calls == 3
    bank.up = True
    engine.retry_incident(incident.id, cause=TEST_CAUSE)
    assert instance_status(engine, instance.id) == "completed"
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Bank called"]
        assert rt.crm.deal(deal_id).fields["bank"] == "half-written"
        assert rt.session.get(Incident, incident.id).status == "resolved"


def test_bad_action_input_goes_straight_to_an_incident(flaky_engine):
    engine = flaky_engine
    engine.deploy(Bpmn("picky").start().service("s", "strict").end().chain("start", "s", "end").xml())
    instance = engine.start("picky", make_deal(engine))
    assert instance_status(engine, instance.id) == "incident"
    with engine.unit() as rt:
        assert rt.session.scalars(select(Job).where(Job.kind == "retry")).all() == []
        assert rt.session.scalars(select(Incident)).one().message == "s: bad input"


# ---------------------------------------------------------------------- deterministic failures: an incident at once


def test_a_dsl_error_on_an_empty_field_is_an_incident_at_once_naming_element_expression_and_values(flaky_engine):
    engine = flaky_engine
    engine.deploy(Bpmn("credit").start().service("ring_bank", "call_bank", amount="deal.down_payment * 2").end()
                  .chain("start", "ring_bank", "end").xml())
    instance = engine.start("credit", make_deal(engine))  # the demo deal has no down payment
    assert instance_status(engine, instance.id) == "incident"
    with engine.unit() as rt:
        assert rt.session.scalars(select(Job).where(Job.kind == "retry")).all() == []
        incident = rt.session.scalars(select(Incident)).one()
    assert (incident.element_id, incident.attempts) == ("ring_bank", 1)
    assert incident.message.startswith("ring_bank: the expression `deal.down_payment * 2` failed: cannot multiply")
    assert incident.message.endswith("; deal.down_payment is empty")


def test_a_refused_webhook_address_is_an_incident_at_once(flaky_engine):
    engine = flaky_engine
    engine.deploy(Bpmn("hook").start().service("tell_erp", "webhook", url='"http://127.0.0.1:9/hook"').end()
                  .chain("start", "tell_erp", "end").xml())
    instance = engine.start("hook", make_deal(engine))
    assert instance_status(engine, instance.id) == "incident"
    with engine.unit() as rt:
        assert rt.session.scalars(select(Job).where(Job.kind == "retry")).all() == []
        assert "127.0.0.1" in rt.session.scalars(select(Incident)).one().message


def test_a_job_that_fails_deterministically_is_not_retried_but_a_transient_failure_is(flaky_engine, clock):
    engine = flaky_engine
    failures = {"det": ValueError("the stored payload names no deal"), "net": ConnectionError("reset by peer")}

    def handler(rt, job):
        raise failures[job.payload["which"]]

    engine.job_handlers["fragile"] = handler
    with engine.unit() as rt:
        for which in failures:
            rt.session.add(Job(kind="fragile", status="pending", due_at=clock.now(), payload={"which": which},
                               attempts=0, created_at=clock.now()))
    engine.run_due_jobs()
    with engine.unit() as rt:
        jobs = {j.payload["which"]: j for j in rt.session.scalars(select(Job).where(Job.kind == "fragile"))}
        assert (jobs["det"].status, jobs["det"].attempts) == ("failed", 1)
        assert "the stored payload names no deal" in jobs["det"].last_error
        assert (jobs["net"].status, jobs["net"].attempts) == ("pending", 1)
        assert jobs["net"].due_at == clock.now() + timedelta(minutes=1)
