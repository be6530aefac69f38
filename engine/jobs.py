"""Claiming due work so that any number of workers, on any number of machines, share one table.

A worker claims a *batch* of due rows in one short transaction:

    UPDATE jobs SET claimed_by = :me, claimed_until = :now + :lease
    WHERE id IN (SELECT id FROM jobs WHERE status = 'pending' AND due_at <= :now
                 AND (claimed_until IS NULL OR claimed_until < :now)
                 ORDER BY due_at, id LIMIT :n FOR UPDATE SKIP LOCKED)
    RETURNING id, due_at

and commits, so other workers skip those rows and claim the next batch. Each job then runs
in a transaction of its own that first locks the row again and checks the claim is still
this worker's (`take_claimed`): the job's effects and its `done` commit together, so an
internal action happens at most once, and a worker killed mid-job leaves the row pending
with a claim that expires after `lease`, when another worker takes the job over.

Only one batch is ever in memory: a million waiting rows cost rows, never memory.
SQLite has a single writer, so there the lock clauses are dropped and the same SQL works.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from crm.models import Deal
from engine.models import Job

#: How long a claim holds before another worker may take the work over.
DEFAULT_LEASE = timedelta(seconds=60)


def new_worker_id() -> str:
    """host:pid:random — unique per process start, readable when looking at claimed rows."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def claim_due(session: Session, model: Any, due_column: Any, *, worker: str, now: datetime,
              lease: timedelta, limit: int) -> list[int]:
    """Claim up to `limit` pending rows of `model` (jobs, outbox) due by `now` whose claim is free
    or expired; returns their ids in due order. The caller commits to publish the claim.

    `model` needs `id`, `status`, `claimed_by` and `claimed_until` columns.
    """
    candidates = (
        select(model.id)
        .where(model.status == "pending", due_column <= now,
               or_(model.claimed_until.is_(None), model.claimed_until < now))
        .order_by(due_column, model.id)
        .limit(limit)
    )
    if _is_postgres(session):
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(model)
        .where(model.id.in_(candidates.scalar_subquery()))
        .values(claimed_by=worker, claimed_until=now + lease)
        .returning(model.id, due_column)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(statement).all()
    return [row[0] for row in sorted(rows, key=lambda row: (row[1], row[0]))]


def claim_due_jobs(session: Session, worker: str, now: datetime, lease: timedelta, limit: int) -> list[int]:
    return claim_due(session, Job, Job.due_at, worker=worker, now=now, lease=lease, limit=limit)


def take_claimed(session: Session, job_id: int, worker: str) -> Job | None:
    """The job, locked for this transaction, if it is still pending and still claimed by `worker`
    (None if it was cancelled, or taken over by another worker after the claim expired).

    The job's deal is locked first: events of a deal (triggers.intake) lock the deal and then
    touch its jobs, so taking the locks in the same order means a job and an event of one deal
    wait for each other instead of deadlocking, and they apply one after the other.
    """
    deal_id = session.scalar(select(Job.deal_id).where(Job.id == job_id))
    if deal_id is not None and _is_postgres(session):
        session.execute(select(Deal.id).where(Deal.id == deal_id).with_for_update())
    query = select(Job).where(Job.id == job_id, Job.status == "pending", Job.claimed_by == worker)
    if _is_postgres(session):
        query = query.with_for_update()
    return session.scalars(query).first()


def release(session: Session, ids: list[int], worker: str) -> None:
    """Give back claims this worker will not use (it is stopping), so no one waits for the lease."""
    if ids:
        session.execute(
            update(Job).where(Job.id.in_(ids), Job.claimed_by == worker, Job.status == "pending")
            .values(claimed_by=None, claimed_until=None).execution_options(synchronize_session=False)
        )


def lock_job(session: Session, job_id: int) -> Job | None:
    """The job, locked for this transaction, if it is still pending and nobody else holds it
    (a robot due at once is fired in the transaction that scheduled it)."""
    query = select(Job).where(Job.id == job_id, Job.status == "pending")
    if _is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).first()


def next_due_at(session: Session) -> datetime | None:
    return session.scalars(
        select(Job.due_at).where(Job.status == "pending").order_by(Job.due_at).limit(1)
    ).first()
