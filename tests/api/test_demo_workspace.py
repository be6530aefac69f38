"""The demo at work on the first start (issue 12): every screen shows something real."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from api.wiring import build_engine, prepare_database
from crm.models import Deal, Notification, Stage, Task, User
from engine.models import Incident, ProcessInstance
from engine.virtual_time import advance

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def test_the_demo_has_work_on_every_screen_and_loading_twice_changes_nothing(database, clock):
    engine = build_engine(database, clock)
    prepare_database(engine, demo=True, templates_dir=BPMN, workspace=True)
    prepare_database(engine, demo=True, templates_dir=BPMN, workspace=True)
    with database.sessions() as session:
        empty = session.scalars(select(Stage).where(~Stage.id.in_(select(Deal.stage_id)))).all()
        assert [f"{s.pipeline.code}.{s.code}" for s in empty] == []
        waiting = {i.key for i in session.scalars(select(ProcessInstance)) if i.status == "running"}
        assert {"send_to_bank", "warehouse_buffer", "courier_delivery"} <= waiting
        columns = set(session.execute(select(Task.group, Task.column)).all())
        for group in ("logistics", "purchasing"):
            assert {(group, c) for c in ("new", "in_progress", "problem", "done")} <= columns
        anna = session.scalar(select(User.id).where(User.login == "manager.north1"))
        unread = select(func.count(Notification.id)).where(Notification.user_id == anna,
                                                           Notification.read_at.is_(None))
        assert session.scalar(unread) == 4
        driver = session.scalar(select(User.id).where(User.login == "driver1"))
    with engine.unit() as rt:
        assert rt.crm.load_sheet(driver, clock.now().date())
    advance(engine, clock, timedelta(hours=1))  # the job loop at work for an hour
    with database.sessions() as session:
        assert session.scalar(select(func.count(Incident.id)).where(Incident.status == "open")) == 1


def test_driver1s_demo_delivery_says_what_a_courier_task_says_in_the_deals_own_currency(database, clock):
    engine = build_engine(database, clock)
    prepare_database(engine, demo=True, templates_dir=BPMN, workspace=True)
    with engine.unit() as rt:
        driver = rt.crm.user("driver1")
        [delivery] = [t for t in rt.crm.load_sheet(driver, clock.now().date()) if t.assignee_id == driver.id]
        deal = rt.crm.deal(delivery.deal_id)
        assert deal.currency == "RUB" and delivery.data["currency"] == deal.currency
        assert delivery.data["client"] == deal.contact.name and delivery.data["phone"] in deal.contact.phones
        assert [p["name"] for p in delivery.data["products"]] == [p["name"] for p in deal.products]
        assert delivery.data["address"] and delivery.data["delivery_time"]
