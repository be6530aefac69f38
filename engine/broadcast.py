"""Live updates, domain side: what a transaction did, handed out only after it commits.

Browsers watching a deal, a pipeline, an instance or their feed want to hear about stage
moves, robot outcomes and process steps as they happen. Announcing from inside the
transaction would tell them about changes that may still roll back, so this module collects
`Broadcast`s on the session (`session.info`) while the work runs and gives them to the sinks
in `after_commit`; a rollback (or a rolled-back savepoint) drops what it had collected.

Two sources feed it: the CRM's events (published in the writer's transaction; `announce` is
their row in the subscription table, engine/subscriptions.py, after every other reaction)
and rows flushed by the engine and the robots (instance history, incidents, automation log),
which are turned into broadcasts by per-model describers. What a transaction collected is
kept on its session (one `Collected` under `COLLECTED_KEY`), not on the unit of work: rows
are also written by sessions that are no unit (a job's failure, the outbox). There is no transport here: the API
adds a sink that emits over socket.io, so `engine` stays free of Flask.

Rooms: ``deal:<id>``, ``pipeline:<code>``, ``instance:<id>``, ``test-run:<id>``,
``feed:<user_id>``.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from crm import access
from crm.events import (
    DealCreated,
    DealFieldsChanged,
    DealMoved,
    NotificationCreated,
    TaskArchived,
    TaskAssigned,
    TaskCompleted,
    TaskCreated,
    TaskMoved,
)
from crm.models import Deal, Notification, Stage, Task
from engine.models import HistoryEntry, Incident, ProcessInstance
from engine.scripting import to_json_safe

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.unit import UnitOfWork

log = logging.getLogger(__name__)

COLLECTED_KEY = "dealflow.broadcast"


@dataclass(frozen=True)
class Broadcast:
    """One event for the rooms that care about it; the payload is plain JSON."""

    event: str
    rooms: tuple[str, ...]
    payload: dict[str, Any]


Sink = Callable[[Broadcast], None]
Describer = Callable[[Session, Any], "Broadcast | None"]


def deal_room(deal_id: int) -> str:
    return f"deal:{deal_id}"


def pipeline_room(code: str) -> str:
    return f"pipeline:{code}"


def instance_room(instance_id: int) -> str:
    return f"instance:{instance_id}"


def feed_room(user_id: int) -> str:
    return f"feed:{user_id}"


def board_room(group: str) -> str:
    """Every card of a task group: what its board (logistics, purchasing) listens to."""
    return f"tasks:{group}"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class Collected:
    """What one session's transaction has collected so far, and where each open savepoint began."""

    pending: list[Broadcast] = field(default_factory=list)
    marks: dict[int, int] = field(default_factory=dict)


def _collected(session: Session) -> Collected:
    collected = session.info.get(COLLECTED_KEY)
    if collected is None:
        collected = session.info[COLLECTED_KEY] = Collected()
    return collected


