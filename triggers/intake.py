"""Accepting an outside event: validate, store once, then let it act — in one transaction.

    store webhook / bank / telephony / mail / form / API
            │
    validate (every bad field at once; nothing written)
            │
    store once per (source, idempotency key)  ── seen before? → the first answer, nothing else
            │
    resolve the deal(s) → trigger rules → BPMN: start message-start processes, deliver the message

Everything an event causes commits with its row or not at all, so "stored" means "applied".

Order: events of one deal are applied in the order they are accepted. Each call runs in its
own transaction and the deal row is locked (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite has a
single writer) before the event row is stored, so a second event about the same deal waits for
the first to commit and then sees its effects; nothing is queued or reordered in between, and
the events' ids (their acceptance order) are the order they were applied in. Jobs of the deal
(engine.jobs.take_claimed) take the same lock, so an event and a robot never interleave either.

Duplicates: the database decides. The row is written with `INSERT ... ON CONFLICT DO NOTHING`
on the UNIQUE (source, idempotency_key): a second copy arriving at the same moment on another
worker waits for the first transaction, inserts nothing, and returns the stored outcome of the
first. (A savepoint around a plain INSERT would do the same on PostgreSQL, but pysqlite
commits the outer transaction when the first statement of a unit is a released savepoint.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from crm.base import jsonable
from crm.events import Cause
from crm.models import Deal
from engine import collaboration
from engine.errors import StartRefused
from engine.unit import UnitOfWork
from robots.runtime import event_arrived
from triggers.errors import EventNotFound, InvalidEvent, NotReplayable
from triggers.models import Event
from triggers.resolution import resolve_deals
from triggers.rules import GLOBAL_SCOPE, AutomationLookup, apply_triggers, automation_for
from triggers.schemas import unstorable_text, validate_payload

NATURAL_KEYS = {"order.created", "order.paid", "order.cancelled"}


@dataclass
class EventResult:
    """What one event did. A repeat returns the first delivery's result with duplicate=True."""

    event_id: int | None
    type: str
    source: str
    duplicate: bool = False
    deal_ids: list[int] = field(default_factory=list)
    created_deal_ids: list[int] = field(default_factory=list)  # deals the event's rules made (a new order's)
    note: str | None = None
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    started: list[int] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)  # instances that were already waiting

    @property
    def matched_rules(self) -> list[str]:
        return [e["rule"] for e in self.evaluations if e["outcome"] == "matched"]

    def outcome(self) -> dict[str, Any]:
        """What is stored on the event row (and handed back to a repeat)."""
        stored: dict[str, Any] = jsonable({
            "deal_ids": self.deal_ids, "created_deal_ids": self.created_deal_ids, "note": self.note,
            "evaluations": self.evaluations, "started": self.started, "refused": self.refused, "resumed": self.resumed,
        })
        return stored

    def as_dict(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "type": self.type, "source": self.source,
                "duplicate": self.duplicate, **self.outcome()}

    @staticmethod
    def of(row: Event, *, duplicate: bool) -> EventResult:
        stored = row.outcome or {}
        return EventResult(
            event_id=row.id, type=row.type, source=row.source, duplicate=duplicate,
            deal_ids=list(stored.get("deal_ids", [])), created_deal_ids=list(stored.get("created_deal_ids", [])),
            note=stored.get("note"),
            evaluations=list(stored.get("evaluations", [])), started=list(stored.get("started", [])),
            refused=list(stored.get("refused", [])), resumed=list(stored.get("resumed", [])),
        )


def natural_key(event_type: str, payload: Mapping[str, Any]) -> str | None:
    """A key for store order events that came without one: an order is created (paid,
    cancelled) once, so its number is enough to recognise a repeat."""
    if event_type in NATURAL_KEYS:
        return f"{event_type}:{payload['order_id']}"
    return None


def accept_event(
    runtime: UnitOfWork,
    type: str,
    payload: Mapping[str, Any],
    *,
    idempotency_key: str | None,
    source: str,
    cause: Cause,
    automation: AutomationLookup = automation_for,
) -> EventResult:
    """Validate, store once and apply one event in the runtime's transaction.

    Raises `InvalidEvent` (listing every bad field) for a bad payload (text no database can
    store included), an unknown type, or a deal or task id that does not exist, and
    `DealNotYet` for a payment or cancellation of an order that has no deal yet; nothing is
    written then. A transient database error anywhere (engine.failures) is raised too, so the
    caller rolls the whole event back: it is never stored as processed without being applied.
    `automation` finds the automation file of a scope (tests and the designer's test bench
    hand in their own).
    """
    crm = runtime.crm
    data = validate_payload(type, payload)
    if not isinstance(source, str) or not source.strip() or len(source) > 64:
        raise InvalidEvent(type, {"source": "is required (up to 64 characters)"})
    key = idempotency_key if idempotency_key is not None else natural_key(type, data)
    unstorable = unstorable_text({"source": source, "idempotency_key": key})
    if unstorable:
        raise InvalidEvent(type, unstorable)
    resolution = resolve_deals(crm, type, data)
    for deal in sorted(resolution.deals, key=lambda d: d.id):  # one order everywhere: no deadlock
        crm.deal(deal.id, for_update=True)

    row = _claim(runtime, type, source, key, data)
    if row is None:
        first = runtime.session.scalars(
            select(Event).where(Event.source == source, Event.idempotency_key == key)
        ).one()
        return EventResult.of(first, duplicate=True)

    result = EventResult(event_id=row.id, type=type, source=source,
                         deal_ids=[d.id for d in resolution.deals], note=resolution.note)
    if resolution.note is None:
        _apply(runtime, type, source, data, resolution.deals, cause, result, automation)
        result.created_deal_ids = _created_deals(result.evaluations)
    row.deal_id = result.deal_ids[0] if result.deal_ids else None
    row.processed_at = runtime.clock.now()
    row.outcome = result.outcome()
    runtime.session.flush()
    return result


