"""Operating running instances: where a failing step stands in its retries, cancelling with a
reason, changing an instance's variables, and the names a person reads instead of ids.

Kept apart from `engine.runtime` (which steps instances) because these are what an operator
does to instances from outside; each function works inside the caller's unit of work.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from crm.events import Cause
from engine.errors import InvalidState
from engine.failures import describe_seen
from engine.models import Incident, Job, ProcessInstance
from engine.scripting import ExpressionFailed

if TYPE_CHECKING:
    from engine.runtime import Runtime

FINISHED = ("completed", "cancelled")
#: Longest reason a cancel keeps, and most variables one change may touch.
MAX_REASON = 1000
MAX_VARIABLES = 100
_IDENTIFIER_MAX = 100


@dataclass(frozen=True)
class Retrying:
    """A step that failed and waits for its next attempt: the job table's view of it."""

    element_id: str | None
    attempt: int  # attempts made so far
    of: int  # attempts the engine makes before an incident
    error: str | None
    next_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "attempt": self.attempt, "of": self.of, "error": self.error,
                "next_at": self.next_at}


def retrying(rt: Runtime, instance_ids: Iterable[int]) -> dict[int, Retrying]:
    """The pending retry of each running instance that has one (one query for a whole page)."""
    ids = list(instance_ids)
    if not ids:
        return {}
    jobs = rt.session.scalars(
        select(Job).join(ProcessInstance, ProcessInstance.id == Job.instance_id)
        .where(Job.instance_id.in_(ids), Job.kind == "retry", Job.status == "pending",
               ProcessInstance.status == "running")
        .order_by(Job.due_at, Job.id)
    )
    found: dict[int, Retrying] = {}
    for job in jobs:
        if job.instance_id is not None and job.instance_id not in found:
            # `attempts` is how many failed; the retry is the next one, and the engine makes retry.attempts in all.
            found[job.instance_id] = Retrying(job.element_id, job.attempts, rt.engine.retry.attempts,
                                              job.last_error, job.due_at)
    return found


def retrying_jobs_clause() -> Any:
    """SQL: the instance has a pending retry (for the `retrying` state filter)."""
    return select(Job.id).where(Job.instance_id == ProcessInstance.id, Job.kind == "retry",
                                Job.status == "pending").exists()


def state_of(instance: ProcessInstance, retry: Retrying | None) -> str:
    """The status a person should read: a running instance whose step is failing is `retrying`."""
    return "retrying" if instance.status == "running" and retry is not None else instance.status


def retry_now(rt: Runtime, instance_id: int) -> ProcessInstance:
    """Bring a retrying step's next attempt forward to now (the job loop runs it at once)."""
    instance = rt.instance(instance_id)
    jobs = list(rt.session.scalars(select(Job).where(
        Job.instance_id == instance_id, Job.kind == "retry", Job.status == "pending")))
    if instance.status != "running" or not jobs:
        raise InvalidState(f"instance {instance_id} has no step waiting to be retried")
    now = rt.clock.now()
    for job in jobs:
        job.due_at = min(job.due_at, now)
    return instance


def retry_outcome(rt: Runtime, instance: ProcessInstance, incident_id: int) -> dict[str, Any]:
    """What a retry of an incident came to: resolved, retrying again, or failed again (with the
    new incident), so no one reads "resolved" for a step that failed once more."""
    retry = retrying(rt, [instance.id]).get(instance.id)
    if retry is not None:
        return {"outcome": "retrying", "error": retry.error, "retry": retry.as_dict()}
    again = rt.session.scalars(select(Incident).where(
        Incident.instance_id == instance.id, Incident.status == "open", Incident.id > incident_id)
        .order_by(Incident.id.desc()).limit(1)).first()
    if again is not None:
        return {"outcome": "failed_again", "error": again.message, "incident_id": again.id}
    return {"outcome": "resolved", "error": None}


