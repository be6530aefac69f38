"""Built-in actions that act on the embedded CRM: move, tasks, notifications, fields."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from marshmallow import INCLUDE, Schema, fields
from sqlalchemy import select

from crm.errors import StageGateRefused
from crm.models import Stage, Task, User
from engine.actions import ActionContext, ActionInputError
from robots.actions.fields import NOT_GIVEN, StageRef, Text, UserRef, When
from robots.actions.registry import action


def deal_of(ctx: ActionContext) -> Any:
    """The deal the action works on; an action that needs one refuses to run without."""
    if ctx.deal is None:
        raise ActionInputError("this action needs a deal")
    return ctx.deal


def moment_of(ctx: ActionContext, when: datetime | timedelta | None) -> datetime | None:
    if isinstance(when, timedelta):
        return ctx.crm.now() + when
    return when


def gated_move(ctx: ActionContext, deal: Any, stage: Any, loss_reason: str | None = None) -> bool:
    """A move refused by the stage's gate fails the same way on every retry until a person
    fills the fields, so it is an input error: logged once for a robot, an incident at once for
    a process, with the gate's own sentence naming what is missing."""
    try:
        return bool(ctx.crm.move_deal(deal, stage, cause=ctx.cause, loss_reason=loss_reason))
    except StageGateRefused as refused:
        # from None: the engine reads the root cause to decide on retries, and this is final.
        raise ActionInputError(refused.message) from None


class MoveSchema(Schema):
    stage = StageRef(required=True, metadata={"description": "stage, or pipeline.stage to change pipeline"})
    loss_reason = fields.String(load_default=None,
                                metadata={"description": "for a lost stage: one of the pipeline's loss reasons"})


@action("move_to", MoveSchema, category="deal", description="Move the deal to a stage, in its pipeline or another",
        positional=("stage",))
def move_to(ctx: ActionContext, stage: str, loss_reason: str | None = None) -> dict[str, Any]:
    deal = deal_of(ctx)
    moved = gated_move(ctx, deal, stage, loss_reason)
    return {"moved": moved, "stage": stage}


class ChangePipelineSchema(Schema):
    pipeline = fields.String(required=True, metadata={"description": "code of the target pipeline"})
    stage = fields.String(load_default=None, metadata={"description": "stage there; the start stage if empty"})


@action("change_pipeline", ChangePipelineSchema, category="deal",
        description="Send the deal to another pipeline, at its start stage unless a stage is given",
        positional=("pipeline", "stage"))
def change_pipeline(ctx: ActionContext, pipeline: str, stage: str | None) -> dict[str, Any]:
    deal = deal_of(ctx)
    target = ctx.crm.pipeline(pipeline)
    to_stage: Stage | None
    if stage:
        to_stage = ctx.crm.stage(stage, target)
    else:
        to_stage = next((s for s in target.stages if s.is_start), None)
        if to_stage is None:
            raise ActionInputError(f"pipeline {pipeline!r} has no start stage")
    gated_move(ctx, deal, to_stage)
    return {"pipeline": pipeline, "stage": to_stage.code}


class CreateTaskSchema(Schema):
    title = Text(required=True)
    to = UserRef(load_default=None, metadata={"description": "assignee; the group's queue if empty"})
    due = When(load_default=None, metadata={"description": "deadline: a moment, or a duration from now"})
    description = Text(load_default="")
    group = fields.String(load_default=None, metadata={"description": "task group, e.g. logistics"})
    column = fields.String(load_default="new", metadata={"description": "kanban column in the group"})
    data = fields.Dict(load_default=None, metadata={"description": "extra data shown on the card"})


@action("create_task", CreateTaskSchema, category="tasks", description="Create a task, linked to the deal",
        positional=("title", "to", "due"))
def create_task(ctx: ActionContext, title: str, to: Any, due: Any, description: str, group: str | None,
                column: str, data: dict[str, Any] | None) -> dict[str, Any]:
    task = ctx.crm.create_task(
        title=title, description=description, deal=ctx.deal,
        assignee=ctx.crm.user(to) if to is not None else None,
        group=group, column=column, deadline=moment_of(ctx, due), data=data, cause=ctx.cause,
    )
    return {"task_id": task.id}


class NotifySchema(Schema):
    to = UserRef(load_default=NOT_GIVEN, allow_none=True,
                 metadata={"description": "the user; the deal's responsible user if not given"})
    text = Text(required=True)


@action("notify", NotifySchema, category="notifications", description="Put a message in a user's feed",
        positional=("to", "text"))
