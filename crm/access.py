"""Who sees which deals and who may do what (SCENARIOS.md S9).

Stores compete: a manager sees the deals of their own store (department), and a deal becomes
visible to every store's staff once it reaches `shipped` in the sales pipeline (from then on
logistics and any store may have to answer the client). Heads see their department; the
administrator and the director see everything; designers see everything read-only so they
can build processes on real examples; drivers, logisticians and purchasers see the deals they
have tasks for; whoever is responsible for a deal sees it. The rules are written twice on
purpose — as a predicate for one deal and as a SQL filter for lists — and the tests hold them
to the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from crm.models import Deal, Pipeline, Stage, Task, User

SALES_PIPELINE = "main"
PUBLIC_FROM_STAGE = "shipped"

SEE_ALL = {"administrator", "director", "designer", "integration"}
STORE_ROLES = {"head", "manager"}
TASK_GROUP_OF_ROLE = {"logistician": "logistics", "purchaser": "purchasing"}

PERMISSIONS: dict[str, set[str]] = {
    "manage_users": {"administrator"},
    "manage_secrets": {"administrator"},
    "edit_processes": {"administrator", "designer"},
    "edit_robots": {"administrator", "designer"},
    "run_test_bench": {"administrator", "designer"},
    "start_processes": {"administrator", "director", "head", "manager"},
    "move_deals": {"administrator", "director", "head", "manager", "logistician", "integration"},
    "edit_deals": {"administrator", "director", "head", "manager", "integration"},
    "work_tasks": {"administrator", "director", "head", "manager", "driver", "logistician", "purchaser"},
    "send_events": {"administrator", "integration"},
    "retry_incidents": {"administrator", "designer", "head"},
    "cancel_instances": {"administrator", "designer", "head"},
    "edit_pipelines": {"administrator", "designer"},
    "edit_contacts": {"administrator", "director", "head", "manager", "integration"},
    "read_contacts": {"administrator", "director", "designer", "head", "manager", "logistician", "integration"},
    "read_automation": {"administrator", "director", "designer", "head"},
    "read_leads": {"administrator", "director", "designer", "head", "manager", "integration"},
    "create_tasks": {"administrator", "director", "head", "manager", "logistician", "purchaser"},
    # Giving a task to someone (and saying when it is due); drivers only work what they are given.
    "assign_tasks": {"administrator", "director", "head", "manager", "logistician", "purchaser"},
    # Any driver's load sheet and the delivery counts per driver; a driver reads their own sheet.
    "plan_deliveries": {"administrator", "director", "logistician"},
}


class Actor(Protocol):
    """A user as access rules see them: a `crm.models.User` or a signed-in `crm.auth.Principal`."""

    # Read-only: a frozen Principal is an actor as much as a mapped User is.
    @property
    def id(self) -> int: ...
    @property
    def roles(self) -> Iterable[str]: ...
    @property
    def department_id(self) -> int | None: ...
    @property
    def active(self) -> bool: ...


def roles_of(user: Actor) -> set[str]:
    return set(user.roles or ()) if user.active else set()


def can(user: Actor, permission: str) -> bool:
    """Whether `user` holds a role that grants `permission` (an unknown permission grants nothing)."""
    return bool(roles_of(user) & PERMISSIONS.get(permission, set()))


def can_see_deal(user: Actor, deal: Deal) -> bool:
    roles = roles_of(user)
    if roles & SEE_ALL:
        return True
    if not roles:
        return False
    own_store = user.department_id is not None and deal.department_id == user.department_id
    if deal.responsible_id == user.id or (roles & STORE_ROLES and (own_store or is_public(deal))):
        return True
    return any(_has_task(user, role, task) for task in deal_tasks(deal) for role in roles)


def board_watchers(session: Session, deal: Deal) -> list[int]:
    """The people who follow `deal` on their deals board without the pipeline room: store
    staff of its department, every store's staff once it is public (S9), and its responsible.

    Their boards can only watch the deals they already show, so a deal that comes into their
    view (a new order in their store, a north deal shipped) is announced to them one by one;
    those who see every deal hear it in the pipeline room and are left out. Agrees with
    `can_see_deal` for everyone it names, and names nobody who may not see the deal.
    """
    public = is_public(deal)
    watchers = []
    for user in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)):
        roles = roles_of(user)
        if roles & SEE_ALL:
            continue
        own_store = user.department_id is not None and user.department_id == deal.department_id
        if user.id == deal.responsible_id or (roles & STORE_ROLES and (own_store or public)):
            watchers.append(user.id)
    return watchers


def sees_every_deal(user: Actor) -> bool:
    return bool(roles_of(user) & SEE_ALL)


def can_see_task(user: Actor, task: Task) -> bool:
    """Your own tasks, your group's (logistics, purchasing), and those on deals you may see."""
    roles = roles_of(user)
    if not roles:
        return False
    if roles & SEE_ALL or task.assignee_id == user.id or any(_has_task(user, role, task) for role in roles):
        return True
    return task.deal is not None and bool(roles & STORE_ROLES) and can_see_deal(user, task.deal)


