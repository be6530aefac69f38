"""One transaction's worth of process execution.

A `Runtime` is bound to one database session (through a `Crm` service). Every change it
makes — instance state, CRM writes by actions, jobs, waits, history, incidents — lands in
that session and commits together. Work that other code asks for while an instance is
being stepped (an action completing a task, a field change re-planning a timer) is queued
as a signal and applied after the current step is saved, so an instance is never loaded
twice at once.

The runtime is the transaction's unit of work (`engine.unit.UnitOfWork`): it builds the CRM
service of the session, publishing to the engine's subscription table with itself as the
unit, and it holds the transaction's state — signals, deferred work, the step budget, the
chain guard.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit, BpmnStartTask
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from crm.events import Cause
from crm.service import Crm
from dsl import compile_expression, compile_template
from engine import calls, collaboration, conditions, instance_rows
from engine.actions import ActionContext, ActionInputError
from engine.bpmn import starts_plainly, task_form, waiting_starts
from engine.dmn.store import decide
from engine.errors import InvalidState, NotFound, StartRefused, StepBudgetExceeded
from engine.failures import causes, classify, is_database_transient
from engine.models import (
    HistoryEntry,
    Incident,
    Job,
    MessageWait,
    ProcessInstance,
    ProcessVersion,
    VersionSummary,
)
from engine.operations import failure_details
from engine.parameters import coerce_parameters
from engine.scripting import UNBOUND, DslScriptEngine, ExpressionFailed, to_json_safe
from engine.timers import CycleTimer, DateTimer, event_definitions, spec_event_definitions, waiting_timer
from engine.unit import ChainGuard

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from engine.engine import Engine

log = logging.getLogger(__name__)

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
#: Tasks a person does: each becomes a CRM task. A plain `bpmn:task` (Spiff's NoneTask, as most
#: exported diagrams draw a step) is one too, or the instance would wait on it with nobody told.
USER_TASK_TYPES = ("UserTask", "ManualTask", "NoneTask")
#: Which element to blame when several ran equally often in a step that exceeded the budget:
#: in a recursion the call activity, in a cycle the gateway, rather than an event on the way.
_BLAME_FIRST = {"CallActivity": 3, "StandardLoopTask": 2, "SequentialMultiInstanceTask": 2,
                "ParallelMultiInstanceTask": 2, "ExclusiveGateway": 1, "InclusiveGateway": 1}


HISTORY_INSERT = HistoryEntry.__table__.insert()


@dataclass
class Signal:
    instance_id: int
    label: str
    apply: Callable[[BpmnWorkflow], None] | None = None
    cause: Cause = field(default_factory=Cause.system)


class StepFailed(Exception):
    """A step raised. `task` is the task Spiff put in ERROR (it can be run again); `at` the task
    the error belongs to when Spiff raised after that task completed or while it caught an event."""

    def __init__(self, task: Any, error: BaseException, at: Any = None) -> None:
        super().__init__(str(error))
        self.task = task
        self.error = error
        self.at = task if task is not None else at


def all_tasks(workflow: BpmnWorkflow, **kwargs: Any) -> list[Any]:
    """Tasks of the top workflow and of every subprocess, each once (Spiff's own walk of the top
    workflow already descends into running subprocesses: without the check their tasks came
    twice, and the history recorded each of them twice)."""
    tasks: list[Any] = workflow.get_tasks(**kwargs)
    seen = {t.id for t in tasks}
    for sub in workflow.subprocesses.values():
        for task in sub.get_tasks(**kwargs):
            if task.id not in seen:
                seen.add(task.id)
                tasks.append(task)
    return tasks


def _root_error(error: BaseException) -> BaseException:
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = getattr(error, "exception", None) or error.__cause__
        if inner is None:
            break
        error = inner
    return error


def _instance_of(job: Job) -> int:
    """The instance a timer or retry job belongs to: both are always written with theirs."""
    if job.instance_id is None:
        raise InvalidState(f"{job.kind} job {job.id} names no process instance")
    return job.instance_id


def element_label(task: Any) -> str:
    spec = task.task_spec
    return str(spec.bpmn_name or spec.bpmn_id or spec.name)


class Runtime:
    """Process operations inside one transaction; get one from `Engine.unit()`."""

    def __init__(self, engine: Engine, session: Session) -> None:
        self.engine = engine
        self.session = session
        self.clock = engine.clock
        self.crm = Crm(session, engine.clock, engine.subscriptions.bound(self))
        self.chain = ChainGuard(engine.chain_limit)
        self._queue: deque[Signal] = deque()
        self._deferred: deque[Callable[[], None]] = deque()
        self._busy = False
        self._steps = 0  # automated steps taken in this transaction, against engine.step_budget
        self._stepping_since: float | None = None  # monotonic time of the first step, against engine.step_seconds
        self._ran: Counter[tuple[str, str]] = Counter()  # (element, type) -> runs in the current step
        self._history_rows: list[dict[str, Any]] = []
        self._current: Any = None  # the task Spiff is running or catching an event for
        self._instance_id: int | None = None  # the instance being stepped
        # Instances started here and not inserted yet (by id() of the object): the (key, version)
        # their INSERT must check is still the latest, or None (engine.instance_rows).
        self._unsaved: dict[int, tuple[str, int] | None] = {}
        # Instances whose row this runtime wrote with Core, in order, and whether it inserted it:
        # a rolled-back step forgets them (the ORM does not know of those writes).
        self._core_written: list[tuple[ProcessInstance, bool]] = []

    # ------------------------------------------------------------------ definitions

    def deploy(self, xml: str | bytes) -> ProcessVersion:
        """A new immutable version of the process in `xml`; the same text twice gives one version.
        Of a collaboration, every executable pool is deployed; this is the one a plain start runs."""
        return collaboration.deploy_file(self, xml)[0]

    def deploy_all(self, xml: str | bytes) -> list[ProcessVersion]:
        """Every executable process of `xml` as a version (engine/collaboration.py)."""
        return collaboration.deploy_file(self, xml)

    def latest_version(self, key: str, *, required: bool = True) -> ProcessVersion | None:
        version = self.session.scalars(
            select(ProcessVersion).where(ProcessVersion.key == key).order_by(ProcessVersion.version.desc()).limit(1)
        ).first()
        if version is None and required:
            raise NotFound(f"no process {key!r} is deployed")
        return version

    # ------------------------------------------------------------------ instances

    def start(
        self,
        key: str,
        deal_id: int | None,
        params: Mapping[str, Any] | None = None,
        *,
        cause: Cause,
        version: int | None = None,
        is_sandbox: bool = False,
        on_event: str | None = None,
    ) -> ProcessInstance:
        """Start an instance, or refuse with every missing field and bad parameter, writing nothing.

        `on_event` names the message (or signal) the caller is about to hand the new instance at
        its start event. Without one, a process whose every start event waits for a message or
        signal is refused: started plainly it would wait at its start forever, and the designer
        is told which message to send instead (as Camunda 8 refuses such a start)."""
        cached = self.engine.cached_latest(key) if version is None else None
        pv = self.engine.version_summary(self.session, cached[0]) if cached else self._version(key, version)
        deal = self.crm.deal(deal_id) if deal_id is not None else None
        values, invalid = coerce_parameters(pv.parameters, params or {})
        missing = self.crm.missing_fields(deal, [f["name"] for f in pv.required_fields]) if deal else []
        if deal is None and pv.required_fields:
            missing = [f["name"] for f in pv.required_fields]
        if missing or invalid:
            labels = {f["name"]: f.get("label") or f["name"] for f in pv.required_fields}
            parts = []
            if missing:
                parts.append("missing deal fields: " + ", ".join(labels[m] for m in missing))
            if invalid:
                parts.append("invalid parameters: " + ", ".join(f"{k} ({v})" for k, v in invalid.items()))
            raise StartRefused(
                f"{pv.name} cannot start: " + "; ".join(parts),
                {"missing_fields": missing, "invalid_parameters": invalid},
            )
        spec, own_subs = self.engine.spec_for(self.session, pv.id)
        if on_event is None and not starts_plainly(spec):
            waits_for = waiting_starts(spec)
            raise StartRefused(
                f"{pv.name} starts on {' or '.join(waits_for) or 'an event'}: send it "
                f"(POST /api/v1/messages) instead of starting it plainly",
                {"start_events": waits_for},
            )
        subs, called = calls.resolve(self.engine, self.session, spec, own_subs, {})
        workflow = self._fresh_workflow(spec, subs, values)
        workflow.dealflow_calls = called
        now = self.clock.now()
        # Inserted once, when its first step is saved, with the state it reached (instance_rows).
        instance = ProcessInstance(
            id=None,
            version_id=pv.id,
            key=pv.key,
            deal_id=deal_id,
            status="running",
            state="",
            derived={},
            started_by=cause.as_dict(),
            started_at=now,
            updated_at=now,
            ended_at=None,
            is_sandbox=is_sandbox,
            revision=1,
        )
        self._unsaved[id(instance)] = (pv.key, pv.version) if cached else None
        if self.engine.reads_process(self.session, pv.id):
            self.ensure_id(instance)  # its texts may read process.id during the first step
        mark = self._mark()
        self._history(instance, "process", pv.name, "Process", "started", {"params": to_json_safe(values)})
        try:
            self._step(instance, workflow, None, cause, pristine=lambda: self._fresh_workflow(spec, subs, values))
        except instance_rows.StaleLatest:  # another process deployed a newer version: start that one
            self._undo_to(mark)
            self._unsaved.pop(id(instance), None)
            self.engine.forget_latest(key)
            return self.start(key, deal_id, params, cause=cause, version=version, is_sandbox=is_sandbox,
                              on_event=on_event)
        if version is None and not cached:
            self.engine.remember_latest(key, pv.id, pv.version)
        self.drain()
        return instance

    @staticmethod
    def _fresh_workflow(spec: Any, subs: dict[str, Any], values: Mapping[str, Any]) -> BpmnWorkflow:
        workflow = BpmnWorkflow(spec, subs, script_engine=UNBOUND)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(values)
        return workflow

    def send_message(
        self, deal_id: int | None, message: str, payload: Mapping[str, Any] | None = None, *, cause: Cause,
        correlation: str | None = None,
    ) -> list[int]:
        """Deliver a message to the instances of this deal that wait for it; returns their ids.
        deal_id None reaches the instances without a deal (a global event's): `== None` is IS NULL.
        With a `correlation` key value, only the instances correlated by it, of any deal when
        deal_id is None (engine/collaboration.py)."""
        instance_ids = collaboration.waiting_instances(self, message, deal_id, correlation,
                                                       any_deal=correlation is not None and deal_id is None)
        body = to_json_safe(dict(payload or {}))
        for instance_id in instance_ids:
            self.signal(instance_id, f"message {message}",
                        collaboration.catch_message(self, message, body, value=correlation), cause)
        self.drain()
        return instance_ids

    def send_signal(self, deal_id: int | None, name: str, payload: Mapping[str, Any] | None = None, *,
                    cause: Cause) -> tuple[list[int], list[int]]:
        """Broadcast signal `name` to the deal as a thrown one is (engine/collaboration.py); returns
        the instances its signal start events started and the waiting instances it reached."""
        started: list[int] = []
        reached = collaboration.broadcast_signals(self, deal_id, [name], cause=cause, payload=payload,
                                                  started_ids=started)
        self.drain()
        return started, [i for i in reached if i not in set(started)]

    def complete_user_task(
        self, instance_id: int, spiff_task_id: str, result: Mapping[str, Any] | None, cause: Cause
    ) -> None:
        result = to_json_safe(dict(result or {}))

        def apply(workflow: BpmnWorkflow) -> None:
            task = workflow.get_task_from_id(UUID(spiff_task_id))
            if task is None or task.state != TaskState.READY:
                raise InvalidState("that task is not waiting to be completed")
            task.data.update(result)
            task.run()

        self.signal(instance_id, "user task completed", apply, cause)
        self.drain()

    def cancel(self, instance_id: int, *, cause: Cause, reason: str | None = None) -> ProcessInstance:
        instance = self.instance(instance_id)
        if instance.status in ("completed", "cancelled"):
            raise InvalidState(f"instance {instance_id} is already {instance.status}")
        workflow = self._load(instance)
        workflow.cancel()
        instance.status, instance.ended_at = "cancelled", self.clock.now()
        self._history(instance, "process", None, "Process", "cancelled",
                      {**cause.as_dict(), **({"reason": reason} if reason else {})})
        self._save(instance, workflow)
        return instance

    def retry_incident(self, incident_id: int, *, cause: Cause) -> ProcessInstance:
        """Run the failed step again, typically after the data or the action was fixed."""
        incident = self.session.get(Incident, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        if incident.status != "open":
            raise InvalidState(f"incident {incident_id} is already {incident.status}")
        incident.status = "resolved"
        incident.resolved_at = self.clock.now()
        instance = self.instance(incident.instance_id)
        instance.status = "running"
        self.signal(instance.id, "incident retried", self._rerun(incident.task_id, fresh=True), cause)
        self.drain()
        return instance

    def active_elements(self, instance: ProcessInstance) -> list[str]:
        """Ids of the elements the instance is at now (waiting or ready), for monitoring views."""
        return self.inspect(instance)[0]

    def inspect(self, instance: ProcessInstance) -> tuple[list[str], dict[str, Any]]:
        """The elements the instance is at now and the variables it holds there (the data of its
        active tasks, or the workflow's once it has ended), for monitoring views."""
        workflow = self._load(instance)
        active = [t for t in all_tasks(workflow, state=ACTIVE) if t.task_spec.bpmn_id]
        variables: dict[str, Any] = {}
        for task in active:
            variables.update(task.data)
        if not active:
            variables.update(workflow.data)
        return sorted({t.task_spec.bpmn_id for t in active}), to_json_safe(variables)

    def replan_date_timers(self, deal_id: int, changed: Iterable[str], cause: Cause) -> None:
        """A deal field a date timer or a waiting condition reads has changed: the timer's due
        time follows the new value, the condition is evaluated again (engine/conditions.py)."""
        changed_paths = {f"deal.{name}" for name in changed}
        jobs = self.session.scalars(
            select(Job).where(Job.deal_id == deal_id, Job.kind.in_(("timer", conditions.KIND)),
                              Job.status.in_(("pending", "waiting")))
        ).all()
        for instance_id in sorted({j.instance_id for j in jobs
                                   if j.instance_id is not None and changed_paths & set(j.payload.get("paths", []))}):
            self.signal(instance_id, "timer re-planned", self._replan, cause)
        self.drain()

    # ------------------------------------------------------------------ jobs

    def run_job(self, job: Job) -> None:
        """Run one claimed job in this transaction; the caller marks it done."""
        if job.kind == "timer":
            self.signal(_instance_of(job), f"timer {job.element_id}", None, Cause("system", None, "timer"))
        elif job.kind == "retry":
            self.signal(_instance_of(job), f"retry {job.element_id}", self._rerun(job.task_id), Cause.system("retry"))
        else:
            handler = self.engine.job_handlers.get(job.kind)
            if handler is None:
                raise InvalidState(f"no handler for jobs of kind {job.kind!r}")
            handler(self, job)
        self.drain()

    # ------------------------------------------------------------------ queue

    def signal(self, instance_id: int, label: str, apply: Callable[[BpmnWorkflow], None] | None, cause: Cause) -> None:
        self._queue.append(Signal(instance_id, label, apply, cause))

    def defer(self, work: Callable[[], None]) -> None:
        """Run `work` in this transaction once the current change is complete (robots use this
        to run a stage's immediate robots after the move that entered it, not in its middle)."""
        self._deferred.append(work)

    def drain(self) -> None:
        """Apply queued signals and deferred work, one at a time, until none are left."""
        if self._busy:
            return
        while self._queue or self._deferred:
            self._spend(None)
            if not self._queue:
                self._busy = True
                try:
                    self._deferred.popleft()()
                finally:
                    self._busy = False
                continue
            sig = self._queue.popleft()
            instance = self.instance(sig.instance_id)
            if instance.status not in ("running",):
                log.info("signal %s for instance %s ignored: %s", sig.label, instance.id, instance.status)
                continue
            self._busy = True  # the step's savepoint, released, must not drain again from inside this loop
            try:
                self._step(instance, self._load(instance), sig.apply, sig.cause)
            finally:
                self._busy = False

    # ------------------------------------------------------------------ stepping

    def _step(
        self,
        instance: ProcessInstance,
        workflow: BpmnWorkflow,
        apply: Callable[[BpmnWorkflow], None] | None,
        cause: Cause,
        *,
        pristine: Callable[[], BpmnWorkflow] | None = None,
    ) -> None:
        """Advance one instance inside a savepoint. A step that exceeds the step budget is
        undone — its CRM writes, jobs, signals and history — and leaves the instance in an
        incident at its last saved state (`pristine()` for a start that never saved one), in
        this same transaction, so the incident commits with whatever else the transaction did."""
        mark = self._mark()
        try:
            with self.session.begin_nested():
                self._advance(instance, workflow, apply, cause)
        except StepBudgetExceeded as over:
            if over.details.get("instance_id") not in (instance.id, -id(instance)):
                self._forget_core_writes(mark[-1])
                raise  # spent outside this instance's step (the drain); not ours to record
            self._undo_to(mark)
            self._over_budget(instance, over, pristine)
        except BaseException:
            self._forget_core_writes(mark[-1])
            raise

    def _advance(
        self,
        instance: ProcessInstance,
        workflow: BpmnWorkflow,
        apply: Callable[[BpmnWorkflow], None] | None,
        cause: Cause,
    ) -> None:
        was_busy, self._busy = self._busy, True
        was_current, self._current = self._current, None
        was_ran, self._ran = self._ran, Counter()
        was_instance, self._instance_id = self._instance_id, self._instance_key(instance)
        try:
            self._bind(instance, workflow, cause)
            before = {t.id for t in all_tasks(workflow, state=TaskState.COMPLETED)}
            try:
                if apply is not None:
                    self._guard(workflow, lambda: apply(workflow))
                self._run(workflow)
            except StepFailed as failure:
                self._record_completed(instance, workflow, before)
                self._failed(instance, failure)
            else:
                self._record_completed(instance, workflow, before)
            self._pass_on_thrown_messages(instance, workflow)
            collaboration.pass_on_thrown_signals(self, instance, workflow, before)
            self._save(instance, workflow)
        finally:
            self._busy, self._current, self._ran, self._instance_id = was_busy, was_current, was_ran, was_instance

    # ------------------------------------------------------------------ the step budget

    def _spend(self, task: Any) -> None:
        """One automated step (a task Spiff runs, a signal or deferred work applied); past
        `engine.step_budget` steps or `engine.step_seconds` of stepping in this transaction it
        raises StepBudgetExceeded. Both bounds are needed: Spiff walks its whole task tree for
        every task it runs, so a loop's steps grow slower the longer it runs."""
        now = time.monotonic()
        if self._stepping_since is None:
            self._stepping_since = now
        self._steps += 1
        blamed = _element_of(task)
        if blamed is not None:
            self._ran[blamed] += 1
        seconds = now - self._stepping_since
        if self._steps <= self.engine.step_budget and seconds <= self.engine.step_seconds:
            return
        looping = self._looping_element()
        where = f"; element {looping[0]!r} ran {self._ran[looping]} times" if looping else ""
        raise StepBudgetExceeded(
            f"stopped after {self._steps} automated steps in {seconds:.1f} s in one transaction "
            f"(the budget is {self.engine.step_budget} steps, {self.engine.step_seconds:g} s){where}: a loop?",
            {"element": looping[0] if looping else None, "steps": self._steps, "budget": self.engine.step_budget,
             "instance_id": self._instance_id},
        )

    def _looping_element(self) -> tuple[str, str] | None:
        if not self._ran:
            return None
        return max(self._ran, key=lambda key: (self._ran[key], _BLAME_FIRST.get(key[1], 0)))

    def _mark(self) -> tuple[int, int, int, int, float, int]:
        return (len(self._queue), len(self._deferred), len(self._history_rows), self._steps, time.monotonic(),
                len(self._core_written))

    def _undo_to(self, mark: tuple[int, int, int, int, float, int]) -> None:
        """Forget the signals, deferred work, history and instance rows the rolled-back step
        produced, and give its steps and time back: they were undone, so they do not count
        against the rest."""
        queued, deferred, history, steps, began, written = mark
        self._forget_core_writes(written)
        if self._stepping_since is not None:
            self._stepping_since += time.monotonic() - began
        while len(self._queue) > queued:
            self._queue.pop()
        while len(self._deferred) > deferred:
            self._deferred.pop()
        del self._history_rows[history:]
        self._steps = steps

    def _over_budget(self, instance: ProcessInstance, over: StepBudgetExceeded,
                     pristine: Callable[[], BpmnWorkflow] | None) -> None:
        workflow = self._load(instance) if instance.state or pristine is None else pristine()
        element = over.details.get("element")
        self.ensure_id(instance)
        log.warning("instance %s stopped: %s", instance.id, over.message)
        instance.status = "incident"
        self.session.add(Incident(
            instance_id=instance.id, element_id=element, task_id=None, message=over.message, attempts=1,
            status="open", created_at=self.clock.now(),
        ))
        self._history(instance, element or "process", None, "Incident", "incident", {"message": over.message})
        self._save(instance, workflow)

    def _guard(self, workflow: BpmnWorkflow, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except (InvalidState, NotFound):  # StepBudgetExceeded among them: it undoes the step
            raise
        except Exception as err:
            if is_database_transient(err):  # the transaction is gone or doomed: roll it all back, retry it whole
                raise
            failed = next(iter(all_tasks(workflow, state=TaskState.ERROR)), None)
            raise StepFailed(failed, err, self._current) from err

    def _run(self, workflow: BpmnWorkflow) -> None:
        """Run engine tasks until the instance waits; every task run is a step of the budget."""
        def waiting() -> list[Any]:
            return all_tasks(workflow, state=TaskState.WAITING)

        while True:
            self._guard(workflow, lambda: workflow.do_engine_steps(will_complete_task=self._starting))
            self._guard(workflow, lambda: conditions.refresh(workflow, waiting))
            if not any(not t.task_spec.manual for t in all_tasks(workflow, state=TaskState.READY)):
                return
            self._spend(None)  # a ready task Spiff did not run: spin no longer than the budget allows

    def _starting(self, task: Any) -> None:
        """Called by Spiff before it runs a task: the task is a step of the budget, and an error
        Spiff raises after it completed (an ad-hoc condition, a correlation) is laid at its door."""
        self._spend(task)
        self._current = task

    def _bind(self, instance: ProcessInstance, workflow: BpmnWorkflow, cause: Cause) -> None:
        """Give the workflow a script engine that sees this instance's deal and calls our actions."""
        deal = self.crm.deal(instance.deal_id) if instance.deal_id is not None else None
        record = self.crm.record(deal) if deal is not None else None
        def call_action(task: Any, name: str, params: dict[str, Any]) -> Any:
            self.ensure_id(instance)  # an action may write rows naming the instance, or start another
            process_cause = Cause("process", str(instance.id), instance.key, cause.chain)
            ctx = ActionContext(self.crm, deal, process_cause, dict(task.data), instance.id, unit=self)
            with self.session.begin_nested():
                return self.engine.actions.call(name, ctx, params)

        names = {"deal": record, "process": {"id": instance.id, "key": instance.key}}
        workflow.script_engine = DslScriptEngine(
            self.clock, names, call_action, max_instances=self.engine.step_budget,
            decide=lambda key, env: decide(self.session, key, env, self.clock.now()))

    def _instance_key(self, instance: ProcessInstance) -> int:
        """What the step budget names the instance by: its id, or before it has one the object's."""
        return instance.id if instance.id is not None else -id(instance)

    def ensure_id(self, instance: ProcessInstance) -> None:
        """Give an instance not inserted yet its id now: something is about to name it."""
        if instance.id is None:
            instance.id = instance_rows.reserve_id(self.session)
            if self._instance_id == -id(instance):
                self._instance_id = instance.id

    def _forget_core_writes(self, mark: int) -> None:
        """A rolled-back savepoint undid these rows; the ORM undoes what it wrote itself, so
        the instances written with Core are expunged (inserted) or expired (updated) here."""
        for instance, inserted in reversed(self._core_written[mark:]):
            if inserted:
                if instance in self.session:
                    self.session.expunge(instance)
            elif instance in self.session:
                self.session.expire(instance)
        del self._core_written[mark:]

    def _load(self, instance: ProcessInstance) -> BpmnWorkflow:
        spec, own_subs = self.engine.spec_for(self.session, instance.version_id)
        kept = (instance.derived or {}).get("calls", {})
        subs, called = calls.resolve(self.engine, self.session, spec, own_subs, kept)
        workflow = self.engine.serializer.loads(instance.state, spec, subs)
        workflow.dealflow_calls = called
        return workflow

    def _save(self, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
        """Write the instance and bring the rows derived from it (tasks, waits, timers) in line.

        `instance.derived` remembers what those rows were after the last save, so an unchanged
        wait costs no query; only differences touch the tables.
        """
        now = self.clock.now()
        new = id(instance) in self._unsaved
        values: dict[str, Any] = {"state": self.engine.serializer.dumps(workflow), "updated_at": now,
                                  "status": instance.status, "ended_at": instance.ended_at}
        if workflow.is_completed() and instance.status == "running":
            values.update(status="completed", ended_at=now)
            self._history(instance, "process", None, "Process", "completed", {})
        elif new and values["status"] == "running":
            self.ensure_id(instance)  # it waits: its CRM tasks, waits and timers name it
        self._put(instance, new, values)
        derived = dict(instance.derived or {})
        tasks = dict(derived.get("tasks", {}))
        self._sync_user_tasks(instance, workflow, tasks)
        values["derived"] = {
            "tasks": tasks,
            "waits": self._sync_waits(instance, workflow, derived.get("waits", [])),
            "timers": self._sync_timers(instance, workflow, derived.get("timers", {}), new=new),
            "conditions": conditions.sync_jobs(self.session, instance, workflow,
                                               lambda: all_tasks(workflow, state=TaskState.WAITING),
                                               derived.get("conditions", {}), now),
        }
        kept = calls.called_now(workflow, getattr(workflow, "dealflow_calls", {}), derived.get("calls", {}))
        if kept:
            values["derived"]["calls"] = kept
        self._put(instance, new, {"derived": values["derived"]})
        if new:
            instance_rows.insert(self.session, instance, self._unsaved[id(instance)])
            del self._unsaved[id(instance)]
            self._core_written.append((instance, True))
        else:
            instance_rows.update(self.session, instance, values)
        if self._history_rows:
            for row in self._history_rows:
                of = row.pop("of", None)
                if of is not None:
                    self.ensure_id(of)
                    row["instance_id"] = of.id
            # One Core statement for all rows (the ORM's bulk insert split them by which keys are
            # None, and cost more than the insert); live watchers are told as the ORM would have.
            self.session.connection().execute(HISTORY_INSERT, self._history_rows)
            if self.engine.broadcaster is not None:
                self.engine.broadcaster.describe_rows(self.session, HistoryEntry, self._history_rows)
            self._history_rows = []
        self.session.flush()

    def _put(self, instance: ProcessInstance, new: bool, values: dict[str, Any]) -> None:
        """Set columns the save writes with Core: on a new instance as plain attributes; on a
        saved one as committed values, so the ORM does not write them again (and a rolled-back
        step expires them, `_forget_core_writes`)."""
        if new:
            for name, value in values.items():
                setattr(instance, name, value)
            return
        if not self._core_written or self._core_written[-1] != (instance, False):
            self._core_written.append((instance, False))
        for name, value in values.items():
            set_committed_value(instance, name, value)

    # ------------------------------------------------------------------ failure handling

    def _failed(self, instance: ProcessInstance, failure: StepFailed) -> None:
        task = failure.task
        error = _root_error(failure.error)
        element = failure.at.task_spec.bpmn_id if failure.at is not None else None
        message = f"{type(error).__name__}: {error}" if not isinstance(error, ActionInputError) else str(error)
        failed_expression = next((e for e in causes(failure.error) if isinstance(e, ExpressionFailed)), None)
        if failed_expression is not None:  # name the expression and the values it saw
            message = str(failed_expression)
        if failure.at is not None:  # the incident names its element, as a person reads the diagram
            label = element_label(failure.at)
            message = f"{label if label == element else f'{label} ({element})'}: {message}"
        self.ensure_id(instance)
        previous = self.session.scalars(
            select(Job).where(
                Job.instance_id == instance.id, Job.kind == "retry", Job.task_id == (str(task.id) if task else None)
            ).order_by(Job.id.desc()).limit(1)
        ).first()
        attempts = (previous.attempts if previous is not None else 0) + 1
        # Deterministic failures (a dsl error on an empty field, refused input or address, a 4xx)
        # fail the same way every time: an incident at once instead of retries that hide them.
        retryable = task is not None and classify(failure.error) != "deterministic"
        at = failure.at
        name, etype = (element_label(at), type(at.task_spec).__name__) if at is not None else (None, None)
        self._history(instance, element or "process", name, etype, "error", {"message": message, "attempt": attempts})
        retry_at = self.engine.retry.next_attempt(attempts, self.clock.now()) if retryable else None
        if retry_at is not None:
            self.session.add(Job(
                kind="retry", status="pending", due_at=retry_at, instance_id=instance.id,
                deal_id=instance.deal_id, task_id=str(task.id), element_id=element, attempts=attempts,
                last_error=message, payload={"details": failure_details(failure.error)}, created_at=self.clock.now(),
            ))
            return
        instance.status = "incident"
        self.session.add(Incident(
            instance_id=instance.id, element_id=element, task_id=str(task.id) if task else None,
            message=message, attempts=attempts, status="open", created_at=self.clock.now(),
            details=failure_details(failure.error),
        ))
        self._history(instance, element or "process", None, "Incident", "incident", {"message": message})

    def _rerun(self, task_id: str | None, *, fresh: bool = False) -> Callable[[BpmnWorkflow], None]:
        def apply(workflow: BpmnWorkflow) -> None:
            if task_id is None:
                return
            task = workflow.get_task_from_id(UUID(task_id))
            if task is not None and task.state == TaskState.ERROR:
                task._set_state(TaskState.READY)
        if fresh and task_id is not None:
            for job in self.session.scalars(select(Job).where(Job.task_id == task_id, Job.kind == "retry")):
                job.attempts = 0
        return apply

    # ------------------------------------------------------------------ events

    def _pass_on_thrown_messages(self, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
        collaboration.pass_on_thrown_messages(self, instance, workflow)

    def _replan(self, workflow: BpmnWorkflow) -> None:
        for task in all_tasks(workflow, state=TaskState.WAITING):
            if isinstance(waiting_timer(task), DateTimer):
                task.internal_data.pop("event_value", None)
                task.internal_data.pop("event_fired", None)

    # ------------------------------------------------------------------ derived rows

    def _record_completed(self, instance: ProcessInstance, workflow: BpmnWorkflow, before: set[Any]) -> None:
        for task in all_tasks(workflow, state=TaskState.COMPLETED):
            if task.id in before or task.task_spec.bpmn_id is None:
                continue
            detail: dict[str, Any] = {}
            event = task.data.get("event") if "event" in task.data else None
            if event is not None and type(task.task_spec).__name__.endswith("Event"):
                detail["event"] = event
            result_variable = getattr(task.task_spec, "result_variable", None)
            if result_variable is not None and result_variable in task.data:
                detail["result"] = task.data[result_variable]
            detail.update(calls.call_detail(self.session, task, getattr(workflow, "dealflow_calls", {})))
            self._history(instance, task.task_spec.bpmn_id, element_label(task), type(task.task_spec).__name__,
                          "completed", detail)

    def _history(self, instance: ProcessInstance, element_id: str, name: str | None, etype: str | None,
                 outcome: str, detail: dict[str, Any]) -> None:
        """Buffered and written in one statement when the instance is saved."""
        self._history_rows.append({
            "of": instance, "at": self.clock.now(), "element_id": element_id, "element_name": name,
            "element_type": etype or "", "outcome": outcome, "detail": to_json_safe(detail),
        })

    def _sync_user_tasks(self, instance: ProcessInstance, workflow: BpmnWorkflow, known: dict[str, Any]) -> None:
        from crm.models import Task  # crm is below the engine; imported late to keep start-up light

        ready = {
            str(t.id): t for t in all_tasks(workflow, state=TaskState.READY)
            if type(t.task_spec).__name__ in USER_TASK_TYPES
        } if instance.status == "running" else {}
        cause = Cause("process", str(instance.id), instance.key)
        for spiff_id, crm_task_id in list(known.items()):
            if spiff_id not in ready:
                crm_task = self.session.get(Task, crm_task_id)
                if crm_task is not None and crm_task.status == "open":
                    self.crm.archive_task(crm_task, cause=cause)
                del known[spiff_id]
        for spiff_id, task in ready.items():
            if spiff_id not in known:
                known[spiff_id] = self._create_crm_task(instance, workflow, task, spiff_id).id

    def _create_crm_task(self, instance: ProcessInstance, workflow: BpmnWorkflow, task: Any, spiff_id: str) -> Any:
        props = (task.task_spec.extensions or {}).get("properties", {})
        engine = workflow.script_engine
        env = engine.environment_for(task)
        now = self.clock.now()

        def template(name: str, default: str = "") -> str:
            text = props.get(name)
            return compile_template(text).render(env, now) if text else default

        def expression(name: str) -> Any:
            text = props.get(name)
            return compile_expression(text).evaluate(env, now) if text else None

        assignee = expression("assignee")
        deadline = expression("deadline")
        if isinstance(deadline, timedelta):
            deadline = now + deadline
        data: dict[str, Any] = {"spiff_task_id": spiff_id}
        for key, text in props.items():
            if key.startswith("data."):
                data[key[5:]] = to_json_safe(compile_expression(text).evaluate(env, now))
        form = task_form(task.task_spec)
        if form:
            data["form"] = form  # the CRM checks a completion against it (crm.work.complete_task)
        return self.crm.create_task(
            title=template("title", element_label(task)),
            description=template("description"),
            deal=self.crm.deal(instance.deal_id) if instance.deal_id else None,
            assignee=getattr(assignee, "id", assignee),
            group=props.get("group"),
            column=props.get("column", "new"),
            deadline=deadline if isinstance(deadline, datetime) else None,
            data=data,
            process_instance_id=instance.id,
            element_id=task.task_spec.bpmn_id,
            cause=Cause("process", str(instance.id), instance.key),
        )

    def _sync_waits(self, instance: ProcessInstance, workflow: BpmnWorkflow,
                    known: list[list[str | None]]) -> list[list[str | None]]:
        """One row per message an active task waits for, with the correlation key value it waits
        on once it has one, and per signal (`signal:<name>`; engine/collaboration.py)."""
        wanted: set[tuple[str, str, str | None]] = set()
        if instance.status == "running":
            for task in all_tasks(workflow, state=ACTIVE):
                wanted.update((d.name, task.task_spec.bpmn_id, collaboration.wait_correlation(task, d))
                              for d in event_definitions(task) if isinstance(d, MessageEventDefinition))
                wanted.update((collaboration.signal_wait(d.name), task.task_spec.bpmn_id, None)
                              for d in event_definitions(task) if isinstance(d, SignalEventDefinition) and d.name)
        current = {(str(w[0]), str(w[1]), w[2] if len(w) > 2 else None) for w in known}
        if current != wanted:
            have: set[tuple[str, str, str | None]] = set()
            for wait in self.session.scalars(select(MessageWait).where(MessageWait.instance_id == instance.id)):
                row = (wait.message, wait.element_id, wait.correlation)
                if row not in wanted or row in have:
                    self.session.delete(wait)
                else:
                    have.add(row)
            for name, element, correlation in sorted(wanted - have, key=lambda w: (w[0], w[1], w[2] or "")):
                self.session.add(MessageWait(instance_id=instance.id, deal_id=instance.deal_id, message=name,
                                             element_id=element, correlation=correlation,
                                             created_at=self.clock.now()))
        return [list(w) for w in sorted(wanted, key=lambda w: (w[0], w[1], w[2] or ""))]

    def _sync_timers(self, instance: ProcessInstance, workflow: BpmnWorkflow, known: dict[str, str], *,
                     new: bool = False) -> dict[str, str]:
        """One job row per waiting timer: pending at its due time, or "waiting" while the date it
        reads is empty (the row keeps the paths, so setting the field re-plans it)."""
        wanted: dict[str, tuple[datetime | None, Any, Any]] = {}
        if instance.status == "running":
            for task in all_tasks(workflow, state=TaskState.WAITING):
                definition = waiting_timer(task)
                if definition is None:
                    continue
                due = definition.due_at(task)
                if due is not None or isinstance(definition, DateTimer):
                    wanted[str(task.id)] = (due, task, definition)
        planned = {task_id: due.isoformat() if due else "waiting" for task_id, (due, _, _) in wanted.items()}
        if planned == known:
            return known
        now = self.clock.now()
        jobs = {} if new else {j.task_id: j for j in self.session.scalars(select(Job).where(
            Job.instance_id == instance.id, Job.kind == "timer", Job.status.in_(("pending", "waiting"))))}
        for task_id, job in jobs.items():
            if task_id not in wanted:
                job.status, job.finished_at = "cancelled", now
            else:
                due = wanted[task_id][0]
                job.status, job.due_at = ("pending", due) if due is not None else ("waiting", job.due_at)
        for task_id, (due, task, definition) in wanted.items():
            if task_id in jobs:
                continue
            paths = sorted(compile_expression(definition.expression).paths) if isinstance(definition, DateTimer) else []
            self.session.add(Job(
                kind="timer", status="pending" if due is not None else "waiting", due_at=due or now,
                instance_id=instance.id, deal_id=instance.deal_id, task_id=task_id,
                element_id=task.task_spec.bpmn_id, created_at=now,
                payload={"timer": "cycle" if isinstance(definition, CycleTimer) else type(definition).__name__,
                         "paths": paths},
            ))
        return planned

    # ------------------------------------------------------------------ lookups

    def _version(self, key: str, version: int | None) -> VersionSummary:
        query = select(ProcessVersion.id).where(ProcessVersion.key == key)
        if version is None:
            query = query.order_by(ProcessVersion.version.desc()).limit(1)
        else:
            query = query.where(ProcessVersion.version == version)
        version_id = self.session.scalar(query)
        if version_id is None:
            raise NotFound(f"no process {key!r} is deployed" if version is None
                           else f"process {key!r} has no version {version}")
        return self.engine.version_summary(self.session, version_id)

    def instance(self, instance_id: int) -> ProcessInstance:
        instance = self.session.get(ProcessInstance, instance_id)
        if instance is None:
            raise NotFound(f"no process instance {instance_id}")
        return instance


def _element_of(task: Any) -> tuple[str, str] | None:
    """The element a step counts against: the task's own, or for the start event of a
    subprocess the call activity that started it, so a recursion blames the call."""
    if task is None:
        return None
    starts_subprocess = task.parent is not None and isinstance(task.parent.task_spec, BpmnStartTask)
    if starts_subprocess and task.workflow.parent_task_id is not None:
        task = task.workflow.top_workflow.get_task_from_id(task.workflow.parent_task_id)
    spec = task.task_spec if task is not None else None
    if spec is None or spec.bpmn_id is None:
        return None
    return spec.bpmn_id, type(spec).__name__


def _rearm_message_boundaries(workflow: BpmnWorkflow) -> None:
    """Keep non-interrupting message boundary events listening while their activity runs.

    In BPMN such an event may fire any number of times (every drag of a task to `problem`
    notifies); Spiff arms it once per activity, so a fired one gets a fresh waiting sibling.
    """
    for split in all_tasks(workflow, state=TaskState.COMPLETED):
        if not isinstance(split.task_spec, BoundaryEventSplit):
            continue
        children = split.children
        main = next((c for c in children if not isinstance(c.task_spec, BoundaryEvent)), None)
        if main is None or not main.has_state(ACTIVE):
            continue
        for spec in {c.task_spec for c in children if _is_repeatable_boundary(c.task_spec)}:
            same = [c for c in children if c.task_spec is spec]
            if not any(c.state == TaskState.WAITING for c in same):
                armed = split._add_child(spec, TaskState.WAITING)
                spec._predict(armed, mask=TaskState.NOT_FINISHED_MASK)


def _is_repeatable_boundary(spec: Any) -> bool:
    return (isinstance(spec, BoundaryEvent) and not spec.cancel_activity
            and any(isinstance(d, MessageEventDefinition) for d in spec_event_definitions(spec)))


def _message_names(task: Any) -> list[str]:
    return [d.name for d in event_definitions(task) if isinstance(d, MessageEventDefinition)]


def _waiting_message_definition(workflow: BpmnWorkflow, message: str) -> tuple[Any, Any] | None:
    """The first task waiting for `message`, and its event definition."""
    for task in all_tasks(workflow, state=ACTIVE):
        for candidate in event_definitions(task):
            if isinstance(candidate, MessageEventDefinition) and candidate.name == message:
                return task, candidate
    return None