def notify(ctx: ActionContext, to: Any, text: str) -> dict[str, Any]:
    if to is NOT_GIVEN:
        deal = deal_of(ctx)
        if deal.responsible_id is None:
            return {"notified": None, "reason": "the deal has no responsible user"}
        to = deal.responsible_id
    if to is None:
        return {"notified": None, "reason": "no recipient (the user expression gave null)"}
    user = ctx.crm.user(to)
    ctx.crm.notify(user, text, deal=ctx.deal, cause=ctx.cause)
    return {"notified": user.id}


class NotifySupervisorSchema(Schema):
    text = Text(required=True)
    of = UserRef(load_default=None, metadata={"description": "whose supervisor; the responsible user's if empty"})


@action("notify_supervisor", NotifySupervisorSchema, category="notifications",
        description="Notify the supervisor (or department head) of a user, by default the deal's responsible",
        positional=("text", "of"))
def notify_supervisor(ctx: ActionContext, text: str, of: Any) -> dict[str, Any]:
    if of is None:
        of = deal_of(ctx).responsible_id
    if of is None:
        return {"notified": None, "reason": "the deal has no responsible user"}
    user = ctx.crm.user(of)
    head = supervisor_of(user)
    if head is None:
        return {"notified": None, "reason": f"{user.login} has no supervisor"}
    ctx.crm.notify(head, text, deal=ctx.deal, cause=ctx.cause)
    return {"notified": head.id}


def supervisor_of(user: User) -> User | None:
    """The user's supervisor, else the head of their department; never the user themself."""
    head = user.supervisor
    if head is None and user.department is not None:
        head = user.department.head
    if head is None or head.id == user.id:
        return None
    return head


class SetFieldSchema(Schema):
    class Meta:
        unknown = INCLUDE

    field = fields.String(load_default=None, metadata={"description": "field code (or pass field: value pairs)"})
    value = fields.Raw(load_default=None, allow_none=True)


@action("set_field", SetFieldSchema, category="deal", description="Set deal fields",
        positional=("field", "value"))
def set_field(ctx: ActionContext, field: str | None = None, value: Any = None, **others: Any) -> dict[str, Any]:
    deal = deal_of(ctx)
    values = dict(others)
    if field is not None:
        values[field] = value
    if not values:
        raise ActionInputError("set_field needs a field and a value")
    changes = ctx.crm.set_fields(deal, values, cause=ctx.cause)
    return {"changed": sorted(changes)}


class ArchiveTaskSchema(Schema):
    task = fields.Integer(required=True, metadata={"description": "id of the task to archive"})


@action("archive_task", ArchiveTaskSchema, category="tasks", description="Archive a finished task",
        positional=("task",))
def archive_task(ctx: ActionContext, task: int) -> dict[str, Any]:
    crm_task = ctx.crm.task(task)
    if ctx.deal is not None and crm_task.deal_id not in (None, ctx.deal.id):
        raise ActionInputError(f"task {task} belongs to another deal")
    ctx.crm.archive_task(crm_task, cause=ctx.cause)
    return {"archived": crm_task.id}


class CompleteStageTasksSchema(Schema):
    group = fields.String(load_default=None,
                          metadata={"description": "complete the deal's open tasks of this group, whatever the stage"})
    process_tasks = fields.Boolean(load_default=False,
                                   metadata={"description": "also tasks that stand for BPMN user tasks (resumes them)"})


@action("complete_stage_tasks", CompleteStageTasksSchema, category="tasks",
        description="Complete the deal's open tasks created since it entered its stage, or those of a group",
        positional=("group",))
def complete_stage_tasks(ctx: ActionContext, group: str | None, process_tasks: bool) -> dict[str, Any]:
    """Leaving a stage usually makes its to-dos moot; tasks a process waits on are left alone
    unless asked, because completing one resumes that process."""
    deal = deal_of(ctx)
    query = select(Task).where(Task.deal_id == deal.id, Task.status == "open").order_by(Task.id)
    if group is not None:
        query = query.where(Task.group == group)
    else:
        query = query.where(Task.created_at >= deal.stage_entered_at)
    completed, skipped = [], []
    for task in ctx.service.session.scalars(query).all():
        if task.process_instance_id is not None and not process_tasks:
            skipped.append(task.id)
            continue
        ctx.crm.complete_task(task, cause=ctx.cause)
        completed.append(task.id)
    return {"completed": completed, "skipped_process_tasks": skipped}


class AddCommentSchema(Schema):
    text = Text(required=True)


@action("add_comment", AddCommentSchema, category="deal", description="Write a comment on the deal's timeline",
        positional=("text",))
def add_comment(ctx: ActionContext, text: str) -> dict[str, Any]:
    entry = ctx.crm.add_comment(deal_of(ctx), text, cause=ctx.cause)
    return {"entry_id": entry.id}
