"""The long-lived engine object: configuration, caches, and units of work.

It is built once per process (web server, worker, CLI, test) and handed the action
registry; each operation runs in a `unit()` — one transaction with one `Runtime`.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.clock import Clock
from crm.db import Database
from crm.events import Cause, DealFieldsChanged, Listeners, TaskCompleted, TaskMoved
from crm.service import Crm
from engine.actions import ActionRunner
from engine.failures import classify, lost_race
from engine.jobs import DEFAULT_LEASE, HeldClaims, claim_due_jobs, new_worker_id, release, renew, take_claimed
from engine.models import Incident, Job, ProcessInstance, ProcessVersion, VersionSummary
from engine.runtime import Runtime
from engine.serialization import StateSerializer

log = logging.getLogger(__name__)

RUNTIME_KEY = "dealflow.runtime"
JobHandler = Callable[[Runtime, Job], None]
T = TypeVar("T")

#: Automated steps one transaction may take (tasks Spiff runs, signals and deferred work applied),
#: and seconds it may spend taking them, before the engine stops it as a loop
#: (`DEALFLOW_STEP_BUDGET`, `DEALFLOW_STEP_SECONDS`; docs/processes.md, "Bounded execution").
DEFAULT_STEP_BUDGET = 1000
DEFAULT_STEP_SECONDS = 5.0

#: A write that lost a race and may simply be run again on fresh data (engine.failures).
is_conflict = lost_race


class Engine:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        actions: ActionRunner,
        listeners: Listeners | None = None,
        *,
        max_attempts: int = 3,
        retry_backoff: timedelta = timedelta(seconds=30),
        step_budget: int = DEFAULT_STEP_BUDGET,
        step_seconds: float = DEFAULT_STEP_SECONDS,
        claim_lease: timedelta = DEFAULT_LEASE,
        conflict_retries: int = 5,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.actions = actions
        self.listeners = listeners or Listeners()
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.step_budget = step_budget
        self.step_seconds = step_seconds
        self.claim_lease = claim_lease
        # The jobs (and outbox messages) this process holds claims on: the heartbeat renews them.
        self.claims = HeldClaims()
        self.conflict_retries = conflict_retries
        self._worker_id = worker_id
        self._worker_pid = os.getpid()
        self.serializer = StateSerializer()
        self.job_handlers: dict[str, JobHandler] = {}
        self._specs: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._versions: dict[int, VersionSummary] = {}
        self._wire_listeners()

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
        with self.db.transaction(session) as session:
            runtime = self.runtime_for(Crm(session, self.clock, self.listeners))
            yield runtime
            runtime.drain()

    def runtime_for(self, crm: Crm) -> Runtime:
        """The runtime of this CRM session, created on first use and drained before commit."""
        runtime = crm.session.info.get(RUNTIME_KEY)
        if runtime is None:
            runtime = Runtime(self, crm)
            crm.session.info[RUNTIME_KEY] = runtime
            sa_event.listen(crm.session, "before_commit", lambda _s: runtime.drain())
            sa_event.listen(crm.session, "after_transaction_end", self._forget_runtime)
        return runtime

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

    @staticmethod
    def _forget_runtime(session: Any, transaction: Any) -> None:
        if transaction.parent is None:
            session.info.pop(RUNTIME_KEY, None)

    def spec_for(self, session: Session, version_id: int) -> tuple[Any, dict[str, Any]]:
        """Restored spec objects per version: versions are immutable, so they are cached for good."""
        cached = self._specs.get(version_id)
        if cached is None:
            spec = session.scalar(select(ProcessVersion.spec).where(ProcessVersion.id == version_id))
            cached = self.serializer.spec_from_dict(spec)
            self._specs[version_id] = cached
        return cached

    def version_summary(self, session: Session, version_id: int) -> VersionSummary:
        cached = self._versions.get(version_id)
        if cached is None:
            cached = VersionSummary.of(session.get(ProcessVersion, version_id))
            self._versions[version_id] = cached
        return cached

    # ------------------------------------------------------------------ conveniences
    # (each in a unit of its own; those that advance instances retry when they lose a race)

    def deploy(self, xml: str | bytes) -> ProcessVersion:
        with self.unit() as rt:
            return rt.deploy(xml)

    def start(self, key: str, deal_id: int | None, params: Mapping[str, Any] | None = None,
              *, cause: Cause | None = None) -> ProcessInstance:
        return self.retrying(lambda rt: rt.start(key, deal_id, params, cause=cause or Cause.system()))

    def send_message(self, deal_id: int, message: str, payload: Mapping[str, Any] | None = None,
                     *, cause: Cause | None = None) -> list[int]:
        return self.retrying(lambda rt: rt.send_message(deal_id, message, payload, cause=cause or Cause.system()))

    def retry_incident(self, incident_id: int, *, cause: Cause | None = None) -> ProcessInstance:
        return self.retrying(lambda rt: rt.retry_incident(incident_id, cause=cause or Cause.system()))

    def run_due_jobs(self, limit: int = 100, *, stopping: Callable[[], bool] | None = None) -> int:
        """Claim up to `limit` jobs due by the clock's now and run each in its own transaction;
        returns how many ran. See engine.jobs for how claims keep workers apart (and how the
        job loop's heartbeat keeps them alive while the batch runs). Once `stopping()` is true
        the rest of the batch is handed back unrun (a worker shutting down)."""
        with self.db.transaction() as session:
            ids = claim_due_jobs(session, self.worker_id, self.clock.now(), self.claim_lease, limit)
        self.claims.hold(Job, ids)
        ran = 0
        done = 0
        try:
            for job_id in ids:
                if stopping is not None and stopping():
                    break
                ran += self._run_claimed(job_id, ids[done + 1:])
                done += 1
        finally:
            if done < len(ids):  # interrupted: hand the rest back rather than make others wait
                with self.db.transaction() as session:
                    release(session, ids[done:], self.worker_id)
            self.claims.drop(Job, ids)
        return ran

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
            if job.attempts < self.max_attempts and classify(err) != "deterministic":
                job.due_at = now + self.retry_backoff * (2 ** (job.attempts - 1))
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

    # ------------------------------------------------------------------ CRM events

    def _wire_listeners(self) -> None:
        self.listeners.on(TaskCompleted, self._on_task_completed)
        self.listeners.on(TaskMoved, self._on_task_moved)
        self.listeners.on(DealFieldsChanged, self._on_fields_changed)

    def _on_task_completed(self, crm: Crm, event: TaskCompleted) -> None:
        task = crm.task(event.task_id)
        spiff_task_id = (task.data or {}).get("spiff_task_id")
        if task.process_instance_id is None or spiff_task_id is None:
            return
        task_result = (task.data or {}).get("result", {})
        result = {"task_result": task_result, "completed_task_id": task.id}
        # A form's answers are process variables too, so a gateway after the task can read them.
        for form_field in (task.data or {}).get("form", []):
            result[form_field["name"]] = task_result.get(form_field["name"])
        self.runtime_for(crm).complete_user_task(task.process_instance_id, spiff_task_id, result, event.cause)

    def _on_task_moved(self, crm: Crm, event: TaskMoved) -> None:
        if event.deal_id is None:
            return
        payload = {"task_id": event.task_id, "column": event.to_column, "from_column": event.from_column}
        self.runtime_for(crm).send_message(event.deal_id, f"task.column.{event.to_column}", payload,
                                           cause=event.cause)

    def _on_fields_changed(self, crm: Crm, event: DealFieldsChanged) -> None:
        self.runtime_for(crm).replan_date_timers(event.deal_id, event.changes.keys(), event.cause)
