"""CRM events in: a task completed or dragged, a deal field changed, as trigger events.

These happen inside our own transaction (a person dragged a card, a robot set a field), so
they are not stored in `events` and have no idempotency key — the CRM write itself happens
once — but they run the deal's trigger rules exactly like an outside event, and every
evaluation lands in the automation log. The engine already turns a task move into the BPMN
message `task.column.<column>`; that is not repeated here.

`TriggerEvents`' methods are rows of the app's subscription table (api/subscriptions.py).
The rules run as deferred work of the unit of work (`UnitOfWork.defer`): after the change
that set them off is complete and before the transaction commits, so a rule never moves a
deal half-way through a person's edit, a process step or another automation's action list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crm.base import jsonable
from crm.events import Cause, DealFieldsChanged, TaskCompleted, TaskMoved
from robots.runtime import event_arrived
from triggers.rules import AutomationLookup, apply_triggers, automation_for
from triggers.schemas import validate_payload

if TYPE_CHECKING:
    from engine.unit import UnitOfWork


class TriggerEvents:
    """The CRM events that become trigger events, reading automation through `automation`
    (a scope's automation file; tests hand in their own)."""

    def __init__(self, automation: AutomationLookup = automation_for) -> None:
        self.automation = automation

    def task_completed(self, unit: UnitOfWork, event: TaskCompleted) -> None:
        """A deal's task was completed: its rules on task.completed run (after the change)."""
        if event.deal_id is None:
            return
        task = unit.crm.task(event.task_id)
        payload = {"task_id": task.id, "deal_id": event.deal_id, "title": task.title, "group": task.group,
                   "column": task.column, "result": (task.data or {}).get("result") or {}}
        self._apply(unit, event.deal_id, "task.completed", payload, event.cause)

    def task_moved(self, unit: UnitOfWork, event: TaskMoved) -> None:
        """A deal's task card was dragged: its rules on task.moved run (after the change)."""
        if event.deal_id is None:
            return
        task = unit.crm.task(event.task_id)
        payload = {"task_id": task.id, "deal_id": event.deal_id, "title": task.title, "group": task.group,
                   "column": event.to_column, "from_column": event.from_column}
        self._apply(unit, event.deal_id, "task.moved", payload, event.cause)

    def fields_changed(self, unit: UnitOfWork, event: DealFieldsChanged) -> None:
        """Deal fields changed: its rules on deal.field_changed run, one event per field."""
        for name, (old, new) in event.changes.items():  # a rule is about one field (`event.field == "bank"`)
            payload = {"deal_id": event.deal_id, "field": name, "old": jsonable(old), "new": jsonable(new)}
            self._apply(unit, event.deal_id, "deal.field_changed", payload, event.cause)

    def _apply(self, unit: UnitOfWork, deal_id: int, event_type: str, payload: Mapping[str, Any],
               cause: Cause) -> None:
        automation = self.automation
        deal = unit.crm.deal(deal_id)
        event_arrived(unit, deal_id, event_type)
        file = automation(unit.session, deal.pipeline.code)
        if file is None or not any(t.event == event_type for t in file.all_triggers()):
            return
        data = validate_payload(event_type, payload)

        def work() -> None:
            current = unit.crm.deal(deal_id)
            apply_triggers(unit, current, event_type, data, automation(unit.session, current.pipeline.code), cause)

        unit.defer(work)  # the unit drains it before the transaction commits