def replay_event(runtime: UnitOfWork, event_id: int, *, cause: Cause,
                 automation: AutomationLookup = automation_for) -> EventResult:
    """Run the rules that failed on a stored event again, after the rule was fixed.

    Only the failed part is run again: the rules of each deal (or the global rules) whose
    evaluation failed, with the rules in force now. A failed rule wrote nothing (its savepoint
    rolled back), so this cannot double anything; what the event did besides — other deals'
    rules that ran, processes it started, messages it delivered — is not repeated. An event
    none of whose rules failed is refused with `NotReplayable` (it would be applied twice).
    The earlier outcome is kept under `outcome.replaced`. Runs in the caller's transaction,
    like `accept_event`, and a transient database error is raised the same way.
    """
    session = runtime.session
    row = session.scalars(select(Event).where(Event.id == event_id).with_for_update()).first()
    if row is None:
        raise EventNotFound(f"no event {event_id}")
    previous = dict(row.outcome or {})
    evaluations = list(previous.get("evaluations", []))
    failed = {e.get("deal_id") for e in evaluations if e.get("outcome") == "failed"}
    if not failed:
        raise NotReplayable(f"event {event_id} has no failed rule; replaying it would apply it twice")
    data = validate_payload(row.type, row.payload)
    result = EventResult.of(row, duplicate=False)
    result.evaluations = [e for e in evaluations if e.get("deal_id") not in failed]
    for deal_id in sorted(failed, key=lambda d: (d is not None, d or 0)):
        deal = runtime.crm.deal(deal_id, for_update=True) if deal_id is not None else None
        file = automation(session, deal.pipeline.code if deal is not None else GLOBAL_SCOPE)
        result.evaluations += [e.as_dict() for e in apply_triggers(runtime, deal, row.type, data, file, cause,
                                                                   source=row.source)]
    result.created_deal_ids = sorted({*result.created_deal_ids, *_created_deals(result.evaluations)})
    replaced = [*previous.pop("replaced", []), {**previous, "processed_at": jsonable(row.processed_at)}]
    row.processed_at = runtime.clock.now()
    row.outcome = {**result.outcome(), "replaced": replaced}
    session.flush()
    return result


def _created_deals(evaluations: list[dict[str, Any]]) -> list[int]:
    """Deals an action of the matched rules reports as made (`{"deal_id": .., "created": true}`),
    so a store learns its order's deal from the answer."""
    return [action["result"]["deal_id"] for evaluation in evaluations for action in evaluation.get("actions", ())
            if isinstance(action.get("result"), dict) and action["result"].get("created")
            and isinstance(action["result"].get("deal_id"), int)]


def _claim(runtime: UnitOfWork, type_: str, source: str, key: str | None, data: Mapping[str, Any]) -> Event | None:
    """The new event row, or None if (source, key) was stored before (committed by anyone)."""
    session = runtime.session
    values = {"type": type_, "source": source, "idempotency_key": key, "payload": jsonable(dict(data)),
              "received_at": runtime.clock.now(), "outcome": {}}
    if key is None:
        row = Event(**values)
        session.add(row)
        session.flush()
        return row
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING the whole row makes it the session's Event at once, without selecting it again.
    statement = (insert(Event).values(**values)
                 .on_conflict_do_nothing(index_elements=["source", "idempotency_key"])
                 .returning(Event))
    return session.scalars(statement).first()


def _apply(runtime: UnitOfWork, type_: str, source: str, data: Mapping[str, Any], deals: list[Deal], cause: Cause,
           result: EventResult, automation: AutomationLookup) -> None:
    crm = runtime.crm
    if not deals:
        file = automation(runtime.session, GLOBAL_SCOPE)
        evaluations = [e.as_dict() for e in apply_triggers(runtime, None, type_, data, file, cause, source=source)]
        result.evaluations += evaluations
        # The event's deal is the one its rules just made (a new order's): a process the event
        # starts runs for that deal, as it would had the deal been there before the event.
        created: list[int | None] = [*_created_deals(evaluations)]
        for deal_id in created or [None]:
            _start_and_deliver(runtime, deal_id, type_, data, cause, result)
        return
    for deal in deals:
        locked = crm.deal(deal.id, for_update=True)
        file = automation(runtime.session, locked.pipeline.code)
        result.evaluations += [e.as_dict() for e in apply_triggers(runtime, locked, type_, data, file, cause,
                                                                      source=source)]
        event_arrived(runtime, locked.id, type_)
        _start_and_deliver(runtime, locked.id, type_, data, cause, result)


def _start_and_deliver(runtime: UnitOfWork, deal_id: int | None, type_: str, data: Mapping[str, Any], cause: Cause,
                       result: EventResult) -> None:
    """Start the processes whose start event waits for this message, then deliver it once to
    every instance of the deal waiting for it — the new ones included, so each gets it once."""
    for key in collaboration.processes_started_by(runtime.session, type_):
        try:
            instance = runtime.start(key, deal_id, {}, cause=cause, on_event=type_)
        except StartRefused as refusal:
            result.refused.append({"process": key, "deal_id": deal_id, "reason": str(refusal)})
            continue
        result.started.append(instance.id)
    started = set(result.started)
    delivered = runtime.send_message(deal_id, type_, dict(data), cause=cause)
    result.resumed += [instance_id for instance_id in delivered if instance_id not in started]

