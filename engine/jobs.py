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

While a worker lives, its claims never expire: it keeps the ids it holds (`HeldClaims`) and a
`Heartbeat` thread pushes their `claimed_until` forward every lease/3 in a short transaction
of its own, so a slow action or a slow receiver keeps its claim however long it takes, and
the lease only has to cover how long a *dead* worker's work waits: a few seconds. A job's
transaction also renews the rest of its batch as it commits (SQLite has one writer, so the
heartbeat waits while a long job holds the write lock, and the batch must not have expired
when the lock is let go).

Only one batch is ever in memory: a million waiting rows cost rows, never memory.
SQLite has a single writer, so there the lock clauses are dropped and the same SQL works.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from crm.clock import Clock
from crm.db import Database
from crm.models import Deal
from engine.models import Job

log = logging.getLogger(__name__)

#: How long a claim holds, unrenewed, before another worker may take the work over: how late a
#: dead worker's jobs run. Live workers renew theirs every lease/3 (Heartbeat).
DEFAULT_LEASE = timedelta(seconds=10)


#: `Session.info` key of the rows a chunk of jobs inserts at its end (`add_later`).
LATER_ROWS = "dealflow.later_rows"


def add_later(session: Session, row: object) -> None:
    """Add `row` to the session, or, while a chunk of jobs runs (`Engine._run_together`), keep it
    for the chunk's end, where the rows of all its jobs go in one multi-row INSERT. For rows that
    nothing reads back in the transaction that writes them (the automation log): a job whose
    savepoint rolls back loses its rows with the rest of its effects."""
    later = session.info.get(LATER_ROWS)
    if later is None:
        session.add(row)
    else:
        later.append(row)


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


def start_claimed(session: Session, job_ids: list[int], worker: str, now: datetime) -> dict[int, Job]:
    """`take_claimed` for several jobs at once, in two statements: lock the jobs' deals, then mark
    the jobs still pending and claimed by `worker` done as of `now` and load them, by id (a
    missing one was cancelled or taken over after its claim expired).

    Done before running, as a job alone is, so what a job's run looks for among pending jobs
    (a deal's robots to cancel) does not find the job itself; `unstart` puts back those that do
    not run after all. The deals are locked first, as `take_claimed` does, and in id order, so
    two workers whose batches share a deal wait for each other rather than deadlock; they are
    loaded whole, so the jobs' handlers find them in the session (`Crm.deal`) without a query.
    """
    if not job_ids:
        return {}
    deals = (select(Deal).where(Deal.id.in_(select(Job.deal_id).where(Job.id.in_(job_ids)).scalar_subquery()))
             .order_by(Deal.id))
    ours = select(Job.id).where(Job.id.in_(job_ids), Job.status == "pending", Job.claimed_by == worker).order_by(Job.id)
    if _is_postgres(session):
        deals = deals.with_for_update()
        ours = ours.with_for_update()
    session.scalars(deals).all()
    started = session.scalars(
        update(Job).where(Job.id.in_(ours.scalar_subquery())).values(status="done", finished_at=now)
        .returning(Job), execution_options={"synchronize_session": False})
    return {job.id: job for job in started}


def unstart(jobs: Iterable[Job]) -> None:
    """Put jobs `start_claimed` marked done back to pending: they did not run (their savepoint
    rolled back, or the chunk stopped before them), and are still claimed."""
    for job in jobs:
        job.status, job.finished_at = "pending", None


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


def renew(session: Session, model: Any, ids: Iterable[int], *, worker: str, now: datetime,
          lease: timedelta) -> int:
    """Push the claims of `ids` that `worker` still holds to `now + lease`; returns how many.

    Rows that are no longer pending, or that another worker took over, are left alone. On
    PostgreSQL rows locked by someone are skipped rather than waited for: the only lock a
    claimed row of ours can be under is our own job's transaction (which holds it against any
    claimer anyway) or a claimer that found it already expired.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    held = select(model.id).where(model.id.in_(wanted), model.claimed_by == worker, model.status == "pending")
    if _is_postgres(session):
        held = held.with_for_update(skip_locked=True)
    # An UPDATE runs as a CursorResult, which SQLAlchemy's Session.execute types as Result only.
    result = cast("CursorResult[Any]", session.execute(
        update(model).where(model.id.in_(held.scalar_subquery()))
        .values(claimed_until=now + lease).execution_options(synchronize_session=False)
    ))
    return result.rowcount or 0


class HeldClaims:
    """The rows this process holds claims on, per table: what its heartbeat renews.

    Kept in memory rather than found by `claimed_by` in the tables, so a heartbeat costs a
    primary-key update of at most a batch or two of rows, however many jobs wait. Thread-safe:
    the job loop adds and drops, the heartbeat reads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[Any, set[int]] = {}

    def hold(self, model: Any, ids: Iterable[int]) -> None:
        with self._lock:
            self._held.setdefault(model, set()).update(ids)

    def drop(self, model: Any, ids: Iterable[int]) -> None:
        with self._lock:
            held = self._held.get(model)
            if held is not None:
                held.difference_update(ids)

    def of(self, model: Any) -> list[int]:
        with self._lock:
            return sorted(self._held.get(model, ()))

    def snapshot(self) -> dict[Any, list[int]]:
        with self._lock:
            return {model: sorted(ids) for model, ids in self._held.items() if ids}


class Heartbeat:
    """A daemon thread that renews this worker's claims every `lease / 3`, each table in a short
    transaction of its own; it dies with the process, which is what lets a dead worker's claims
    expire one lease later while a live one never loses its own.

    A beat that fails (the database is away, or busy on SQLite behind a long job) is logged and
    the next one tries again; two missed beats in a row still leave a third of the lease.
    """

    def __init__(self, db: Database, clock: Clock, claims: HeldClaims, worker: Callable[[], str],
                 lease: timedelta, every: timedelta | None = None) -> None:
        self.db = db
        self.clock = clock
        self.claims = claims
        self.worker = worker
        self.lease = lease
        self.every = every if every is not None else lease / 3
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> int:
        """Renew every claim held now; returns how many rows were renewed."""
        renewed = 0
        for model, ids in self.claims.snapshot().items():
            with self.db.transaction() as session:
                renewed += renew(session, model, ids, worker=self.worker(), now=self.clock.now(), lease=self.lease)
        return renewed

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dealflow-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.every.total_seconds() + 30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.every.total_seconds()):
            try:
                self.beat()
            except Exception:  # never let one bad beat end the heartbeat: the next one may work
                log.warning("renewing claims failed; retrying in %s", self.every, exc_info=True)
