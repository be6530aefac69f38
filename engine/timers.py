"""BPMN timers that read the injected clock and accept dsl values.

Spiff's own timer definitions call `datetime.now()` and expect ISO strings. Ours ask the
script engine's clock, so a virtual clock can jump over a two-day wait, and they accept
what dsl expressions return: a date or datetime (`deal.return_date`), a duration (`2d`,
`"PT2H"`) or an ISO string. The due time is kept in the task's internal data (`event_value`),
which is also what the engine copies into the jobs table.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from dsl import parse_duration


def to_datetime(value: Any) -> datetime:
    """A point in time from whatever a date expression produced."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return to_datetime(parsed)
    raise ValueError(f"a timer date must be a date or datetime, not {value!r}")


def to_timedelta(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f"a timer duration must be a duration like 2d or PT2H, not {value!r}")


def _now(my_task: Any) -> datetime:
    now: datetime = my_task.workflow.script_engine.now()
    return now


def _evaluate(my_task: Any, expression: str) -> Any:
    return my_task.workflow.script_engine.evaluate(my_task, expression)


class _ClockedTimer:
    """Shared by the one-shot timers: compute the due time once, fire when the clock passes it."""

    def due_at(self, my_task: Any) -> datetime | None:
        """When the timer fires; None while the date it reads is empty (it waits for it)."""
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            due = self.compute_due(my_task)
            if due is None:
                return None
            event_value = due.isoformat()
            my_task._set_internal_data(event_value=event_value)
        return datetime.fromisoformat(event_value)

    def compute_due(self, my_task: Any) -> datetime | None:
        raise NotImplementedError

    def has_fired(self, my_task: Any) -> bool:
        due = self.due_at(my_task)
        if due is not None and due <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class DateTimer(_ClockedTimer, TimeDateEventDefinition):  # type: ignore[misc]  # Spiff ships no types
    """Fires at a moment, usually read from a deal field; re-planned when the field changes."""

    def compute_due(self, my_task: Any) -> datetime | None:
        value = _evaluate(my_task, self.expression)
        return None if value is None else to_datetime(value)


class DurationTimer(_ClockedTimer, DurationTimerEventDefinition):  # type: ignore[misc]  # Spiff: no types
    def compute_due(self, my_task: Any) -> datetime:
        return _now(my_task) + to_timedelta(_evaluate(my_task, self.expression))


class CycleTimer(CycleTimerEventDefinition):  # type: ignore[misc]  # Spiff ships no types
    """`R3/PT1H` (three times, hourly) or `R/2026-01-05T09:00/P1D` (daily from a start)."""

    def _plan(self, my_task: Any) -> dict[str, Any]:
        spec = str(_evaluate(my_task, self.expression)).strip()
        parts = spec.upper().split("/")
        if len(parts) not in (2, 3) or not parts[0].startswith("R"):
            raise ValueError(f"a cycle looks like R3/PT1H or R/<start>/P1D, not {spec!r}")
        cycles = int(parts[0][1:]) if parts[0][1:] else -1
        if len(parts) == 3:
            start, interval = to_datetime(spec.split("/")[1]), to_timedelta(parts[2])
        else:
            interval = to_timedelta(parts[1])
            start = _now(my_task) + interval
        if interval <= timedelta(0):
            raise ValueError("a cycle's interval must be positive")
        return {"cycles": cycles, "next": start.isoformat(), "duration": interval.total_seconds()}

    def cycle_complete(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value") or self._plan(my_task)
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event <= _now(my_task):
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        my_task._set_internal_data(event_value=event_value)
        return ready

    def due_at(self, my_task: Any) -> datetime | None:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None or event_value["cycles"] == 0:
            return None
        return datetime.fromisoformat(event_value["next"])


TIMER_CLASSES = {
    TimeDateEventDefinition: DateTimer,
    DurationTimerEventDefinition: DurationTimer,
    CycleTimerEventDefinition: CycleTimer,
}


def event_definitions(task: Any) -> list[Any]:
    """The event definitions a task waits on; an event-based gateway waits on several."""
    return spec_event_definitions(task.task_spec)


def spec_event_definitions(spec: Any) -> list[Any]:
    definition = getattr(spec, "event_definition", None)
    if definition is None:
        return []
    inner = getattr(definition, "event_definitions", None)
    return list(inner) if inner is not None else [definition]


def waiting_timer(task: Any) -> Any:
    """The timer a WAITING task waits on, if any."""
    if task.state != TaskState.WAITING:
        return None
    return next((d for d in event_definitions(task) if isinstance(d, DateTimer | DurationTimer | CycleTimer)), None)
