"""The CRM operations the processes need from outside: read a deal, complete or move a task."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from api.schemas import CompleteTaskSchema, MoveTaskSchema
from crm.events import Cause

bp = Blueprint("crm", __name__, url_prefix="/api/v1")
API_CAUSE = Cause("user", None, "api")


def _engine() -> Any:
    return current_app.extensions["dealflow.engine"]


def _deal_dict(deal: Any) -> dict[str, Any]:
    return {
        "id": deal.id, "title": deal.title, "amount": str(deal.amount), "currency": deal.currency,
        "pipeline": deal.pipeline.code, "stage": deal.stage.code, "responsible_id": deal.responsible_id,
        "fields": deal.fields, "products": deal.products, "stage_entered_at": deal.stage_entered_at.isoformat(),
    }


@bp.get("/deals/<int:deal_id>")
def get_deal(deal_id: int) -> Any:
    with _engine().unit() as rt:
        return jsonify(_deal_dict(rt.crm.deal(deal_id)))


@bp.post("/tasks/<int:task_id>/complete")
def complete_task(task_id: int) -> Any:
    body = CompleteTaskSchema().load(request.get_json(silent=True) or {})
    with _engine().unit() as rt:
        task = rt.crm.complete_task(rt.crm.task(task_id), cause=API_CAUSE, result=body["result"])
        return jsonify({"id": task.id, "status": task.status})


@bp.post("/tasks/<int:task_id>/move")
def move_task(task_id: int) -> Any:
    body = MoveTaskSchema().load(request.get_json(silent=True) or {})
    with _engine().unit() as rt:
        task = rt.crm.move_task(rt.crm.task(task_id), body["column"], cause=API_CAUSE)
        return jsonify({"id": task.id, "column": task.column})
