"""DMN decisions: deploy a file as new versions of its decision tables, read them, try one."""

from __future__ import annotations

from typing import Any

from api.auth import requires
from api.context import unit_of_work
from api.guards import visible_deal
from api.parsing import Blueprint
from api.schemas.automation import (
    DecisionResultSchema,
    DecisionVersionSchema,
    DeployedDecisionsSchema,
    EvaluateDecisionSchema,
    ProcessXmlQuerySchema,
)
from api.versioned import XML_BODY, newest_of_each, versions_of, xml_of_request, xml_response
from crm import json_codec
from engine.dmn.store import deploy_decisions, latest_decision
from engine.dmn.table import DecisionTable, InvalidDecision
from engine.models import DecisionVersion
from engine.runtime import Runtime

bp = Blueprint("decisions", __name__, url_prefix="/api/v1/decisions", description="DMN decision tables")


@bp.get("")
@unit_of_work
@bp.response(200, DecisionVersionSchema(many=True))
def list_decisions(*, rt: Runtime) -> Any:
    """The newest version of every decision."""
    return newest_of_each(rt.session, DecisionVersion)


@bp.post("")
@requires("edit_processes")
@unit_of_work
@bp.doc(requestBody=XML_BODY)
@bp.response(201, DeployedDecisionsSchema)
def deploy(*, rt: Runtime) -> Any:
    """DMN XML as the body (or JSON {"xml": ...}): a new version of each decision whose table
    changed; refused whole (422 invalid_decision) with each problem at its decision, rule and
    column, element id and line."""
    xml = xml_of_request(InvalidDecision("the body holds no DMN XML", []))
    return {"decisions": deploy_decisions(rt.session, rt.clock.now(), xml)}


@bp.get("/<string:key>/versions")
@unit_of_work
@bp.response(200, DecisionVersionSchema(many=True))
def list_versions(key: str, *, rt: Runtime) -> Any:
    return versions_of(rt.session, DecisionVersion, key, "decision")


@bp.get("/<string:key>/xml")
@unit_of_work
@bp.arguments(ProcessXmlQuerySchema, location="query")
@bp.response(200, description="the DMN file the version was deployed from", content_type="application/xml")
def get_xml(args: dict[str, Any], key: str, *, rt: Runtime) -> Any:
    return xml_response(rt.session, DecisionVersion, key, args.get("version"), "decision")


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
