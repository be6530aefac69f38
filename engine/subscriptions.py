"""Who reacts to a CRM event, and in which order: the table's shape, and the engine's own rows.

The CRM publishes events (a deal moved, a task completed, a field changed) inside the
writer's transaction; `crm` sits below everything else, so it cannot call the engine, the
robots or the triggers. The app answers with ONE ordered table of subscriptions, built once
when the engine is built (`api/subscriptions.py` holds the app's; `ENGINE_SUBSCRIPTIONS`
below is the engine alone, for tests and benchmarks): each row is an event type and the
function that reacts, and for one event the rows run top to bottom, each with the unit of
work of the transaction. The same table names who runs a job of each kind ("robot": a stage
robot firing). Nothing else subscribes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from crm.events import (
    DealCreated,
    DealFieldsChanged,
    DealMoved,
    Listeners,
    NotificationCreated,
    TaskArchived,
    TaskAssigned,
    TaskCompleted,
    TaskCreated,
    TaskMoved,
)
from engine import broadcast
from engine.bpmn import RESERVED_FORM_NAMES

if TYPE_CHECKING:
    from crm.service import Crm
    from engine.models import Job
    from engine.unit import UnitOfWork

E = TypeVar("E")
JobHandler = Callable[["UnitOfWork", "Job"], None]


@dataclass(frozen=True)
class Subscription(Generic[E]):
    """One row: when an `event` is published, `handler` reacts, with the transaction's unit."""

    event: type[E]
    handler: Callable[[UnitOfWork, E], None]

    @property
    def name(self) -> str:
        """Where the handler lives, `module.function`, as the architecture page names it."""
        handler: Any = self.handler
        return f"{handler.__module__}.{handler.__qualname__}"

    @property
    def why(self) -> str:
        """The first line of the handler's docstring: what the reaction is for."""
        doc = (getattr(self.handler, "__doc__", None) or "").strip()
        return doc.splitlines()[0] if doc else ""


class Subscriptions:
    """The ordered table: event rows, and the job kinds' handlers."""

    def __init__(self, rows: Iterable[Subscription[Any]], jobs: Mapping[str, JobHandler] | None = None) -> None:
        self.rows: tuple[Subscription[Any], ...] = tuple(rows)
        self.jobs: dict[str, JobHandler] = dict(jobs or {})
        by_type: dict[type, list[Subscription[Any]]] = {}
        for row in self.rows:
            by_type.setdefault(row.event, []).append(row)
        self._by_type = {event: tuple(rows) for event, rows in by_type.items()}

    def reacting_to(self, event_type: type) -> tuple[Subscription[Any], ...]:
        """The rows that react to `event_type`, in the order they run."""
        return self._by_type.get(event_type, ())

    def publish(self, unit: UnitOfWork, event: object) -> None:
        for row in self.reacting_to(type(event)):
            row.handler(unit, event)

    def as_markdown(self) -> str:
        """The table as docs/architecture.md shows it: events in the order they first appear,
        each event's reactions in the order they run, then the job kinds."""
        lines = ["| event | # | who reacts | what for |", "|---|---|---|---|"]
        for event_type in dict.fromkeys(row.event for row in self.rows):
            for number, row in enumerate(self.reacting_to(event_type), start=1):
                lines.append(f"| `{event_type.__name__}` | {number} | `{row.name}` | {row.why} |")
        lines += ["", "| job kind | who runs it |", "|---|---|"]
        for kind, handler in self.jobs.items():
            lines.append(f"| `{kind}` | `{handler.__module__}.{handler.__qualname__}` |")
        return "\n".join(lines) + "\n"

    def bound(self, unit: UnitOfWork) -> Listeners:
        """What the unit's CRM service publishes to: this table, called with `unit`."""
        return _UnitListeners(self, unit)


class _UnitListeners(Listeners):
    """The CRM's publishing end (`crm.events.Listeners`) for one unit of work: the table
    decides who reacts, so nothing may be registered on it."""

    def __init__(self, table: Subscriptions, unit: UnitOfWork) -> None:
        super().__init__()
        self._table = table
        self._unit = unit

    def on(self, event_type: type, listener: Callable[[Any, Any], None]) -> None:
        raise TypeError("subscriptions are the engine's table (engine/subscriptions.py), built at start-up")

    def publish(self, crm: Crm, event: Any) -> None:
        self._table.publish(self._unit, event)


# ---------------------------------------------------------------------- the engine's reactions


def complete_user_task(unit: UnitOfWork, event: TaskCompleted) -> None:
    """A process's task was completed: its instance goes on, with the answers as variables."""
    task = unit.crm.task(event.task_id)
    spiff_task_id = (task.data or {}).get("spiff_task_id")
    if task.process_instance_id is None or spiff_task_id is None:
        return
    task_result = (task.data or {}).get("result", {})
    result = {"task_result": task_result, "completed_task_id": task.id}
    # The answers are process variables too, so a gateway after the task reads `answer == "Yes"`
    # as designers write it: a form's every field (empty ones as null), or without a form each
    # answer whose name is a variable name (the names completing sets anyway excepted).
    form = (task.data or {}).get("form", [])
    for form_field in form:
        result[form_field["name"]] = task_result.get(form_field["name"])
    if not form and isinstance(task_result, dict):
        for name, value in task_result.items():
            if isinstance(name, str) and name.isidentifier() and name not in RESERVED_FORM_NAMES:
                result[name] = value
    unit.complete_user_task(task.process_instance_id, spiff_task_id, result, event.cause)


def deliver_task_move(unit: UnitOfWork, event: TaskMoved) -> None:
    """A deal's task card was dragged: its instances waiting for `task.column.<column>` catch it."""
    if event.deal_id is None:
        return
    payload = {"task_id": event.task_id, "column": event.to_column, "from_column": event.from_column}
    unit.send_message(event.deal_id, f"task.column.{event.to_column}", payload, cause=event.cause)


def replan_date_timers(unit: UnitOfWork, event: DealFieldsChanged) -> None:
    """A deal field changed: the process date timers that read it follow the new value."""
    unit.replan_date_timers(event.deal_id, event.changes.keys(), event.cause)


#: The CRM events announced to live watchers (engine.broadcast), each after every other reaction.
LIVE_EVENTS: tuple[type, ...] = (DealCreated, DealMoved, DealFieldsChanged, TaskCompleted, TaskMoved,
                                 TaskCreated, TaskAssigned, TaskArchived, NotificationCreated)

#: The engine alone, without robots and triggers (tests, benchmarks): processes, then live updates.
ENGINE_SUBSCRIPTIONS = Subscriptions([
    Subscription(DealFieldsChanged, replan_date_timers),
    Subscription(TaskCompleted, complete_user_task),
    Subscription(TaskMoved, deliver_task_move),
    *(Subscription(event, broadcast.announce) for event in LIVE_EVENTS),
])
