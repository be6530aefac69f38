"""assign_responsible: choose a deal's responsible manager by rules, else in turn (S5).

Rules are tried in this order, the first that yields a user wins:

    decision:     a deployed DMN decision (key) whose output `responsible` (or its first
                  output) is a user or a department; no matching rule, or null, goes on
    vip:          a VIP client (deal field `vip`)           -> a user or a department
    by_amount:    [[from, to, target], [from, target], ...]  amount in [from, to) ; to empty = no limit
    by_category:  [[category, target], ...]                  deal field `category` or any product's category
    department:   otherwise in turn among `role` users of this department
    otherwise     left unassigned (the deal keeps its responsible, if any)

A target is a user (login, id or user record: assigned as is) or a department code (in turn
among its `role` users). "In turn" is round robin over the department's active users in
login order, skipping those away (User.present) or, with working_hours, outside their
working hours by the clock; whose turn it was is a row in `assignment_turns`, locked while
choosing, so it survives restarts and two workers do not pick the same person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.errors import NotFound
from crm.models import Deal, Department, User
from crm.service import Crm
from dsl import Record
from engine.actions import ActionContext, ActionInputError
from engine.dmn.store import decide
from robots.actions.crm_actions import deal_of
from robots.actions.registry import action
from robots.actions.tables import AssignmentTurn, savepoint

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: A user without a table of their own works the company's hours.
DEFAULT_HOURS = {day: ["09:00", "18:00"] for day in DAYS[:5]}


def in_working_hours(user: User, moment: datetime) -> bool:
    """Whether `moment` falls in the user's working hours, read in the user's timezone."""
    try:
        zone = ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    span = (user.working_hours or DEFAULT_HOURS).get(DAYS[local.weekday()])
    if not span or len(span) != 2:
        return False
    start, end = time.fromisoformat(span[0]), time.fromisoformat(span[1])
    return start <= local.time().replace(tzinfo=None) < end


def available(user: User, moment: datetime, *, working_hours: bool) -> bool:
    return bool(user.active and user.present and (not working_hours or in_working_hours(user, moment)))


def next_in_turn(crm: Crm, department: Department, role: str | None, *, working_hours: bool) -> User | None:
    """The next available user of the pool after the one chosen last time; None if nobody is available."""
    pool = f"department:{department.code}/role:{role or '*'}"
    turn = _lock_turn(crm, pool)
    members = crm.users(department=department, role=role, active=True)
    if not members:
        return None
    ids = [user.id for user in members]
    start = ids.index(turn.last_user_id) + 1 if turn.last_user_id in ids else 0
    now = crm.now()
    for offset in range(len(members)):
        user = members[(start + offset) % len(members)]
        if available(user, now, working_hours=working_hours):
            turn.last_user_id, turn.turns, turn.updated_at = user.id, turn.turns + 1, now
            crm.session.flush()
            return user
    return None


def _lock_turn(crm: Crm, pool: str) -> AssignmentTurn:
    query = select(AssignmentTurn).where(AssignmentTurn.pool == pool).with_for_update()
    turn = crm.session.scalar(query)
    if turn is not None:
        return turn
    try:
        with savepoint(crm.session):
            turn = AssignmentTurn(pool=pool, last_user_id=None, turns=0, updated_at=crm.now())
            crm.session.add(turn)
            crm.session.flush()
    except IntegrityError:  # another worker created the pool a moment ago
        turn = crm.session.scalar(query)
        if turn is None:
            raise
    return turn


@dataclass(frozen=True)
class Choice:
    user: User | None
    rule: str
    detail: str


def _target(crm: Crm, target: Any) -> User | Department:
    """A user (login, id, record) or else a department code."""
    if isinstance(target, Record):
        return crm.user(int(target.dsl_get("id")))
    if isinstance(target, int) and not isinstance(target, bool):
        return crm.user(target)
    if not isinstance(target, str) or not target.strip():
        raise ActionInputError(f"assign_responsible: {target!r} is neither a user nor a department")
    try:
        return crm.user(target)
    except NotFound:
        try:
            return crm.department(target)
        except NotFound:
            raise ActionInputError(
                f"assign_responsible: {target!r} is neither a user login nor a department code") from None


def _decimal(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ActionInputError(f"assign_responsible: {where}: {value!r} is not a number") from None


def _amount_rules(rows: Sequence[Any]) -> list[tuple[Decimal | None, Decimal | None, Any]]:
    parsed = []
    for index, row in enumerate(rows):
        where = f"by_amount[{index}]"
        if not isinstance(row, list | tuple) or len(row) not in (2, 3):
            raise ActionInputError(f"assign_responsible: {where} must be [from, target] or [from, to, target]")
        low, high = _decimal(row[0], where), _decimal(row[1], where) if len(row) == 3 else None
        parsed.append((low, high, row[-1]))
    return parsed


def _category_rules(rows: Sequence[Any]) -> list[tuple[str, Any]]:
    parsed = []
    for index, row in enumerate(rows):
        if not isinstance(row, list | tuple) or len(row) != 2 or not isinstance(row[0], str):
            raise ActionInputError(f"assign_responsible: by_category[{index}] must be [category, target]")
        parsed.append((row[0], row[1]))
    return parsed


def _categories(deal: Deal) -> set[str]:
    found = {str(product.get("category")) for product in deal.products or [] if product.get("category")}
    if (deal.fields or {}).get("category"):
        found.add(str(deal.fields["category"]))
    return found


def decided(crm: Crm, deal: Deal, key: str) -> tuple[Any, str] | None:
    """The target decision `key` gives for the deal, and which rule gave it; None when no rule
    matched or its output is null. The table sees the deal as expressions do (`deal.amount`)."""
    result = decide(crm.session, key, {"deal": crm.record(deal)}, crm.now())
    if not result.rows:
        return None
    row = result.rows[0]
    target = row["responsible"] if "responsible" in row else next(iter(row.values()), None)
    if target is None:
        return None
    rules = ", ".join(str(n) for n in result.matched[:1])
    return target, f"decision {result.table.name} rule {rules}"


def choose(crm: Crm, deal: Deal, *, vip: Any, by_amount: Sequence[Any], by_category: Sequence[Any],
           department: str | None, role: str | None, working_hours: bool, decision: str | None = None) -> Choice:
    """Apply the rules in order; every rule is checked for bad input before any is applied."""
    amounts, categories = _amount_rules(by_amount), _category_rules(by_category)
    from_decision = decided(crm, deal, decision) if decision else None
    targets = [vip, *(row[2] for row in amounts), *(row[1] for row in categories)]
    if from_decision is not None:
        targets.append(from_decision[0])
    resolved: dict[str, User | Department] = {repr(t): _target(crm, t) for t in targets if t is not None}
    if department:
        resolved[repr(department)] = crm.department(department)
    candidates: list[tuple[str, str, Any]] = []
    if from_decision is not None:
        candidates.append(("decision", from_decision[1], from_decision[0]))
    if vip is not None and (deal.fields or {}).get("vip") is True:
        candidates.append(("vip", "VIP client", vip))
    amount = Decimal(deal.amount or 0)
    for low, high, target in amounts:
        if (low is None or amount >= low) and (high is None or amount < high):
            candidates.append(("amount", f"amount {low or 0}..{high if high is not None else ''}", target))
            break
    deal_categories = _categories(deal)
    for category, target in categories:
        if category in deal_categories:
            candidates.append(("category", f"category {category}", target))
            break
    if department:
        candidates.append(("in_turn", f"in turn in {department}", department))
    for rule, detail, raw_target in candidates:
        target = resolved[repr(raw_target)]
        if isinstance(target, User):
            return Choice(target, rule, detail)
        user = next_in_turn(crm, target, role, working_hours=working_hours)
        if user is not None:
            return Choice(user, rule, f"{detail} (in turn among {target.code})" if rule != "in_turn" else detail)
    return Choice(None, "unassigned", "nobody available")


class AssignResponsibleSchema(Schema):
    department = fields.String(load_default=None,
                               metadata={"description": "otherwise in turn among this department's users"})
    role = fields.String(load_default="manager", allow_none=True,
                         metadata={"description": "who takes deals in turn (null: any role)"})
    vip = fields.Raw(load_default=None, metadata={"description": "user or department for VIP clients"})
    by_amount = fields.List(fields.Raw(), load_default=list,
                            metadata={"description": "[[from, to, target], [from, target]]: amount ranges"})
    by_category = fields.List(fields.Raw(), load_default=list,
                              metadata={"description": "[[category, target]]: by product category"})
    working_hours = fields.Boolean(load_default=True,
                                   metadata={"description": "in turn only among users within working hours"})
    decision = fields.String(load_default=None, allow_none=True,
                             metadata={"description": "a deployed decision table (key) choosing the user or "
                                                      "department first, e.g. store_routing"})


@action("assign_responsible", AssignResponsibleSchema, category="deal", positional=("department",),
        description="Choose the responsible manager: a decision table, VIP, amount or category rules, else in "
                    "turn among present users in working hours, else unassigned")
def assign_responsible(ctx: ActionContext, department: str | None, role: str | None, vip: Any,
                       by_amount: list[Any], by_category: list[Any], working_hours: bool,
                       decision: str | None = None) -> dict[str, Any]:
    deal = deal_of(ctx)
    choice = choose(ctx.service, deal, vip=vip, by_amount=by_amount, by_category=by_category,
                    department=department, role=role, working_hours=working_hours, decision=decision)
    if choice.user is None:
        return {"assigned": None, "rule": choice.rule, "detail": choice.detail}
    ctx.crm.set_fields(deal, {"responsible": choice.user}, cause=ctx.cause)
    ctx.crm.add_note(deal, "responsible_chosen", f"Responsible chosen: {choice.user.name} ({choice.detail})",
                     cause=ctx.cause, data={"user_id": choice.user.id, "rule": choice.rule})
    return {"assigned": choice.user.id, "login": choice.user.login, "rule": choice.rule, "detail": choice.detail}
