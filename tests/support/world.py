"""A ready CRM world for engine, robot and scenario tests: demo data and a deal factory."""

from __future__ import annotations

from typing import Any

from crm.clock import VirtualClock
from crm.db import Database
from crm.demo import load_demo
from crm.events import Cause
from engine.engine import Engine
from robots.actions import registry

TEST_CAUSE = Cause("user", None, "test")


def demo_engine(database: Database, clock: VirtualClock, **kwargs: Any) -> Engine:
    engine = Engine(database, clock, registry, **kwargs)
    with engine.unit() as rt:
        load_demo(rt.crm)
    return engine


def app_engine(database: Database, clock: VirtualClock) -> Engine:
    """The engine as the app builds it (robots, triggers, configured actions) on the demo world."""
    from api.wiring import build_engine

    engine = build_engine(database, clock)
    with engine.unit() as rt:
        load_demo(rt.crm)
    return engine


def make_deal(engine: Engine, *, stage: str = "main.new", responsible: str | None = "manager.north1",
              fields: dict[str, Any] | None = None, **kwargs: Any) -> int:
    with engine.unit() as rt:
        crm = rt.crm
        pipeline = crm.pipeline(stage.split(".")[0])
        deal = crm.create_deal(
            title=kwargs.pop("title", "Washing machine"), pipeline=pipeline.code, stage=crm.stage(stage, pipeline),
            responsible=crm.user(responsible) if responsible else None, fields=fields or {},
            cause=TEST_CAUSE, **kwargs,
        )
        return deal.id


def store_order(order_id: str, **overrides: Any) -> dict[str, Any]:
    """An "order created" payload of the online store (S5): new, unpaid, for store North."""
    body = {
        "order_id": order_id, "status": "new", "amount": "45990", "currency": "RUB", "paid": False,
        "shipped": False, "customer": {"name": "Irina Petrova", "phone": "+7 903 555-01-02"},
        "address": "Tverskaya 1, Moscow", "preferred_time": "after 18:00", "department": "store_north",
        "items": [{"name": "Dishwasher Bosch", "qty": 1, "price": "45990", "category": "kitchen"}],
    }
    return {**body, **overrides}


def tasks_of(rt: Any, deal_id: int) -> list[Any]:
    from sqlalchemy import select

    from crm.models import Task

    return list(rt.session.scalars(select(Task).where(Task.deal_id == deal_id).order_by(Task.id)))


def notes_of(rt: Any, deal_id: int) -> list[str]:
    from sqlalchemy import select

    from crm.models import Notification

    return [n.text for n in rt.session.scalars(
        select(Notification).where(Notification.deal_id == deal_id).order_by(Notification.id))]
