"""DMN decisions: deploy a file as new versions of its decision tables, read them, try one."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_smorest import Blueprint
from sqlalchemy import select

from api.auth import requires
from api.context import unit_of_work
from api.guards import visible_deal
from api.schemas.automation import (
    DecisionResultSchema,
    DecisionVersionSchema,
    DeployedDecisionsSchema,
    DeployJsonSchema,
    EvaluateDecisionSchema,
    ProcessXmlQuerySchema,
)
from crm import json_codec
from crm.errors import NotFound
from engine.dmn.store import deploy_decisions, latest_decision
from engine.dmn.table import DecisionTable, InvalidDecision
from engine.models import DecisionVersion
from engine.runtime import Runtime

bp = Blueprint("decisions", __name__, url_prefix="/api/v1/decisions", description="DMN decision tables")

XML_BODY = {"content": {
    "application/xml": {"schema": {"type": "string"}},
    "application/json": {"schema": DeployJsonSchema},
}, "required": True}


@bp.get("")
@unit_of_work
@bp.response(200, DecisionVersionSchema(many=True))
def list_decisions(*, rt: Runtime) -> Any:
    """The newest version of every decision."""
    latest: dict[str, DecisionVersion] = {}
    for version in rt.session.scalars(select(DecisionVersion).order_by(DecisionVersion.key, DecisionVersion.version)):
        latest[version.key] = version
    return list(latest.values())


@bp.post("")
@requires("edit_processes")
@unit_of_work
@bp.doc(requestBody=XML_BODY)
@bp.response(201, DeployedDecisionsSchema)
def deploy(*, rt: Runtime) -> Any:
    """DMN XML as the body (or JSON {"xml": ...}): a new version of each decision whose table
    changed; refused whole (422 invalid_decision) with each problem at its decision, rule and
    column, element id and line."""
    return {"decisions": deploy_decisions(rt.session, rt.clock.now(), _xml_of_request())}


@bp.get("/<string:key>/versions")
@unit_of_work
@bp.response(200, DecisionVersionSchema(many=True))
def list_versions(key: str, *, rt: Runtime) -> Any:
    versions = list(rt.session.scalars(
        select(DecisionVersion).where(DecisionVersion.key == key).order_by(DecisionVersion.version.desc())))
    if not versions:
        raise NotFound(f"no decision {key!r} is deployed")
    return versions


@bp.get("/<string:key>/xml")
@unit_of_work
@bp.arguments(ProcessXmlQuerySchema, location="query")
@bp.response(200, description="the DMN file the version was deployed from", content_type="application/xml")
def get_xml(args: dict[str, Any], key: str, *, rt: Runtime) -> Any:
    query = select(DecisionVersion.xml).where(DecisionVersion.key == key)
    if args.get("version") is None:
        query = query.order_by(DecisionVersion.version.desc()).limit(1)
    else:
        query = query.where(DecisionVersion.version == args["version"])
    xml = rt.session.scalar(query)
    if xml is None:
        raise NotFound(f"decision {key!r} has no such version")
    return Response(xml, mimetype="application/xml")


@bp.post("/<string:key>/evaluate")
@requires("run_test_bench")
@unit_of_work
@bp.arguments(EvaluateDecisionSchema)
@bp.response(200, DecisionResultSchema)
def evaluate(body: dict[str, Any], key: str, *, rt: Runtime) -> Any:
    """Try the latest version with a deal and/or variables, changing nothing: what a business
    rule task would get (422 decision_failed when the table cannot decide for these values)."""
    version = latest_decision(rt.session, key)
    assert version is not None
    names: dict[str, Any] = dict(body["variables"])
    if body.get("deal_id") is not None:
        names["deal"] = rt.crm.record(visible_deal(rt, body["deal_id"]))
    result = DecisionTable.from_dict(version.table).evaluate(names, rt.clock.now())
    return {"key": version.key, "version": version.version, "matched": result.matched,
            "value": json_codec.plain(result.value), "variables": json_codec.plain(result.variables())}


def _xml_of_request() -> bytes | str:
    if request.is_json:
        return DeployJsonSchema().load(request.get_json(silent=True) or {})["xml"]
    xml = request.get_data(cache=False)
    if not xml.strip():
        raise InvalidDecision("the body holds no DMN XML", [])
    return xml
