"""Tasks: the kanban cards people work on; completing one may resume a process."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import select

from api.auth import current_user, requires
from api.context import request_cause, unit_of_work
from api.guards import visible_task
from api.paging import PageQuerySchema, page_of
from api.schemas.common import ID_RULE
from api.schemas.crm import CompleteTaskSchema, MoveTaskSchema, NewTaskSchema, TaskQuerySchema, TaskSchema
from crm import access
from crm.models import Task

bp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Tasks")


class TaskListQuery(TaskQuerySchema, PageQuerySchema):
    pass


@bp.get("")
@unit_of_work
@bp.arguments(TaskListQuery, location="query")
@bp.response(200, TaskSchema(many=True))
def list_tasks(args: dict[str, Any], *, rt: Any) -> Any:
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
def create_task(body: dict[str, Any], *, rt: Any) -> Any:
    return rt.crm.create_task(
        title=body["title"], description=body["description"], deal=body["deal_id"], assignee=body["assignee_id"],
        group=body["group"], column=body["column"], deadline=body["deadline"], data=body["data"],
        cause=request_cause(),
    )


@bp.get(f"/<{ID_RULE}:task_id>")
@unit_of_work
@bp.response(200, TaskSchema)
def get_task(task_id: int, *, rt: Any) -> Any:
    return visible_task(rt, task_id)


@bp.post(f"/<{ID_RULE}:task_id>/complete")
@requires("work_tasks")
@unit_of_work
@bp.arguments(CompleteTaskSchema, required=False)
@bp.response(200, TaskSchema)
def complete_task(body: dict[str, Any], task_id: int, *, rt: Any) -> Any:
    return rt.crm.complete_task(visible_task(rt, task_id), cause=request_cause(), result=body["result"])


@bp.post(f"/<{ID_RULE}:task_id>/move")
@requires("work_tasks")
@unit_of_work
@bp.arguments(MoveTaskSchema)
@bp.response(200, TaskSchema)
def move_task(body: dict[str, Any], task_id: int, *, rt: Any) -> Any:
    return rt.crm.move_task(visible_task(rt, task_id), body["column"], cause=request_cause())
