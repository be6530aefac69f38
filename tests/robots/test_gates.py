"""Automated moves meet the same stage gates as people: a refusal is one clear failure, not a crash
and not a retry loop (the fields will not fill themselves)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.models import Incident, Job
from engine.virtual_time import advance
from tests.support.automation import log_of, save
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, make_deal

SHIP = '''pipeline main "Sales"

stage shipped:
  robot "send the courier" immediately:
    move_to("delivery")
'''


def stage_of(engine, deal_id: int) -> str:
    with engine.unit() as rt:
        return rt.crm.deal(deal_id).stage.ref


def test_a_robot_moving_into_a_gated_stage_fails_once_naming_the_missing_field(engine, clock):
    save(engine, "main", SHIP)
    deal_id = make_deal(engine, stage="main.order_assembly")
    with engine.unit() as rt:
        rt.crm.move_deal(rt.crm.deal(deal_id), "shipped", cause=TEST_CAUSE)
    advance(engine, clock, timedelta(days=1))
    assert stage_of(engine, deal_id) == "main.shipped"
    [reason] = [r for _key, o, r in log_of(engine, deal_id) if o == "failed"]
    assert "Delivery address" in reason and "not retried" in reason
    with engine.unit() as rt:
        assert not rt.session.scalars(select(Job).where(Job.deal_id == deal_id, Job.status == "pending")).all()


def test_the_same_robot_moves_the_deal_once_the_gate_is_satisfied(engine, clock):
    save(engine, "main", SHIP)
    deal_id = make_deal(engine, stage="main.order_assembly", fields={"delivery_address": "Lesnaya 1"})
    with engine.unit() as rt:
        rt.crm.move_deal(rt.crm.deal(deal_id), "shipped", cause=TEST_CAUSE)
    assert stage_of(engine, deal_id) == "main.delivery"


def test_a_process_moving_into_a_gated_stage_becomes_an_incident_at_once(engine, clock):
    engine.deploy(Bpmn("courier").start().service("go", "move_to", stage='"main.delivery"').end()
                  .chain("start", "go", "end").xml())
    deal_id = make_deal(engine, stage="main.order_assembly")
    instance = engine.start("courier", deal_id)
    advance(engine, clock, timedelta(hours=1))
    with engine.unit() as rt:
        incident = rt.session.scalars(select(Incident).where(Incident.instance_id == instance.id)).one()
        assert incident.attempts == 1 and "Delivery address" in incident.message
    assert stage_of(engine, deal_id) == "main.order_assembly"