def can_watch_board(user: Actor, group: str) -> bool:
    """A group's whole board (every card of `logistics`, say): those who see every deal and
    the group's own people, as `visible_tasks` lets them list it."""
    roles = roles_of(user)
    return bool(roles & SEE_ALL) or any(TASK_GROUP_OF_ROLE.get(role) == group for role in roles)


def visible_tasks(user: Actor) -> ColumnElement[bool]:
    """A WHERE clause for `select(Task)` that agrees with `can_see_task`."""
    roles = roles_of(user)
    if roles & SEE_ALL:
        return true()
    if not roles:
        return false()
    clauses: list[Any] = [Task.assignee_id == user.id]
    clauses += [Task.group == group for role, group in TASK_GROUP_OF_ROLE.items() if role in roles]
    if roles & STORE_ROLES:
        clauses.append(exists().where(Deal.id == Task.deal_id, visible_deals(user)))
    return or_(*clauses)


def is_public(deal: Deal) -> bool:
    """Shipped or further on in sales (won included, lost not): every store may need it now."""
    if deal.pipeline.code != SALES_PIPELINE:
        return False
    shipped = next((s for s in deal.pipeline.stages if s.code == PUBLIC_FROM_STAGE), None)
    if shipped is None:
        return False
    return deal.stage.kind == "won" or (deal.stage.kind == "in_progress" and deal.stage.sort >= shipped.sort)


def deal_tasks(deal: Deal) -> list[Task]:
    from sqlalchemy.orm import object_session

    session = object_session(deal)
    return list(session.scalars(select(Task).where(Task.deal_id == deal.id))) if session else []


def _has_task(user: Actor, role: str, task: Task) -> bool:
    if role == "driver":
        return task.assignee_id == user.id
    group = TASK_GROUP_OF_ROLE.get(role)
    return group is not None and (task.group == group or task.assignee_id == user.id)


def visible_deals(user: Actor) -> ColumnElement[bool]:
    """A WHERE clause for `select(Deal)` keeping only the deals `user` may see."""
    roles = roles_of(user)
    if roles & SEE_ALL:
        return true()
    if not roles:
        return false()
    clauses: list[Any] = [Deal.responsible_id == user.id]
    if roles & STORE_ROLES:
        if user.department_id is not None:
            clauses.append(Deal.department_id == user.department_id)
        clauses.append(_public_clause())
    task_clauses = []
    if "driver" in roles:
        task_clauses.append(Task.assignee_id == user.id)
    for role, group in TASK_GROUP_OF_ROLE.items():
        if role in roles:
            task_clauses.append(or_(Task.group == group, Task.assignee_id == user.id))
    if task_clauses:
        clauses.append(exists().where(Task.deal_id == Deal.id, or_(*task_clauses)))
    return or_(*clauses)


def _public_clause() -> ColumnElement[bool]:
    shipped = (
        select(Stage.sort).join(Pipeline, Stage.pipeline_id == Pipeline.id)
        .where(Pipeline.code == SALES_PIPELINE, Stage.code == PUBLIC_FROM_STAGE).scalar_subquery()
    )
    current = select(Stage).where(Stage.id == Deal.stage_id)
    sales = select(Pipeline.id).where(Pipeline.code == SALES_PIPELINE).scalar_subquery()
    return and_(
        Deal.pipeline_id == sales,
        exists(current.where(or_(Stage.kind == "won", and_(Stage.kind == "in_progress", Stage.sort >= shipped)))),
    )
