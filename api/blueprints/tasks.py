"""Tasks: the kanban cards people work on; completing one may resume a process.

Deliveries (S3) are the tasks of group `logistics`: a logistician gives each to a driver for a
day, the driver reads their load sheet, and completed deliveries are counted per driver.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api.auth import current_user, ensure, requires
from api.context import request_cause, unit_of_work
from api.guards import visible_task
from api.paging import PageQuerySchema, page_of
from api.parsing import Blueprint
from api.refs import ref
from api.schemas.common import ID_RULE
from api.schemas.crm import (
    AssignTaskSchema,
    CompleteTaskSchema,
    DeliveryCountQuerySchema,
    DeliveryCountSchema,
    LoadSheetQuerySchema,
    LoadSheetSchema,
    MoveTaskSchema,
    NewTaskSchema,
    TaskBoardSchema,
    TaskQuerySchema,
    TaskSchema,
)
from crm import access
from crm.models import Task
from crm.work import TASK_BOARDS
from engine.runtime import Runtime

bp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Tasks")


class TaskListQuery(TaskQuerySchema, PageQuerySchema):
    pass


@bp.get("")
@unit_of_work
@bp.arguments(TaskListQuery, location="query")
@bp.response(200, TaskSchema(many=True))
def list_tasks(args: dict[str, Any], *, rt: Runtime) -> Any:
    query = select(Task).where(access.visible_tasks(current_user())).order_by(Task.id.desc())
    for name in ("assignee_id", "deal_id", "status", "group", "column"):
        if name in args:
            query = query.where(getattr(Task, name) == args[name])
    return page_of(rt.session, query, args)


@bp.post("")
@requires("create_tasks")
@unit_of_work
@bp.arguments(NewTaskSchema)
@bp.response(201, TaskSchema)
def create_task(body: dict[str, Any], *, rt: Runtime) -> Any:
    return rt.crm.create_task(
        title=body["title"], description=body["description"], deal=body["deal_id"], assignee=body["assignee_id"],
        group=body["group"], column=body["column"], deadline=body["deadline"], data=body["data"],
        cause=request_cause(),
    )


@bp.get("/boards")
@unit_of_work
@bp.response(200, TaskBoardSchema(many=True))
def boards(*, rt: Runtime) -> Any:
    """Each task group's kanban columns, so a board draws the columns the server accepts."""
    return [{"group": group, "columns": list(columns)} for group, columns in TASK_BOARDS.items()]


@bp.get(f"/<{ID_RULE}:task_id>")
@unit_of_work
@bp.response(200, TaskSchema)
def get_task(task_id: int, *, rt: Runtime) -> Any:
    return visible_task(rt, task_id)


@bp.post(f"/<{ID_RULE}:task_id>/complete")
@requires("work_tasks")
@unit_of_work
@bp.arguments(CompleteTaskSchema, required=False)
@bp.response(200, TaskSchema)
def complete_task(body: dict[str, Any], task_id: int, *, rt: Runtime) -> Any:
    return rt.crm.complete_task(visible_task(rt, task_id), cause=request_cause(), result=body["result"])


@bp.post(f"/<{ID_RULE}:task_id>/move")
@requires("work_tasks")
@unit_of_work
@bp.arguments(MoveTaskSchema)
@bp.response(200, TaskSchema)
def move_task(body: dict[str, Any], task_id: int, *, rt: Runtime) -> Any:
    return rt.crm.move_task(visible_task(rt, task_id), body["column"], note=body["note"], cause=request_cause())


@bp.post(f"/<{ID_RULE}:task_id>/assign")
@requires("assign_tasks")
@unit_of_work
@bp.arguments(AssignTaskSchema)
@bp.response(200, TaskSchema)
def assign_task(body: dict[str, Any], task_id: int, *, rt: Runtime) -> Any:
    """Give the task to someone (null: back to its group), optionally with when it is due."""
    task = visible_task(rt, task_id)
    return rt.crm.plan_task(task, body["assignee_id"], deadline=body["deadline"], cause=request_cause())


@bp.get("/load-sheet")
@unit_of_work
@bp.arguments(LoadSheetQuerySchema, location="query")
@bp.response(200, LoadSheetSchema)
def load_sheet(args: dict[str, Any], *, rt: Runtime) -> Any:
    """A driver's deliveries for a day in the order they are due, with products and amounts
    to collect. Your own sheet, or any driver's if you plan deliveries."""
    me = current_user()
    driver = rt.crm.user(ref(args["driver"]) if args["driver"] is not None else me.id)
    if driver.id != me.id:
        ensure("plan_deliveries")
    deliveries = [task for task in rt.crm.load_sheet(driver, args["date"]) if access.can_see_task(me, task)]
    return {"driver_id": driver.id, "driver": driver.login, "date": args["date"], "deliveries": deliveries}


@bp.get("/delivery-counts")
@requires("plan_deliveries")
@unit_of_work
@bp.arguments(DeliveryCountQuerySchema, location="query")
@bp.response(200, DeliveryCountSchema(many=True))
def delivery_counts(args: dict[str, Any], *, rt: Runtime) -> Any:
    """Deliveries completed per driver in [since, until): what driver bonuses are counted from."""
    return [{"driver_id": user.id, "driver": user.login, "name": user.name, "deliveries": count}
            for user, count in rt.crm.delivery_counts(args["since"], args["until"])]
