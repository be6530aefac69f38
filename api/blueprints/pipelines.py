"""Pipelines and their stages: what deals move through."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from api.auth import requires
from api.context import request_cause, unit_of_work
from api.schemas.crm import AddStageSchema, NewPipelineSchema, PipelineSchema, StageSchema

bp = Blueprint("pipelines", __name__, url_prefix="/api/v1/pipelines", description="Pipelines and stages")


@bp.get("")
@unit_of_work
@bp.response(200, PipelineSchema(many=True))
def list_pipelines(*, rt: Any) -> Any:
    return rt.crm.pipelines()


@bp.post("")
@requires("edit_pipelines")
@unit_of_work
@bp.arguments(NewPipelineSchema)
@bp.response(201, PipelineSchema)
def create_pipeline(body: dict[str, Any], *, rt: Any) -> Any:
    return rt.crm.create_pipeline(body["code"], body["name"], body["stages"], cause=request_cause())


@bp.get("/<string:code>")
@unit_of_work
@bp.response(200, PipelineSchema)
def get_pipeline(code: str, *, rt: Any) -> Any:
    return rt.crm.pipeline(code)


@bp.post("/<string:code>/stages")
@requires("edit_pipelines")
@unit_of_work
@bp.arguments(AddStageSchema)
@bp.response(201, StageSchema)
def add_stage(body: dict[str, Any], code: str, *, rt: Any) -> Any:
    return rt.crm.add_stage(code, cause=request_cause(), **body)