def cancel(rt: Runtime, instance_id: int, *, reason: str | None, cause: Cause) -> ProcessInstance:
    """Cancel the instance; the reason is kept in its history beside who cancelled it."""
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise ValueError(f"a reason is at most {MAX_REASON} characters")
    return rt.cancel(instance_id, cause=cause, reason=reason)


def set_variables(rt: Runtime, instance_id: int, changes: Mapping[str, Any], *, cause: Cause) -> ProcessInstance:
    """Change process variables where the instance stands (to fix the data a failed step read
    before retrying it); the history keeps who changed what from which old value to which new.
    Refused (InvalidState) for a finished instance; a value must be JSON: no NaN, no objects."""
    instance = rt.instance(instance_id)
    if instance.status in FINISHED:
        raise InvalidState(f"instance {instance_id} is {instance.status}: its variables can no longer change")
    problems = variable_problems(changes)
    if problems:
        raise InvalidVariables(problems)
    workflow = rt._load(instance)
    active = [t for t in _all_tasks(workflow) if t.has_state(TaskState.READY | TaskState.WAITING |
                                                               TaskState.STARTED | TaskState.ERROR)]
    holders = [t.data for t in active] or [workflow.data]
    old = {name: _first(holders, name) for name in changes}
    for data in holders:
        data.update(changes)
    rt._history(instance, "process", None, "Process", "variables changed",
                {**cause.as_dict(), "old": old, "new": dict(changes)})
    rt._save(instance, workflow)
    return instance


class InvalidVariables(ValueError):
    """Variables a person tried to set that are not names or not JSON values, by name."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def variable_problems(changes: Mapping[str, Any]) -> dict[str, str]:
    if not changes:
        return {"_": "name at least one variable"}
    if len(changes) > MAX_VARIABLES:
        return {"_": f"at most {MAX_VARIABLES} variables at once"}
    problems = {}
    for name, value in changes.items():
        if not isinstance(name, str) or not name.isidentifier() or len(name) > _IDENTIFIER_MAX:
            problems[str(name)[:_IDENTIFIER_MAX]] = "a variable name is letters, digits and _ (not first a digit)"
        elif name in ("deal", "process"):
            problems[name] = "this name is the engine's own and cannot be set"
        else:
            why = _not_json(value, depth=0)
            if why:
                problems[name] = why
    return problems


def _not_json(value: Any, depth: int) -> str | None:
    if depth > 20:
        return "nested too deeply"
    if value is None or isinstance(value, bool | str | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "not a finite number"
    if isinstance(value, list):
        return next((w for w in (_not_json(v, depth + 1) for v in value) if w), None)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return "object keys must be text"
        return next((w for w in (_not_json(v, depth + 1) for v in value.values()) if w), None)
    return f"not a JSON value ({type(value).__name__})"


def _first(holders: list[dict[str, Any]], name: str) -> Any:
    return next((data[name] for data in holders if name in data), None)


def _all_tasks(workflow: Any) -> list[Any]:
    tasks = list(workflow.get_tasks())
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.get_tasks())
    return tasks


def element_names(rt: Runtime, version_id: int) -> dict[str, str]:
    """bpmn id -> the name drawn on the diagram, for every element of the version (and its
    subprocesses), so monitoring shows "Call the bank" with `ring_bank` as secondary text."""
    spec, subs = rt.engine.spec_for(rt.session, version_id)
    names: dict[str, str] = {}
    for process in [spec, *subs.values()]:
        for task_spec in process.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            bpmn_name = getattr(task_spec, "bpmn_name", None)
            if bpmn_id and bpmn_name:
                names.setdefault(bpmn_id, bpmn_name)
    return names


def failure_details(error: BaseException) -> dict[str, Any]:
    """What an incident keeps beside its message: the expression that failed, the evaluator's
    words and the values the expression saw, described as a person reads them."""
    from engine.failures import causes

    failed = next((e for e in causes(error) if isinstance(e, ExpressionFailed)), None)
    if failed is None:
        return {}
    return {"expression": failed.text, "error": str(failed.error), "seen": failed.seen,
            "seen_text": describe_seen(failed.seen)}
