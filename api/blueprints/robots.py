"""The robots and triggers text of a pipeline: read it, check it, save it.

A text with any problem is refused whole with every error's line and column, so what is
stored always parses and a half-valid file never runs.
"""

from __future__ import annotations

from typing import Any

from flask import request

from api.auth import current_user, requires
from api.context import engine, request_cause, unit_of_work
from api.parsing import Blueprint
from api.request_text import decoded_text
from api.schemas.automation import (
    ApplyQuerySchema,
    AutomationDiffSchema,
    AutomationOutlineSchema,
    AutomationSchema,
    AutomationTextSchema,
    AutomationVersionSchema,
    DiffQuerySchema,
    EditAutomationSchema,
    EditResultSchema,
    ValidateAutomationSchema,
    ValidationResultSchema,
)
from api.wiring import catalog
from crm.errors import NotFound
from dsl import DslError
from dsl.automation_edit import EditError, Problem, describe, edit_automation, locate
from dsl.automation_parser import parse_automation
from engine.runtime import Runtime
from robots.models import AutomationSource
from robots.runtime import apply_to_deals_on_stage
from robots.sources import diff_versions, latest, save_automation, validate, version, versions

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


@bp.post("/<scope:scope>/edit")
@requires("edit_robots")
@unit_of_work
@bp.arguments(EditAutomationSchema)
@bp.response(200, EditResultSchema)
def edit(body: dict[str, Any], scope: str, *, rt: Runtime) -> Any:
    """The board's form applied to the text (parse, change, format; comments kept), nothing
    stored: the new text, and the save-time check's errors put on the form's fields. A form
    that cannot be applied (an empty action, a broken expression) is a 422 field by field."""
    _check_scope(rt, scope)
    text = edit_automation(body["text"], body["operation"])
    _, errors = validate(text, catalog(engine(), rt.crm), None if scope == GLOBAL_SCOPE else scope)
    return {"text": text, "errors": [p.to_dict() for p in locate(text, body["operation"], errors)]}


@bp.post("/<scope:scope>/outline")
@requires("read_automation")
@unit_of_work
@bp.arguments(AutomationTextSchema)
@bp.response(200, AutomationOutlineSchema)
def outline(body: dict[str, Any], scope: str, *, rt: Runtime) -> Any:
    """The text as the board's forms hold it (stages, robot chains, triggers, each with its
    line); 422 if it does not parse."""
    _check_scope(rt, scope)
    try:
        return describe(parse_automation(body["text"]))
    except DslError as error:
        found = getattr(error, "errors", None) or [error]
        raise EditError([Problem(None, e.message, e.line, e.column) for e in found]) from None


@bp.get("/<scope:scope>/versions")
@requires("read_automation")
@unit_of_work
@bp.response(200, AutomationVersionSchema(many=True))
def list_versions(scope: str, *, rt: Runtime) -> Any:
    """Every saved version, the newest first."""
    _check_scope(rt, scope)
    return versions(rt.session, scope)


@bp.get("/<scope:scope>/diff")
@requires("read_automation")
@unit_of_work
@bp.arguments(DiffQuerySchema, location="query")
@bp.response(200, AutomationDiffSchema)
def diff(args: dict[str, Any], scope: str, *, rt: Runtime) -> Any:
    """What changed between two saved versions (either way round), as unified diff lines."""
    _check_scope(rt, scope)
    older, newer = (_version(rt, scope, args[k]) for k in ("from_version", "to_version"))
    return {"from_version": args["from_version"], "to_version": args["to_version"],
            "lines": diff_versions(older, newer)}


def _version(rt: Runtime, scope: str, number: int) -> AutomationSource:
    row = version(rt.session, scope, number)
    if row is None:
        raise NotFound(f"{scope} has no version {number}")
    return row


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
