"""The deals board (kanban) of one pipeline, read in a fixed number of queries.

A manager opens the board many times a day and a pipeline holds thousands of deals, so the
board is not built from `GET /deals` pages: one grouped query gives every stage's count and
sum, one windowed query the first cards of every column (ROW_NUMBER per stage, on SQLite and
PostgreSQL alike), one grouped query the activity counters of those cards. Every query is
filtered by `crm.access.visible_deals` — the same rule as the deal list (S9) — so a column's
count never includes a deal its reader may not open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from crm import access
from crm.models import Contact, Deal, FieldDef, Pipeline, Stage, Task, User

DEFAULT_CARDS = 20
MAX_CARDS = 100


@dataclass
class BoardFilter:
    """What the board's filter bar narrows to; every part is optional and they combine."""

    responsible_id: int | None = None
    department_id: int | None = None
    query: str | None = None
    unassigned: bool = False


def board(
    session: Session,
    user: access.Actor,
    pipeline: Pipeline,
    *,
    now: datetime,
    timezone: str = "UTC",
    filters: BoardFilter | None = None,
    per_stage: int = DEFAULT_CARDS,
    stage: Stage | None = None,
    offset: int = 0,
) -> dict[str, Any]:
    """The board: every stage with its count and sums and up to `per_stage` cards (newest
    activity first); with `stage`, only that column's cards from `offset` on (its "more")."""
    per_stage = max(1, min(per_stage, MAX_CARDS))
    where = _where(user, pipeline, filters or BoardFilter())
    totals: dict[int, dict[str, Any]] = {s.id: {"count": 0, "sums": {}} for s in pipeline.stages}
    grouped = select(Deal.stage_id, Deal.currency, func.count(Deal.id), func.coalesce(func.sum(Deal.amount), 0))
    for stage_id, currency, count, total in session.execute(grouped.where(*where).group_by(Deal.stage_id,
                                                                                             Deal.currency)):
        if stage_id in totals:
            totals[stage_id]["count"] += count
            totals[stage_id]["sums"][currency] = str(Decimal(total).quantize(Decimal("0.01")))

    columns = [stage] if stage is not None else list(pipeline.stages)
    cards = _cards(session, where, [s.id for s in columns], per_stage, offset)
    counters = _counters(session, [card["id"] for stage_cards in cards.values() for card in stage_cards],
                         now, timezone)
    kinds = {s.id: s.kind for s in pipeline.stages}
    for stage_cards in cards.values():
        for card in stage_cards:
            open_, overdue, today, planned = counters.get(card["id"], (0, 0, 0, 0))
            card["tasks"] = {"open": open_, "overdue": overdue, "today": today}
            card["no_next_step"] = kinds.get(card.pop("stage_id")) == "in_progress" and planned == 0

    labels = _field_labels(session, pipeline)
    return {
        "pipeline": {"code": pipeline.code, "name": pipeline.name},
        "loss_reasons": list(pipeline.loss_reasons or []),
        "stages": [
            {
                "code": s.code,
                "name": s.name,
                "kind": s.kind,
                "ref": s.ref,
                "required_fields": [labels.get(code, {"name": code, "label": code, "type": "string",
                                                       "options": []}) for code in s.required_fields or []],
                "count": totals[s.id]["count"],
                "sums": totals[s.id]["sums"],
                "cards": cards.get(s.id, []),
                "offset": offset if stage is not None else 0,
                "more": totals[s.id]["count"] > (offset if stage is not None else 0) + len(cards.get(s.id, [])),
            }
            for s in columns
        ],
    }


def _where(user: access.Actor, pipeline: Pipeline, filters: BoardFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [
        Deal.pipeline_id == pipeline.id,
        Deal.is_sandbox.is_(False),
        access.visible_deals(user),
    ]
    if filters.responsible_id is not None:
        clauses.append(Deal.responsible_id == filters.responsible_id)
    if filters.unassigned:
        clauses.append(Deal.responsible_id.is_(None))
    if filters.department_id is not None:
        clauses.append(Deal.department_id == filters.department_id)
    if filters.query:
        pattern = f"%{_escape_like(filters.query.strip())}%"
        named = select(Contact.id).where(Contact.name.ilike(pattern, escape="\\"))
        clauses.append(or_(Deal.title.ilike(pattern, escape="\\"), Deal.contact_id.in_(named)))
    return clauses


def _cards(session: Session, where: list[ColumnElement[bool]], stage_ids: list[int], per_stage: int,
           offset: int) -> dict[int, list[dict[str, Any]]]:
    position = func.row_number().over(partition_by=Deal.stage_id,
                                      order_by=(Deal.stage_entered_at.desc(), Deal.id.desc())).label("position")
    ranked = select(Deal.id, position).where(*where, Deal.stage_id.in_(stage_ids)).subquery()
    responsible = aliased(User)
    query = (
        select(Deal.id, Deal.title, Deal.amount, Deal.currency, Deal.stage_id, Deal.version, Deal.loss_reason,
               Deal.responsible_id, responsible.name, Contact.name)
        .join(ranked, ranked.c.id == Deal.id)
        .outerjoin(responsible, responsible.id == Deal.responsible_id)
        .outerjoin(Contact, Contact.id == Deal.contact_id)
        .where(ranked.c.position > offset, ranked.c.position <= offset + per_stage)
        .order_by(Deal.stage_id, ranked.c.position)
    )
    cards: dict[int, list[dict[str, Any]]] = {}
    for row in session.execute(query):
        cards.setdefault(row[4], []).append({
            "id": row[0],
            "title": row[1],
            "amount": str(row[2]),
            "currency": row[3],
            "stage_id": row[4],
            "version": row[5],
            "loss_reason": row[6],
            "responsible": None if row[7] is None else {"id": row[7], "name": row[8]},
            "contact": row[9],
        })
    return cards


def _counters(session: Session, deal_ids: list[int], now: datetime,
              timezone: str) -> dict[int, tuple[int, int, int, int]]:
    """deal id -> (open tasks, overdue, due today, due from now on): the board's badges."""
    if not deal_ids:
        return {}
    start, end = _day_bounds(now, timezone)
    has_deadline = Task.deadline.is_not(None)
    query = (
        select(
            Task.deal_id,
            func.count(Task.id),
            func.sum(case((and_(has_deadline, Task.deadline < now), 1), else_=0)),
            func.sum(case((and_(has_deadline, Task.deadline >= start, Task.deadline < end), 1), else_=0)),
            func.sum(case((and_(has_deadline, Task.deadline >= now), 1), else_=0)),
        )
        .where(Task.deal_id.in_(deal_ids), Task.status == "open")
        .group_by(Task.deal_id)
    )
    return {row[0]: (int(row[1]), int(row[2] or 0), int(row[3] or 0), int(row[4] or 0))
            for row in session.execute(query)}


def _day_bounds(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """Today as the reader lives it: midnight to midnight in their own timezone."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone).date()
    start = datetime.combine(local, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def _field_labels(session: Session, pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    query = select(FieldDef).where(or_(FieldDef.pipeline_id == pipeline.id, FieldDef.pipeline_id.is_(None))) \
        .order_by(FieldDef.pipeline_id.is_not(None), FieldDef.sort, FieldDef.id)
    return {d.code: {"name": d.code, "label": d.name, "type": d.type, "options": list(d.options or [])}
            for d in session.scalars(query)}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
