"""CRM events in: a task completed or dragged, a deal field changed, as trigger events.

These happen inside our own transaction (a person dragged a card, a robot set a field), so
they are not stored in `events` and have no idempotency key — the CRM write itself happens
once — but they run the deal's trigger rules exactly like an outside event, and every
evaluation lands in the automation log. The engine already turns a task move into the BPMN
message `task.column.<column>`; that is not repeated here.

The rules run as deferred work of the runtime (`Runtime.defer`): after the change that set
them off is complete and before the transaction commits, so a rule never moves a deal
half-way through a person's edit, a process step or another automation's action list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm.base import jsonable
from crm.events import Cause, DealFieldsChanged, Listeners, TaskCompleted, TaskMoved
from robots.runtime import event_arrived
from triggers.rules import AutomationLookup, apply_triggers, automation_for
from triggers.schemas import validate_payload


def install(listeners: Listeners, engine: Any, *, automation: AutomationLookup = automation_for) -> None:
    """Register the listeners that turn CRM events into trigger events for `engine`'s units
    (`automation` finds a scope's automation file; tests hand in their own)."""
    listeners.on(TaskCompleted, lambda crm, event: _task_completed(engine, crm, event, automation))
    listeners.on(TaskMoved, lambda crm, event: _task_moved(engine, crm, event, automation))
    listeners.on(DealFieldsChanged, lambda crm, event: _fields_changed(engine, crm, event, automation))


def _task_completed(engine: Any, crm: Any, event: TaskCompleted, automation: AutomationLookup) -> None:
    if event.deal_id is None:
        return
    task = crm.task(event.task_id)
    payload = {"task_id": task.id, "deal_id": event.deal_id, "title": task.title, "group": task.group,
               "column": task.column, "result": (task.data or {}).get("result") or {}}
    _apply(engine, crm, event.deal_id, "task.completed", payload, event.cause, automation)


def _task_moved(engine: Any, crm: Any, event: TaskMoved, automation: AutomationLookup) -> None:
    if event.deal_id is None:
        return
    task = crm.task(event.task_id)
    payload = {"task_id": task.id, "deal_id": event.deal_id, "title": task.title, "group": task.group,
               "column": event.to_column, "from_column": event.from_column}
    _apply(engine, crm, event.deal_id, "task.moved", payload, event.cause, automation)


def _fields_changed(engine: Any, crm: Any, event: DealFieldsChanged, automation: AutomationLookup) -> None:
    """One event per changed field: a rule is about one field (`event.field == "bank"`)."""
    for name, (old, new) in event.changes.items():
        payload = {"deal_id": event.deal_id, "field": name, "old": jsonable(old), "new": jsonable(new)}
        _apply(engine, crm, event.deal_id, "deal.field_changed", payload, event.cause, automation)


def _apply(engine: Any, crm: Any, deal_id: int, event_type: str, payload: Mapping[str, Any], cause: Cause,
           automation: AutomationLookup) -> None:
    deal = crm.deal(deal_id)
    runtime = engine.runtime_for(crm)
    event_arrived(runtime, deal_id, event_type)
    file = automation(crm.session, deal.pipeline.code)
    if file is None or not any(t.event == event_type for t in file.all_triggers()):
        return
    data = validate_payload(event_type, payload)

    def work() -> None:
        current = crm.deal(deal_id)
        apply_triggers(runtime, current, event_type, data, automation(crm.session, current.pipeline.code), cause)

    defer = getattr(runtime, "defer", None)
    if defer is None:
        work()
    else:
        defer(work)  # the runtime drains it before the transaction commits
