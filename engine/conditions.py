"""Conditional events, re-evaluated while they wait: after every step of their instance and when
a deal field their condition reads changes.

SpiffWorkflow evaluates a conditional event's condition once, when the event is reached, and
never again, so `deal.paid >= deal.amount` on an intermediate catch, a boundary event or an
event subprocess's start waited forever once it was false. Here each waiting conditional event
is re-evaluated after every step of its instance (a script or a task answer may have made it
true), and it has a job row of kind `condition` (status `waiting`, never claimed) that keeps
the deal paths its condition reads, as a date timer's row does: when one of those fields
changes (the CRM's DealFieldsChanged, `Runtime.replan_date_timers`), the instance is stepped and
the condition evaluated again. Conditions are dsl, compiled at deploy (`engine/bpmn.py`).

A non-interrupting conditional boundary event fires once per run of its activity.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from dsl import DslError, compile_expression
from engine.models import Job
from engine.timers import event_definitions, spec_event_definitions

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from engine.models import ProcessInstance

KIND = "condition"
_IN_USE = "_dealflow_has_conditions"


def in_use(workflow: Any) -> bool:
    """Whether the workflow's process has any conditional event; kept on the spec (specs are
    cached per version), so a process without one pays no walk of its tasks."""
    spec = workflow.spec
    cached = getattr(spec, _IN_USE, None)
    if cached is None:
        specs = [spec, *getattr(workflow, "subprocess_specs", {}).values()]
        cached = any(isinstance(d, ConditionalEventDefinition)
                     for s in specs for ts in s.task_specs.values() for d in spec_event_definitions(ts))
        setattr(spec, _IN_USE, cached)
    return bool(cached)


def waiting_conditions(tasks: list[Any]) -> list[tuple[Any, Any]]:
    """The waiting tasks among `tasks` whose event is conditional, with the condition."""
    found = []
    for task in tasks:
        if task.state != TaskState.WAITING:
            continue
        definition = next((d for d in event_definitions(task) if isinstance(d, ConditionalEventDefinition)), None)
        if definition is not None:
            found.append((task, definition))
    return found


def refresh(workflow: Any, waiting: Callable[[], list[Any]]) -> bool:
    """Evaluate every waiting condition again; whether one became true (its task is then ready).
    `waiting` lists the workflow's waiting tasks (the runtime's walk, subprocesses included)."""
    if not in_use(workflow):
        return False
    fired = False
    for task, _ in waiting_conditions(waiting()):
        task.task_spec._update(task)
        fired = fired or task.state == TaskState.READY
    return fired


def _paths(definition: Any) -> list[str]:
    try:
        return sorted(compile_expression(definition.expression).paths)
    except DslError:  # a version stored before deploy checked it: the step reports the error
        return []


def sync_jobs(session: Session, instance: ProcessInstance, workflow: Any, waiting: Callable[[], list[Any]],
              known: dict[str, list[str]], now: datetime) -> dict[str, list[str]]:
    """One `condition` job row per waiting conditional event, holding the paths it reads;
    `known` is what the rows were after the last save, so an unchanged wait costs no query."""
    if not known and not in_use(workflow):
        return {}
    wanted = {str(task.id): (task, _paths(definition))
              for task, definition in waiting_conditions(waiting())} if instance.status == "running" else {}
    planned = {task_id: paths for task_id, (_, paths) in wanted.items()}
    if planned == known:
        return known
    jobs = {j.task_id: j for j in session.scalars(select(Job).where(
        Job.instance_id == instance.id, Job.kind == KIND, Job.status == "waiting"))}
    for task_id, job in jobs.items():
        if task_id not in wanted:
            job.status, job.finished_at = "cancelled", now
    for task_id, (task, paths) in wanted.items():
        if task_id not in jobs:
            session.add(Job(kind=KIND, status="waiting", due_at=now, instance_id=instance.id,
                            deal_id=instance.deal_id, task_id=task_id, element_id=task.task_spec.bpmn_id,
                            created_at=now, payload={"paths": paths}))
    return planned
