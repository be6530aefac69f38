"""Writing the automation log: every robot and trigger evaluation, with its reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.clock import Clock
from engine.broadcast import Broadcast, deal_room, pipeline_room
from engine.jobs import add_later
from engine.scripting import to_json_safe
from robots.models import AutomationLogEntry

OUTCOMES = {"scheduled", "waiting", "ran", "skipped", "cancelled", "failed", "stopped", "matched", "no_match"}


def record(session: Session, clock: Clock, *, deal_id: int | None, kind: str, key: str, outcome: str,
           reason: str, scope: str | None = None, stage: str | None = None, name: str | None = None,
           detail: dict[str, Any] | None = None, job_id: int | None = None) -> AutomationLogEntry:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    entry = AutomationLogEntry(
        deal_id=deal_id, at=clock.now(), kind=kind, scope=scope, stage=stage, key=key, name=name,
        outcome=outcome, reason=reason, detail=to_json_safe(detail or {}), job_id=job_id,
    )
    add_later(session, entry)  # in a chunk of jobs, inserted with the chunk's other entries at its end
    return entry


def broadcast_of(_session: Session, entry: AutomationLogEntry) -> Broadcast | None:
    """The live `robot.log` line for a new entry: to the deal's room and its pipeline's."""
    if entry.deal_id is None and entry.scope is None:
        return None
    rooms = [] if entry.deal_id is None else [deal_room(entry.deal_id)]
    if entry.scope is not None:
        rooms.append(pipeline_room(entry.scope))
    payload = {"id": entry.id, "deal_id": entry.deal_id, "at": entry.at.isoformat(), "kind": entry.kind,
               "scope": entry.scope, "stage": entry.stage, "key": entry.key, "name": entry.name,
               "outcome": entry.outcome, "reason": entry.reason}
    return Broadcast("robot.log", tuple(rooms), payload)


def for_deal(session: Session, deal_id: int) -> list[AutomationLogEntry]:
    return list(session.scalars(
        select(AutomationLogEntry).where(AutomationLogEntry.deal_id == deal_id).order_by(AutomationLogEntry.id)
    ))
