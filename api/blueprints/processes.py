"""Process definitions: deploy BPMN as a new version, read versions and XML, start instances."""

from __future__ import annotations

from typing import Any

from api.auth import requires
from api.context import request_cause, unit_of_work
from api.guards import visible_deal
from api.parsing import Blueprint
from api.schemas.automation import (
    DeployedVersionSchema,
    InstanceSummarySchema,
    ProcessVersionSchema,
    ProcessXmlQuerySchema,
    StartProcessSchema,
)
from api.versioned import XML_BODY, newest_of_each, versions_of, xml_of_request, xml_response
from engine.errors import InvalidProcess
from engine.gateways import gateway_warnings
from engine.models import ProcessVersion
from engine.runtime import Runtime
from triggers.messages import message_warnings

bp = Blueprint("processes", __name__, url_prefix="/api/v1/processes", description="BPMN processes")


@bp.get("")
@unit_of_work
@bp.response(200, ProcessVersionSchema(many=True))
def list_processes(*, rt: Runtime) -> Any:
    """The newest version of every process."""
    return newest_of_each(rt.session, ProcessVersion)


@bp.post("")
@requires("edit_processes")
@unit_of_work
@bp.doc(requestBody=XML_BODY)
@bp.response(201, DeployedVersionSchema)
def deploy(*, rt: Runtime) -> Any:
    """BPMN XML as the body (or JSON {"xml": ...}); the same text twice gives the same version.
    Every executable pool of a collaboration is deployed, each a process of its own: the answer
    is the one a plain start runs, with all of them in `processes`. It lists the messages the
    processes wait for and warns about names no CRM event sends, and about gateways that can
    leave an instance with no path (engine/gateways.py)."""
    xml = xml_of_request(InvalidProcess("the body holds no BPMN XML", []))
    deployed = rt.deploy_all(xml)
    fields = ProcessVersionSchema().fields
    shown = [{name: getattr(version, name) for name in fields} for version in deployed]
    names = [name for version in deployed for name in [*version.messages, *version.start_messages]]
    return {**shown[0], "processes": shown, "warnings": [*message_warnings(names), *gateway_warnings(xml)]}


@bp.get("/<string:key>/versions")
@unit_of_work
@bp.response(200, ProcessVersionSchema(many=True))
def list_versions(key: str, *, rt: Runtime) -> Any:
    return versions_of(rt.session, ProcessVersion, key, "process")


@bp.get("/<string:key>/xml")
@unit_of_work
@bp.arguments(ProcessXmlQuerySchema, location="query")
@bp.response(200, description="the BPMN XML of the version",
             content_type="application/xml")
def get_xml(args: dict[str, Any], key: str, *, rt: Runtime) -> Any:
    return xml_response(rt.session, ProcessVersion, key, args.get("version"), "process")


@bp.post("/<string:key>/start")
@requires("start_processes")
@unit_of_work
@bp.arguments(StartProcessSchema)
@bp.response(201, InstanceSummarySchema)
def start(body: dict[str, Any], key: str, *, rt: Runtime) -> Any:
    """Refused with every missing deal field and bad parameter at once (422), writing nothing."""
    # Held until the start is done: the session's identity map keeps only weak references, so a
    # deal dropped here would be selected again by the start.
    deal = visible_deal(rt, body["deal_id"])
    instance = rt.start(key, deal.id, body["params"], version=body["version"], cause=request_cause())
    del deal
    return instance
