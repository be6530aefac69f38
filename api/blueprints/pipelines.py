"""Pipelines and their stages: what deals move through."""

from __future__ import annotations

from typing import Any

from api.auth import current_user, requires
from api.context import request_cause, unit_of_work
from api.parsing import Blueprint
from api.refs import ref
from api.schemas.crm import (
    AddStageSchema,
    BoardQuerySchema,
    BoardSchema,
    GatesSchema,
    NewPipelineSchema,
    PipelineSchema,
    StageSchema,
)
from crm.board import BoardFilter, board
from engine.runtime import Runtime

bp = Blueprint("pipelines", __name__, url_prefix="/api/v1/pipelines", description="Pipelines and stages")


@bp.get("")
@unit_of_work
@bp.response(200, PipelineSchema(many=True))
def list_pipelines(*, rt: Runtime) -> Any:
    return rt.crm.pipelines()


@bp.post("")
@requires("edit_pipelines")
@unit_of_work
@bp.arguments(NewPipelineSchema)
@bp.response(201, PipelineSchema)
def create_pipeline(body: dict[str, Any], *, rt: Runtime) -> Any:
    return rt.crm.create_pipeline(body["code"], body["name"], body["stages"],
                                  loss_reasons=body.get("loss_reasons") or (), cause=request_cause())


@bp.get("/<string:code>")
@unit_of_work
@bp.response(200, PipelineSchema)
def get_pipeline(code: str, *, rt: Runtime) -> Any:
    return rt.crm.pipeline(code)


@bp.post("/<string:code>/stages")
@requires("edit_pipelines")
@unit_of_work
@bp.arguments(AddStageSchema)
@bp.response(201, StageSchema)
def add_stage(body: dict[str, Any], code: str, *, rt: Runtime) -> Any:
    return rt.crm.add_stage(code, cause=request_cause(), **body)


@bp.put("/<string:code>/gates")
@requires("edit_pipelines")
@unit_of_work
@bp.arguments(GatesSchema)
@bp.response(200, PipelineSchema)
def set_gates(body: dict[str, Any], code: str, *, rt: Runtime) -> Any:
    """Stage gates: the fields each stage requires, and the loss reasons a lost stage asks for."""
    return rt.crm.set_gates(code, required_fields=body.get("required_fields"),
                            loss_reasons=body.get("loss_reasons"), cause=request_cause())


@bp.get("/<string:code>/board")
@unit_of_work
@bp.arguments(BoardQuerySchema, location="query")
@bp.response(200, BoardSchema)
def get_board(args: dict[str, Any], code: str, *, rt: Runtime) -> Any:
    """The deals board of a pipeline: only the deals the caller may see (S9), as GET /deals."""
    crm, user = rt.crm, current_user()
    pipeline = crm.pipeline(code)
    filters = BoardFilter(query=args.get("q"))
    if args.get("mine"):
        filters.responsible_id = user.id
    responsible = args.get("responsible")
    if responsible == "none":
        filters.unassigned = True
    elif responsible is not None:
        filters.responsible_id = crm.user(ref(responsible)).id
    department = args.get("department")
    if department == "mine":
        # No department of one's own: nothing of "my department" to show, rather than everything.
        filters.department_id = user.department_id if user.department_id is not None else -1
    elif department is not None:
        filters.department_id = crm.department(ref(department)).id
    stage = crm.stage(args["stage"], pipeline) if "stage" in args else None
    me = crm.user(user.id)
    return board(rt.session, user, pipeline, now=crm.now(), timezone=me.timezone, filters=filters,
                 per_stage=args["per_stage"], stage=stage, offset=args["offset"])
