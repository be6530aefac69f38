"""Moving a virtual clock forward the way real time would pass.

Jumping straight to the target would run every due job at the target time; instead the
clock stops at each due job in order, so a reminder created by one timer and due before
the target still fires, and every job sees "now" as its own due time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from crm.clock import VirtualClock
from engine.engine import Engine
from engine.jobs import next_due_at

MAX_JUMPS = 10_000


def advance(engine: Engine, clock: VirtualClock, delta: timedelta) -> int:
    """Move the clock forward by `delta`, running jobs as they fall due; returns jobs run."""
    return advance_to(engine, clock, clock.now() + delta)


def advance_to(engine: Engine, clock: VirtualClock, target: datetime) -> int:
    ran = engine.run_due_jobs()
    for _ in range(MAX_JUMPS):
        with engine.db.transaction() as session:
            due = next_due_at(session)
        if due is None or due > target:
            break
        if due > clock.now():
            clock.set(due)
        count = engine.run_due_jobs()
        ran += count
        if count == 0:
            break
    if target > clock.now():
        clock.set(target)
    return ran + engine.run_due_jobs()


def advance_to_next_job(engine: Engine, clock: VirtualClock) -> datetime | None:
    """Jump to the next due job and run what is due then; None when nothing is scheduled."""
    with engine.db.transaction() as session:
        due = next_due_at(session)
    if due is None:
        return None
    if due > clock.now():
        clock.set(due)
    engine.run_due_jobs()
    return due