class Broadcaster:
    """Collects broadcasts per transaction and hands them to the sinks after commit.

    One per engine (see `broadcaster_for`): installing twice would announce everything twice.
    """

    def __init__(self) -> None:
        self.sinks: list[Sink] = []
        self._describers: dict[type, Describer] = {}
        self._changes: set[type] = set()
        self._watched: weakref.WeakSet[Any] = weakref.WeakSet()

    # ------------------------------------------------------------------ wiring

    def add_sink(self, sink: Sink) -> None:
        self.sinks.append(sink)

    def on_row(self, model: type, describer: Describer, *, changes: bool = False) -> None:
        """Announce every new row of `model` as `describer` says (None skips one), and changed
        rows too with `changes`. Rows inserted in bulk (`session.execute(insert(model), rows)`)
        are described from a transient object built from their values."""
        self._describers[model] = describer
        if changes:
            self._changes.add(model)

    def watch(self, session_factory: Any) -> None:
        """Listen to the sessions a sessionmaker (or Session class) makes."""
        if session_factory in self._watched:
            return
        self._watched.add(session_factory)
        sa_event.listen(session_factory, "after_flush", self._after_flush)
        sa_event.listen(session_factory, "do_orm_execute", self._on_orm_execute)
        sa_event.listen(session_factory, "after_transaction_create", self._after_transaction_create)
        sa_event.listen(session_factory, "after_soft_rollback", self._after_soft_rollback)
        sa_event.listen(session_factory, "after_commit", self._after_commit)

    # ------------------------------------------------------------------ collecting

    def add(self, session: Session, item: Broadcast | None) -> None:
        """Queue a broadcast on the session's transaction (None is ignored)."""
        if item is not None and item.rooms:
            _collected(session).pending.append(item)

    def _after_flush(self, session: Session, _context: Any) -> None:
        if not self._describers:
            return
        changed = [o for o in session.dirty if type(o) in self._changes and session.is_modified(o)]
        for obj in list(session.new) + changed:
            self._describe(session, obj)

    def _on_orm_execute(self, state: Any) -> None:
        """Bulk inserts bypass the unit of work, so their rows are described from the values."""
        mapper = state.bind_mapper if state.is_insert else None
        if mapper is None or mapper.class_ not in self._describers:
            return
        rows = state.parameters
        for row in rows if isinstance(rows, list | tuple) else [rows] if rows else []:
            self._describe(state.session, mapper.class_(**row))

    def describe_rows(self, session: Session, model: type, rows: list[dict[str, Any]]) -> None:
        """Announce rows written with a Core statement (which no ORM event sees) as if the ORM
        had inserted them."""
        if model in self._describers:
            for row in rows:
                self._describe(session, model(**row))

    def _describe(self, session: Session, obj: Any) -> None:
        describer = self._describers.get(type(obj))
        if describer is None:
            return
        try:
            self.add(session, describer(session, obj))
        except Exception:  # an announcement must never break the work it describes
            log.exception("could not describe %r for live updates", obj)

    # ------------------------------------------------------------------ transaction ends

    @staticmethod
    def _after_transaction_create(session: Session, transaction: Any) -> None:
        if transaction.nested:
            collected = _collected(session)
            collected.marks[id(transaction)] = len(collected.pending)

    @staticmethod
    def _after_soft_rollback(session: Session, previous_transaction: Any) -> None:
        if previous_transaction.nested:
            collected = _collected(session)
            keep = collected.marks.pop(id(previous_transaction), 0)
            del collected.pending[keep:]
        else:
            session.info.pop(COLLECTED_KEY, None)

    def _after_commit(self, session: Session) -> None:
        collected: Collected = session.info.pop(COLLECTED_KEY, None) or Collected()
        for item in collected.pending:
            for sink in self.sinks:
                try:
                    sink(item)
                except Exception:  # the commit happened; a lost announcement is only logged
                    log.exception("live update %s failed", item.event)


def broadcaster_for(engine: Engine) -> Broadcaster:
    """The engine's one broadcaster, made on first use: from then on its CRM events (through
    `announce`), instance history and incidents, on every session the engine's database makes."""
    if engine.broadcaster is not None:
        return engine.broadcaster
    broadcaster = Broadcaster()
    broadcaster.on_row(HistoryEntry, describe_history)
    broadcaster.on_row(Incident, describe_incident, changes=True)
    for factory in engine.db.session_makers:
        broadcaster.watch(factory)
    engine.broadcaster = broadcaster
    return broadcaster


# ---------------------------------------------------------------------- CRM events


def announce(unit: UnitOfWork, event: object) -> None:
    """Live watchers hear of the change after the commit (once something watches the engine)."""
    broadcaster = unit.engine.broadcaster
    if broadcaster is None:
        return
    describe = _DESCRIBE_EVENT[type(event)]
    broadcaster.add(unit.session, describe(unit.session, event))


def _stage_ref(session: Session, stage_id: int | None) -> dict[str, Any] | None:
    if stage_id is None:
        return None
    stage = session.get(Stage, stage_id)
    if stage is None:
        return None
    return {"pipeline": stage.pipeline.code, "stage": stage.code, "stage_id": stage.id, "name": stage.name}


def _watcher_feeds(session: Session, deal: Deal | None) -> list[str]:
    """The feeds of those whose boards may show `deal` now but cannot watch its pipeline: a deal
    coming into their view (a store's new order, a deal shipped, S9) reaches them there."""
    return [] if deal is None else [feed_room(user_id) for user_id in access.board_watchers(session, deal)]


def describe_deal_moved(session: Session, event: DealMoved) -> Broadcast:
    source, target = _stage_ref(session, event.from_stage_id), _stage_ref(session, event.to_stage_id)
    rooms = [deal_room(event.deal_id)]
    for ref in (target, source):
        if ref is not None and pipeline_room(ref["pipeline"]) not in rooms:
            rooms.append(pipeline_room(ref["pipeline"]))
    rooms += _watcher_feeds(session, session.get(Deal, event.deal_id))
    payload = {"deal_id": event.deal_id, "from": source, "to": target, "cause": event.cause.as_dict()}
    return Broadcast("deal.moved", tuple(rooms), payload)


