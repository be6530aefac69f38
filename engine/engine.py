"""The long-lived engine object: configuration, caches, and units of work.

It is built once per process (web server, worker, CLI, test) and handed the action
registry and the table of who reacts to CRM events (engine/subscriptions.py); each
operation runs in a `unit()` — one transaction with one `Runtime`, its unit of work.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.clock import Clock
from crm.db import Database
from crm.events import Cause
from engine.actions import ActionRunner
from engine.dmn.store import deploy_decisions
from engine.failures import classify, lost_race
from engine.jobs import (
    DEFAULT_LEASE,
    LATER_ROWS,
    HeldClaims,
    claim_due_jobs,
    new_worker_id,
    release,
    renew,
    start_claimed,
    take_claimed,
    unstart,
)
from engine.models import DecisionVersion, Incident, Job, ProcessInstance, ProcessVersion, VersionSummary
from engine.retry import JOB_RETRY, RetryPolicy
from engine.runtime import Runtime
from engine.serialization import StateSerializer
from engine.subscriptions import ENGINE_SUBSCRIPTIONS, JobHandler, Subscriptions
from engine.unit import MAX_CHAIN

if TYPE_CHECKING:
    from engine.broadcast import Broadcaster

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Automated steps one transaction may take (tasks Spiff runs, signals and deferred work applied),
#: and seconds it may spend taking them, before the engine stops it as a loop
#: (`DEALFLOW_STEP_BUDGET`, `DEALFLOW_STEP_SECONDS`; docs/processes.md, "Bounded execution").
DEFAULT_STEP_BUDGET = 1000
DEFAULT_STEP_SECONDS = 5.0

#: Jobs run together in one transaction, a savepoint each (`Engine.run_due_jobs`): a commit
#: (and on PostgreSQL its WAL flush) and the look-ups of the automation, pipelines, stages and
#: users are paid once per chunk instead of once per job. Bounded so the chunk's deals stay
#: locked briefly and PostgreSQL keeps a transaction's subtransactions in memory (64 of them).
DEFAULT_JOBS_PER_TRANSACTION = 25
#: ... and commits after this long, whatever is left of the chunk, so a slow job does not keep
#: the deals of the jobs after it locked.
DEFAULT_CHUNK_SECONDS = 1.0

_PROCESS_NAME = re.compile(r"\bprocess\b")

#: A write that lost a race and may simply be run again on fresh data (engine.failures).
is_conflict = lost_race


@contextmanager
def _keeping_loaded(session: Session) -> Iterator[None]:
    """Hold every object the session loads until the block ends. A session keeps its objects
    only weakly: without this, the deal, pipeline, stage and user one job of a chunk loaded are
    gone by the next job, which would select them again."""
    kept: list[object] = []

    def keep(_session: Session, instance: object) -> None:
        kept.append(instance)

    sa_event.listen(session, "loaded_as_persistent", keep)
    try:
        yield
    finally:
        sa_event.remove(session, "loaded_as_persistent", keep)
        kept.clear()


class Engine:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        actions: ActionRunner,
        subscriptions: Subscriptions = ENGINE_SUBSCRIPTIONS,
        *,
        retry: RetryPolicy = JOB_RETRY,
        timezone: str = "UTC",
        step_budget: int = DEFAULT_STEP_BUDGET,
        step_seconds: float = DEFAULT_STEP_SECONDS,
        chain_limit: int = MAX_CHAIN,
        claim_lease: timedelta = DEFAULT_LEASE,
        conflict_retries: int = 5,
        worker_id: str | None = None,
        jobs_per_transaction: int = DEFAULT_JOBS_PER_TRANSACTION,
        chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    ) -> None:
        self.db = db
        self.clock = clock
        self.actions = actions
        #: Who reacts to each CRM event, in order, and who runs each kind of job: the one table.
        self.subscriptions = subscriptions
        self.retry = retry  # failed jobs, robots and process steps (engine.retry)
        # The company calendar's timezone (DEALFLOW_TIMEZONE): robots' "at 10:00", "in working hours".
        self.timezone = ZoneInfo(timezone)
        self.step_budget = step_budget
        self.step_seconds = step_seconds
        self.chain_limit = chain_limit  # automated steps in a row (engine.unit.ChainGuard)
        self.claim_lease = claim_lease
        # The jobs (and outbox messages) this process holds claims on: the heartbeat renews them.
        self.claims = HeldClaims()
        self.conflict_retries = conflict_retries
        # Due jobs run this many to a transaction, for at most about this long (run_due_jobs).
        self.jobs_per_transaction = max(1, jobs_per_transaction)
        self.chunk_seconds = chunk_seconds
        self._worker_id = worker_id
        self._worker_pid = os.getpid()
        self.serializer = StateSerializer()
        self.job_handlers: dict[str, JobHandler] = dict(subscriptions.jobs)
        #: Set by engine.broadcast.broadcaster_for once something watches this engine's commits.
        self.broadcaster: Broadcaster | None = None
        self._specs: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._versions: dict[int, VersionSummary] = {}
        # key -> (id, version) of the latest version this process has seen; a start that uses it
        # is checked against newer versions at its INSERT (engine.instance_rows), so a deploy by
        # another process is never missed, and a deploy here forgets it at once.
        self._latest: dict[str, tuple[int, int]] = {}
        self._reads_process: dict[int, bool] = {}

    @property
    def worker_id(self) -> str:
        """Who this process is when it claims jobs and outbox rows: host:pid:random, made anew
        in a forked child (a pre-loading server's workers must not share one identity)."""
        if self._worker_id is None or self._worker_pid != os.getpid():
            self._worker_id, self._worker_pid = new_worker_id(), os.getpid()
        return self._worker_id

    # ------------------------------------------------------------------ units of work

    @contextmanager
    def unit(self, session: Session | None = None) -> Iterator[Runtime]:
        """One transaction: everything done through the runtime commits together or not at all.

        On `session` when given (the web app's per-request session, closed by its owner); else
        on a session of the unit's own."""
        with self.db.transaction(session) as opened, self.unit_on(opened) as runtime:
            yield runtime

    @contextmanager
    def unit_on(self, session: Session) -> Iterator[Runtime]:
        """The unit of work of a transaction someone else opened and commits (`unit()` is the
        usual way in). Its deferred work and signals are drained at the end of the block, and
        whenever the session commits or releases a savepoint (SQLAlchemy calls `before_commit`
        for both) while no step or deferred work is running: so a rule's savepoint, once released,
        lets the robots and rules it set off run before the next one begins. The listener goes
        with the unit, so a session that runs many units (a chunk of jobs, a request) keeps none."""
        runtime = Runtime(self, session)

        def drain(_session: Session) -> None:
            runtime.drain()

        sa_event.listen(session, "before_commit", drain)
        try:
            yield runtime
            runtime.drain()
        finally:
            sa_event.remove(session, "before_commit", drain)

    def retrying(self, work: Callable[[Runtime], T], sessions: Callable[[], Session] | None = None) -> T:
        """Run `work` in a unit; if it loses a race to another writer (`is_conflict`), run it
        again in a fresh unit on fresh data, up to `conflict_retries` times, so a conflicting
        writer retries instead of overwriting or failing. `work` must be safe to repeat: a
        losing attempt rolled back everything it wrote. `sessions` gives each attempt a fresh
        session (the web app's per-request one, anew); by default each unit opens its own."""
        for attempt in range(1, self.conflict_retries + 1):
            try:
                with self.unit(sessions() if sessions is not None else None) as rt:
                    return work(rt)
            except Exception as err:
                if not is_conflict(err) or attempt == self.conflict_retries:
                    raise
                log.info("conflict on attempt %s, retrying: %s", attempt, type(err).__name__)
                time.sleep(random.uniform(0, 0.02 * 2 ** attempt))  # jitter so the retries of two writers part
        raise AssertionError("unreachable")

    def spec_for(self, session: Session, version_id: int) -> tuple[Any, dict[str, Any]]:
        """Restored spec objects per version: versions are immutable, so they are cached for good."""
        cached = self._specs.get(version_id)
        if cached is None:
            spec = session.scalars(select(ProcessVersion.spec).where(ProcessVersion.id == version_id)).one()
            cached = self.serializer.spec_from_dict(spec)
            self._specs[version_id] = cached
        return cached

    def reads_process(self, session: Session, version_id: int) -> bool:
        """Whether any text of the version may read the `process` name (its id): an instance
        of such a version gets its id before its first step instead of at its insert. A crude
        word match over the stored spec: a false "yes" only costs the id's early reservation."""
        cached = self._reads_process.get(version_id)
        if cached is None:
            spec = session.scalars(select(ProcessVersion.spec).where(ProcessVersion.id == version_id)).one()
            cached = _PROCESS_NAME.search(json.dumps(spec)) is not None
            self._reads_process[version_id] = cached
        return cached

    def cached_latest(self, key: str) -> tuple[int, int] | None:
        """(id, version) of the latest version of `key` as this process last saw it, if it did."""
        return self._latest.get(key)

    def remember_latest(self, key: str, version_id: int, version: int) -> None:
        self._latest[key] = (version_id, version)

    def forget_latest(self, key: str) -> None:
        self._latest.pop(key, None)

    def version_summary(self, session: Session, version_id: int) -> VersionSummary:
        cached = self._versions.get(version_id)
        if cached is None:
            cached = VersionSummary.of(session.get_one(ProcessVersion, version_id))
            self._versions[version_id] = cached
        return cached

    # ------------------------------------------------------------------ conveniences
    # (each in a unit of its own; those that advance instances retry when they lose a race)

    def deploy(self, xml: str | bytes) -> ProcessVersion:
        with self.unit() as rt:
            return rt.deploy(xml)

    def deploy_decisions(self, xml: str | bytes) -> list[DecisionVersion]:
        """A new version of each decision of a DMN file that changed (engine.dmn.store)."""
        with self.unit() as rt:
            return deploy_decisions(rt.session, rt.clock.now(), xml)

    def start(self, key: str, deal_id: int | None, params: Mapping[str, Any] | None = None,
              *, cause: Cause | None = None) -> ProcessInstance:
        return self.retrying(lambda rt: rt.start(key, deal_id, params, cause=cause or Cause.system()))

    def send_message(self, deal_id: int, message: str, payload: Mapping[str, Any] | None = None,
                     *, cause: Cause | None = None) -> list[int]:
        return self.retrying(lambda rt: rt.send_message(deal_id, message, payload, cause=cause or Cause.system()))

    def retry_incident(self, incident_id: int, *, cause: Cause | None = None) -> ProcessInstance:
        return self.retrying(lambda rt: rt.retry_incident(incident_id, cause=cause or Cause.system()))

    def run_due_jobs(self, limit: int = 100, *, stopping: Callable[[], bool] | None = None) -> int:
        """Claim up to `limit` jobs due by the clock's now and run them, several to a transaction
        (`_run_together`); returns how many ran. See engine.jobs for how claims keep workers apart
        (and how the job loop's heartbeat keeps them alive while the batch runs). Once
        `stopping()` is true the rest of the batch is handed back unrun (a worker shutting down)."""
        with self.db.transaction() as session:
            ids = claim_due_jobs(session, self.worker_id, self.clock.now(), self.claim_lease, limit)
        self.claims.hold(Job, ids)
        ran = 0
        done = 0
        try:
            while done < len(ids):
                if stopping is not None and stopping():
                    break
                handled, count = self._run_together(ids[done:done + self.jobs_per_transaction], ids[done:], stopping)
                ran += count
                done += handled
        finally:
            if done < len(ids):  # interrupted: hand the rest back rather than make others wait
                with self.db.transaction() as session:
                    release(session, ids[done:], self.worker_id)
            self.claims.drop(Job, ids)
        return ran

    def _run_together(self, chunk: list[int], rest_of_batch: list[int],
                      stopping: Callable[[], bool] | None) -> tuple[int, int]:
        """Run the claimed jobs of `chunk` in one transaction, each in a savepoint of its own, and
        commit them together; returns (jobs handled, jobs that ran). Handled stops short of the
        chunk once `stopping()` or after `chunk_seconds` (the deals stay locked until the commit).

        Each job keeps the semantics of a transaction of its own: its effects and its `done` are
        committed together, a unit of work of its own runs it (its step budget, chain guard,
        signals), and a failure rolls back its savepoint only. The failed job is then treated
        after the commit exactly as if it had run alone: one that lost a race runs again alone
        on fresh data (`_run_claimed`, which retries), any other failure is recorded and backed
        off (`_job_failed`). Should the transaction itself fail (the connection went away, the
        commit was refused), nothing of the chunk stays and each of its jobs runs alone.

        The chunk's jobs are all marked done as it begins, in one statement (their finished_at
        is when the chunk took them); those that do not run after all are put back to pending
        before the commit. Their automation-log rows are inserted together at the end."""
        again: list[int] = []
        failed: list[tuple[int, Exception]] = []
        later: list[object] = []  # the jobs' rows for the chunk's end (engine.jobs.add_later)
        handled = ran = 0
        try:
            with self.db.transaction() as session, _keeping_loaded(session):
                # Done before running: what a run schedules (a cycle's next tick) is a new row.
                jobs = start_claimed(session, chunk, self.worker_id, self.clock.now())
                began = time.monotonic()
                for job_id in chunk:
                    if handled and ((stopping is not None and stopping())
                                    or time.monotonic() - began > self.chunk_seconds):
                        break
                    handled += 1
                    job = jobs.get(job_id)
                    if job is None:
                        continue  # cancelled meanwhile, or taken over after our claim expired
                    rows: list[object] = []
                    session.info[LATER_ROWS] = rows
                    try:
                        with session.begin_nested(), self.unit_on(session) as rt:
                            rt.run_job(job)
                    except Exception as err:
                        unstart([job])
                        if is_conflict(err):
                            again.append(job_id)
                        else:
                            failed.append((job_id, err))
                        continue
                    finally:
                        del session.info[LATER_ROWS]
                    later += rows
                    ran += 1
                unstart(jobs[job_id] for job_id in chunk[handled:] if job_id in jobs)
                session.add_all(later)
                # However long the chunk took, the batch's next jobs leave this transaction claimed
                # for a full lease (on SQLite the heartbeat could not write while we held the lock).
                renew(session, Job, rest_of_batch, worker=self.worker_id, now=self.clock.now(),
                      lease=self.claim_lease)
        except Exception:
            alone = chunk[:handled] or chunk  # failed before the first job began: all of them
            log.warning("jobs %s could not run together; running each alone", alone, exc_info=True)
            return len(alone), sum(self._run_claimed(job_id, rest_of_batch) for job_id in alone)
        for job_id, error in failed:
            log.error("job %s failed", job_id, exc_info=error)
            self._job_failed(job_id, error)
        return handled, ran + sum(self._run_claimed(job_id, rest_of_batch) for job_id in again)

    def _run_claimed(self, job_id: int, rest_of_batch: list[int] | None = None) -> int:
        def run(rt: Runtime) -> int:
            job = take_claimed(rt.session, job_id, self.worker_id)
            if job is None:
                return 0  # cancelled meanwhile, or taken over after our claim expired
            # Done before running: what the run schedules (a cycle's next tick) is a new row.
            job.status, job.finished_at = "done", self.clock.now()
            rt.run_job(job)
            # However long this job took, the batch's next jobs leave this transaction claimed
            # for a full lease (on SQLite the heartbeat could not write while we held the lock).
            renew(rt.session, Job, rest_of_batch or (), worker=self.worker_id, now=self.clock.now(),
                  lease=self.claim_lease)
            return 1

        try:
            return self.retrying(run)
        except Exception as err:  # the job's transaction rolled back; record why and back off
            log.exception("job %s failed", job_id)
            self._job_failed(job_id, err)
            return 0

    def _job_failed(self, job_id: int, err: Exception) -> None:
        with self.db.transaction() as session:
            job = session.get(Job, job_id)
            if job is None or job.status != "pending" or job.claimed_by not in (None, self.worker_id):
                return
            job.attempts += 1
            job.claimed_by, job.claimed_until = None, None
            job.last_error = f"{type(err).__name__}: {err}"
            now = self.clock.now()
            # A deterministic failure (engine.failures) fails the same way next time: no retry.
            retry_at = self.retry.next_attempt(job.attempts, now)
            if retry_at is not None and classify(err) != "deterministic":
                job.due_at = retry_at
                return
            job.status, job.finished_at = "failed", now
            if job.instance_id is not None:
                instance = session.get(ProcessInstance, job.instance_id)
                if instance is not None and instance.status == "running":
                    instance.status = "incident"
                session.add(Incident(
                    instance_id=job.instance_id, element_id=job.element_id, task_id=job.task_id,
                    message=job.last_error, attempts=job.attempts, status="open", created_at=now,
                ))
