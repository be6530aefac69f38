"""The robots and triggers text of a pipeline: read it, check it, save it.

A text with any problem is refused whole with every error's line and column, so what is
stored always parses and a half-valid file never runs.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

from api.auth import current_user, requires
from api.context import engine, request_cause, unit_of_work
from api.request_text import decoded_text
from api.schemas.automation import (
    ApplyQuerySchema,
    AutomationSchema,
    AutomationTextSchema,
    ValidateAutomationSchema,
    ValidationResultSchema,
)
from api.wiring import catalog
from engine.runtime import Runtime
from robots.runtime import apply_to_deals_on_stage
from robots.sources import latest, save_automation, validate

bp = Blueprint("robots", __name__, url_prefix="/api/v1/robots", description="Stage robots and triggers (DSL)")

GLOBAL_SCOPE = "global"
TEXT_BODY = {"content": {
    "text/plain": {"schema": {"type": "string"}},
    "application/json": {"schema": AutomationTextSchema},
}, "required": True}


@bp.post("/validate")
@requires("edit_robots")
@unit_of_work
@bp.arguments(ValidateAutomationSchema)
@bp.response(200, ValidationResultSchema)
def validate_text(body: dict[str, Any], *, rt: Runtime) -> Any:
    """The same check as saving, nothing stored: for the editor's live underlining."""
    _, errors = validate(body["text"], catalog(engine(), rt.crm), body["scope"])
    return {"valid": not errors, "errors": [error.to_dict() for error in errors]}


@bp.get("/<scope:scope>")
@requires("read_automation")
@unit_of_work
@bp.response(200, AutomationSchema)
def get_automation(scope: str, *, rt: Runtime) -> Any:
    _check_scope(rt, scope)
    return _shown(scope, latest(rt.session, scope))


@bp.put("/<scope:scope>")
@requires("edit_robots")
@unit_of_work
@bp.arguments(ApplyQuerySchema, location="query")
@bp.doc(requestBody=TEXT_BODY)
@bp.response(200, AutomationSchema)
def put_automation(args: dict[str, Any], scope: str, *, rt: Runtime) -> Any:
    """text/plain, or JSON {"text": ...}; 422 with every error and nothing saved if it does not check."""
    _check_scope(rt, scope)
    text = _text_of_request()
    row = save_automation(rt.session, rt.clock, scope, text, catalog(engine(), rt.crm), current_user().login)
    applied = 0
    if args["apply_to_existing"] and scope != GLOBAL_SCOPE:
        for stage in rt.crm.pipeline(scope).stages:
            applied += apply_to_deals_on_stage(rt, scope, stage.code, request_cause())
    return {**_shown(scope, row), "applied_to": applied}


def _check_scope(rt: Runtime, scope: str) -> None:
    if scope != GLOBAL_SCOPE:
        rt.crm.pipeline(scope)


def _shown(scope: str, row: Any) -> dict[str, Any]:
    if row is None:
        return {"scope": scope, "version": None, "text": "", "saved_at": None, "saved_by": None}
    return {"scope": scope, "version": row.version, "text": row.text, "saved_at": row.saved_at,
            "saved_by": row.saved_by}


def _text_of_request() -> str:
    if request.is_json:
        # Unreadable JSON is None here, which load() refuses with its own ValidationError.
        return AutomationTextSchema().load(request.get_json(silent=True))["text"]  # type: ignore[arg-type]
    return decoded_text(request.get_data(cache=False), request.mimetype_params.get("charset", "utf-8"))
