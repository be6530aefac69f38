"""Claiming due jobs so that any number of workers can share one table.

On PostgreSQL a due job is locked with `FOR UPDATE SKIP LOCKED` for the length of the
transaction that runs it: two workers never run the same job, and a worker that dies
releases its lock with its connection. SQLite has a single writer, so the lock is moot.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Job


def due_job_ids(session: Session, now: datetime, limit: int) -> list[int]:
    query = (
        select(Job.id)
        .where(Job.status == "pending", Job.due_at <= now)
        .order_by(Job.due_at, Job.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def lock_job(session: Session, job_id: int) -> Job | None:
    """The job, locked for this transaction, if it is still pending and nobody else holds it."""
    query = select(Job).where(Job.id == job_id, Job.status == "pending")
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).first()


def next_due_at(session: Session) -> datetime | None:
    return session.scalars(
        select(Job.due_at).where(Job.status == "pending").order_by(Job.due_at).limit(1)
    ).first()