def describe_deal_created(session: Session, event: DealCreated) -> Broadcast | None:
    deal = session.get(Deal, event.deal_id)
    if deal is None:
        return None
    payload = {"deal_id": deal.id, "title": deal.title, "pipeline": deal.pipeline.code,
               "stage": deal.stage.code, "cause": event.cause.as_dict()}
    rooms = (deal_room(deal.id), pipeline_room(deal.pipeline.code), *_watcher_feeds(session, deal))
    return Broadcast("deal.created", rooms, payload)


def describe_deal_updated(session: Session, event: DealFieldsChanged) -> Broadcast:
    deal = session.get(Deal, event.deal_id)
    rooms = [deal_room(event.deal_id)]
    if deal is not None:
        rooms.append(pipeline_room(deal.pipeline.code))
        if {"responsible_id", "department_id"} & set(event.changes):  # someone new may see it now
            rooms += _watcher_feeds(session, deal)
    changes = {key: {"old": to_json_safe(old), "new": to_json_safe(new)}
               for key, (old, new) in event.changes.items()}
    payload = {"deal_id": event.deal_id, "changes": changes, "cause": event.cause.as_dict()}
    return Broadcast("deal.updated", tuple(rooms), payload)


_TASK_CHANGES = {TaskCreated: "created", TaskCompleted: "completed", TaskMoved: "moved",
                 TaskAssigned: "assigned", TaskArchived: "archived"}


def describe_task_changed(session: Session, event: Any) -> Broadcast:
    task = session.get(Task, event.task_id)
    rooms: list[str] = []
    if event.deal_id is not None:
        rooms.append(deal_room(event.deal_id))
    payload: dict[str, Any] = {"task_id": event.task_id, "deal_id": event.deal_id,
                               "change": _TASK_CHANGES[type(event)], "cause": event.cause.as_dict()}
    if task is not None:
        payload.update(title=task.title, column=task.column, status=task.status, assignee_id=task.assignee_id,
                       group=task.group)
        if task.group:
            rooms.append(board_room(task.group))
        if task.assignee_id is not None:
            rooms.append(feed_room(task.assignee_id))
    if isinstance(event, TaskAssigned) and event.from_user_id is not None:
        rooms.append(feed_room(event.from_user_id))
    if isinstance(event, TaskMoved):
        payload["from_column"] = event.from_column
    return Broadcast("task.changed", tuple(dict.fromkeys(rooms)), payload)


def describe_notification(session: Session, event: NotificationCreated) -> Broadcast:
    note = session.get(Notification, event.notification_id)
    payload: dict[str, Any] = {"id": event.notification_id, "user_id": event.user_id, "deal_id": event.deal_id}
    if note is not None:
        payload.update(text=note.text, kind=note.kind, created_at=_iso(note.created_at))
    return Broadcast("notification", (feed_room(event.user_id),), payload)


_DESCRIBE_EVENT: dict[type, Callable[[Session, Any], Broadcast | None]] = {
    DealMoved: describe_deal_moved, DealCreated: describe_deal_created, DealFieldsChanged: describe_deal_updated,
    **dict.fromkeys((TaskCreated, TaskCompleted, TaskMoved, TaskAssigned, TaskArchived), describe_task_changed),
    NotificationCreated: describe_notification,
}


# ---------------------------------------------------------------------- engine rows


def _instance_rooms(session: Session, instance_id: int) -> tuple[str, ...]:
    """The instance's room, and its deal's if the instance is already in the session (no
    query is issued from inside a flush)."""
    rooms = [instance_room(instance_id)]
    instance = session.identity_map.get(identity_key(ProcessInstance, instance_id))
    if instance is not None and instance.deal_id is not None:
        rooms.append(deal_room(instance.deal_id))
    return tuple(rooms)


def describe_history(session: Session, entry: HistoryEntry) -> Broadcast | None:
    payload = {"instance_id": entry.instance_id, "element_id": entry.element_id,
               "element_name": entry.element_name, "element_type": entry.element_type,
               "outcome": entry.outcome, "at": _iso(entry.at), "detail": to_json_safe(entry.detail or {})}
    return Broadcast("instance.step", _instance_rooms(session, entry.instance_id), payload)


def describe_incident(session: Session, incident: Incident) -> Broadcast:
    payload = {"id": incident.id, "instance_id": incident.instance_id, "element_id": incident.element_id,
               "message": incident.message, "attempts": incident.attempts, "status": incident.status,
               "created_at": _iso(incident.created_at), "resolved_at": _iso(incident.resolved_at)}
    return Broadcast("instance.incident", _instance_rooms(session, incident.instance_id), payload)
