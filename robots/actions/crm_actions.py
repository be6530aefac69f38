"""Built-in actions that act on the embedded CRM: move, tasks, notifications, fields."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from marshmallow import INCLUDE, Schema, fields

from engine.actions import ActionContext, ActionInputError
from robots.actions.fields import StageRef, Text, UserRef, When
from robots.actions.registry import action


def _deal(ctx: ActionContext) -> Any:
    if ctx.deal is None:
        raise ActionInputError("this action needs a deal")
    return ctx.deal


def _moment(ctx: ActionContext, when: datetime | timedelta | None) -> datetime | None:
    if isinstance(when, timedelta):
        return ctx.crm.now() + when
    return when


class MoveSchema(Schema):
    stage = StageRef(required=True, metadata={"description": "stage, or pipeline.stage to change pipeline"})


@action("move_to", MoveSchema, category="deal", description="Move the deal to a stage, in its pipeline or another")
def move_to(ctx: ActionContext, stage: str) -> dict[str, Any]:
    deal = _deal(ctx)
    moved = ctx.crm.move_deal(deal, stage, cause=ctx.cause)
    return {"moved": moved, "stage": stage}


class ChangePipelineSchema(Schema):
    pipeline = fields.String(required=True, metadata={"description": "code of the target pipeline"})
    stage = fields.String(load_default=None, metadata={"description": "stage there; the start stage if empty"})


@action("change_pipeline", ChangePipelineSchema, category="deal",
        description="Send the deal to another pipeline, at its start stage unless a stage is given")
def change_pipeline(ctx: ActionContext, pipeline: str, stage: str | None) -> dict[str, Any]:
    deal = _deal(ctx)
    target = ctx.crm.pipeline(pipeline)
    if stage:
        to_stage = ctx.crm.stage(stage, target)
    else:
        to_stage = next((s for s in target.stages if s.is_start), None)
        if to_stage is None:
            raise ActionInputError(f"pipeline {pipeline!r} has no start stage")
    ctx.crm.move_deal(deal, to_stage, cause=ctx.cause)
    return {"pipeline": pipeline, "stage": to_stage.code}


class CreateTaskSchema(Schema):
    title = Text(required=True)
    description = Text(load_default="")
    assignee = UserRef(load_default=None)
    group = fields.String(load_default=None)
    column = fields.String(load_default="new")
    deadline = When(load_default=None)
    data = fields.Dict(load_default=None)


@action("create_task", CreateTaskSchema, category="tasks", description="Create a task, linked to the deal")
def create_task(ctx: ActionContext, title: str, description: str, assignee: Any, group: str | None,
                column: str, deadline: Any, data: dict[str, Any] | None) -> dict[str, Any]:
    task = ctx.crm.create_task(
        title=title, description=description, deal=ctx.deal,
        assignee=ctx.crm.user(assignee) if assignee is not None else None,
        group=group, column=column, deadline=_moment(ctx, deadline), data=data, cause=ctx.cause,
    )
    return {"task_id": task.id}


class NotifySchema(Schema):
    text = Text(required=True)
    to = UserRef(load_default=None, metadata={"description": "the deal's responsible user if empty"})


@action("notify", NotifySchema, category="notifications", description="Put a message in a user's feed")
def notify(ctx: ActionContext, text: str, to: Any) -> dict[str, Any]:
    if to is None:
        deal = _deal(ctx)
        if deal.responsible_id is None:
            return {"notified": None, "reason": "the deal has no responsible user"}
        to = deal.responsible_id
    user = ctx.crm.user(to)
    ctx.crm.notify(user, text, deal=ctx.deal, cause=ctx.cause)
    return {"notified": user.id}


class NotifySupervisorSchema(Schema):
    text = Text(required=True)
    of = UserRef(load_default=None, metadata={"description": "whose supervisor; the responsible user's if empty"})


@action("notify_supervisor", NotifySupervisorSchema, category="notifications",
        description="Notify the supervisor (or department head) of a user, by default the deal's responsible")
def notify_supervisor(ctx: ActionContext, text: str, of: Any) -> dict[str, Any]:
    if of is None:
        of = _deal(ctx).responsible_id
    if of is None:
        return {"notified": None, "reason": "the deal has no responsible user"}
    user = ctx.crm.user(of)
    head_id = user.supervisor_id
    if head_id is None and user.department is not None:
        head_id = user.department.head_id
    if head_id is None or head_id == user.id:
        return {"notified": None, "reason": f"{user.login} has no supervisor"}
    ctx.crm.notify(ctx.crm.user(head_id), text, deal=ctx.deal, cause=ctx.cause)
    return {"notified": head_id}


class SetFieldSchema(Schema):
    class Meta:
        unknown = INCLUDE

    field = fields.String(load_default=None, metadata={"description": "field code (or pass field: value pairs)"})
    value = fields.Raw(load_default=None, allow_none=True)


@action("set_field", SetFieldSchema, category="deal", description="Set deal fields")
def set_field(ctx: ActionContext, field: str | None = None, value: Any = None, **others: Any) -> dict[str, Any]:
    deal = _deal(ctx)
    values = dict(others)
    if field is not None:
        values[field] = value
    if not values:
        raise ActionInputError("set_field needs a field and a value")
    changes = ctx.crm.set_fields(deal, values, cause=ctx.cause)
    return {"changed": sorted(changes)}


class ArchiveTaskSchema(Schema):
    task = fields.Integer(required=True, metadata={"description": "id of the task to archive"})


@action("archive_task", ArchiveTaskSchema, category="tasks", description="Archive a finished task")
def archive_task(ctx: ActionContext, task: int) -> dict[str, Any]:
    crm_task = ctx.crm.task(task)
    if ctx.deal is not None and crm_task.deal_id not in (None, ctx.deal.id):
        raise ActionInputError(f"task {task} belongs to another deal")
    ctx.crm.archive_task(crm_task, cause=ctx.cause)
    return {"archived": crm_task.id}
