"""The workers benchmark must measure real firings: the job rows it writes in bulk have to be
rows the real job loop fires as robots (not cancels as stale), and its due-time spreading has
to order them as asked. No timing here; the figures are bench/workers.py's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bench.workers import AUTOMATION, bring_due, schedule_robots
from crm.clock import VirtualClock
from crm.models import Notification
from engine.models import Job
from robots.models import AutomationLogEntry
from tests.support.automation import save
from tests.support.world import app_engine


class TickingClock(VirtualClock):
    """Time passes between any two readings, as on the wall clock the bench runs on, so a bulk
    row whose deal's stage entry time differs from the robot's would be caught (fired as stale)."""

    def now(self) -> datetime:
        return self.advance(timedelta(milliseconds=1))


def test_bulk_scheduled_robots_fire_through_the_job_loop(database) -> None:
    clock = TickingClock()
    engine = app_engine(database, clock)
    save(engine, "main", AUTOMATION)
    deal_ids = schedule_robots(engine, 5)

    assert len(deal_ids) == 5
    assert engine.run_due_jobs(100) == 0  # "after 1h": nothing is due yet
    clock.advance(timedelta(hours=1, minutes=1))
    assert engine.run_due_jobs(100) == 5

    with engine.unit() as rt:
        jobs = rt.session.scalars(select(Job).where(Job.kind == "robot").order_by(Job.deal_id)).all()
        outcomes = rt.session.execute(select(AutomationLogEntry.deal_id, AutomationLogEntry.outcome)
                                      .where(AutomationLogEntry.outcome != "scheduled")
                                      .order_by(AutomationLogEntry.deal_id)).all()
        notified = rt.session.scalars(select(Notification.deal_id).where(Notification.text.like("Follow up %"))
                                      .order_by(Notification.deal_id)).all()
    assert [(j.deal_id, j.status) for j in jobs] == [(d, "done") for d in deal_ids]
    assert [tuple(row) for row in outcomes] == [(d, "ran") for d in deal_ids]
    assert notified == deal_ids


def test_due_times_are_spread_at_the_rate_in_job_order(postgres_database) -> None:
    engine = app_engine(postgres_database, VirtualClock())
    save(engine, "main", AUTOMATION)
    schedule_robots(engine, 4)
    first = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    with engine.db.transaction() as session:
        bring_due(session, first, rate=2)
    with engine.unit() as rt:
        due = rt.session.scalars(select(Job.due_at).order_by(Job.id)).all()
    assert due == [first + timedelta(seconds=n / 2) for n in range(4)]
