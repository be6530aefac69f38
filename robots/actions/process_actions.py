"""start_process: a robot or a process starts a BPMN process for the deal, in the same transaction."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from crm.errors import NotFound
from engine.actions import ActionContext, ActionInputError
from engine.errors import StartRefused
from robots.actions.registry import action


class StartProcessSchema(Schema):
    process = fields.String(required=True, metadata={"description": "key of a deployed process"})
    params = fields.Dict(load_default=None, allow_none=True,
                         metadata={"description": "start parameters of the process"})


@action("start_process", StartProcessSchema, category="processes", positional=("process", "params"),
        description="Start a BPMN process for the deal (refused, with the missing fields, if it cannot start)")
def start_process(ctx: ActionContext, process: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """Goes through the caller's unit of work (`ctx.unit`), so the new instance commits (or
    rolls back) with the step that started it."""
    if ctx.unit is None:
        raise ActionInputError("start_process needs the engine runtime of this transaction (run it in engine.unit())")
    try:
        instance = ctx.unit.start(process, ctx.deal.id if ctx.deal is not None else None, params or {},
                                 cause=ctx.cause)
    except StartRefused as err:
        raise ActionInputError(f"start_process: {err.message}", err.details or {}) from err
    except NotFound as err:
        raise ActionInputError(f"start_process: {err.message}", {"process": err.message}) from err
    return {"instance_id": instance.id, "process": process, "status": instance.status}
