"""What happened in the CRM, told to whoever listens, inside the same transaction.

`crm` sits below the engine and robots, so it cannot call them; instead its service layer
publishes these events and the app wires listeners (re-planning timers, scheduling robots,
resuming processes) when it is built. Listeners run synchronously in the writer's
transaction, so a move and everything it causes commit together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Cause:
    """Who or what made a change; recorded on every timeline entry.

    kind is one of: user, robot, process, trigger, system.
    """

    kind: str
    ref: str | None = None
    label: str | None = None
    chain: tuple[str, ...] = field(default=())

    @staticmethod
    def user(user_id: int | None, label: str | None = None) -> Cause:
        return Cause("user", None if user_id is None else str(user_id), label)

    @staticmethod
    def system(label: str = "system") -> Cause:
        return Cause("system", None, label)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "label": self.label}


@dataclass(frozen=True)
class DealCreated:
    deal_id: int
    cause: Cause


@dataclass(frozen=True)
class DealMoved:
    deal_id: int
    from_stage_id: int | None
    to_stage_id: int
    from_pipeline_id: int | None
    to_pipeline_id: int
    cause: Cause


@dataclass(frozen=True)
class DealFieldsChanged:
    deal_id: int
    changes: dict[str, tuple[Any, Any]]
    cause: Cause


@dataclass(frozen=True)
class TaskCompleted:
    task_id: int
    deal_id: int | None
    cause: Cause


@dataclass(frozen=True)
class TaskMoved:
    task_id: int
    deal_id: int | None
    from_column: str | None
    to_column: str
    cause: Cause


@dataclass(frozen=True)
class TaskCreated:
    task_id: int
    deal_id: int | None
    cause: Cause


@dataclass(frozen=True)
class TaskAssigned:
    task_id: int
    deal_id: int | None
    from_user_id: int | None
    to_user_id: int | None
    cause: Cause


@dataclass(frozen=True)
class TaskArchived:
    task_id: int
    deal_id: int | None
    cause: Cause


@dataclass(frozen=True)
class NotificationCreated:
    """For pushing the feed to the user's browser (socket.io) and for email/SMS mirrors."""

    notification_id: int
    user_id: int
    deal_id: int | None
    cause: Cause


@dataclass(frozen=True)
class ContactCreated:
    contact_id: int
    cause: Cause


@dataclass(frozen=True)
class LeadCreated:
    lead_id: int
    cause: Cause


Listener = Callable[[Any, Any], None]


class Listeners:
    """Event type -> callables taking (crm_service, event)."""

    def __init__(self) -> None:
        self._by_type: dict[type, list[Listener]] = defaultdict(list)

    def on(self, event_type: type, listener: Listener) -> None:
        self._by_type[event_type].append(listener)

    def publish(self, crm: Any, event: Any) -> None:
        for listener in list(self._by_type.get(type(event), ())):
            listener(crm, event)
