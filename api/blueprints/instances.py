"""Process instances: where each one stands, what it did, what went wrong, and fixing it."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import select

from api.auth import requires
from api.context import request_cause, unit_of_work
from api.guards import instances_filter, visible_incident, visible_instance
from api.paging import PageQuerySchema, page_of
from api.schemas.automation import (
    HistoryEntrySchema,
    IncidentSchema,
    InstanceQuerySchema,
    InstanceSchema,
    InstanceSummarySchema,
)
from api.schemas.common import ID_RULE
from engine.models import HistoryEntry, Incident, ProcessInstance, ProcessVersion
from engine.runtime import Runtime

bp = Blueprint("instances", __name__, url_prefix="/api/v1", description="Process instances")


class InstanceListQuery(InstanceQuerySchema, PageQuerySchema):
    pass


@bp.get("/instances")
@unit_of_work
@bp.arguments(InstanceListQuery, location="query")
@bp.response(200, InstanceSummarySchema(many=True))
def list_instances(args: dict[str, Any], *, rt: Runtime) -> Any:
    query = select(ProcessInstance).where(instances_filter()).order_by(ProcessInstance.id.desc())
    for name in ("key", "deal_id", "status"):
        if name in args:
            query = query.where(getattr(ProcessInstance, name) == args[name])
    return page_of(rt.session, query, args)


@bp.get(f"/instances/<{ID_RULE}:instance_id>")
@unit_of_work
@bp.response(200, InstanceSchema)
def get_instance(instance_id: int, *, rt: Runtime) -> Any:
    """State with the elements waiting now and those done, for the designer to colour the diagram,
    and the process variables where it stands."""
    instance = visible_instance(rt, instance_id)
    version = rt.session.get_one(ProcessVersion, instance.version_id)
    active, variables = rt.inspect(instance)
    completed = rt.session.scalars(
        select(HistoryEntry.element_id).where(HistoryEntry.instance_id == instance_id,
                                              HistoryEntry.outcome == "completed").order_by(HistoryEntry.id))
    return {**InstanceSummarySchema().dump(instance), "version": version.version,
            "active_elements": active, "completed_elements": list(dict.fromkeys(completed)), "variables": variables,
            "started_at": instance.started_at, "updated_at": instance.updated_at, "ended_at": instance.ended_at}


@bp.get(f"/instances/<{ID_RULE}:instance_id>/history")
@unit_of_work
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, HistoryEntrySchema(many=True))
def history(args: dict[str, Any], instance_id: int, *, rt: Runtime) -> Any:
    visible_instance(rt, instance_id)
    query = select(HistoryEntry).where(HistoryEntry.instance_id == instance_id).order_by(HistoryEntry.id)
    return page_of(rt.session, query, args)


@bp.get(f"/instances/<{ID_RULE}:instance_id>/incidents")
@unit_of_work
@bp.response(200, IncidentSchema(many=True))
def incidents(instance_id: int, *, rt: Runtime) -> Any:
    visible_instance(rt, instance_id)
    return list(rt.session.scalars(
        select(Incident).where(Incident.instance_id == instance_id).order_by(Incident.id)))


@bp.post(f"/incidents/<{ID_RULE}:incident_id>/retry")
@requires("retry_incidents")
@unit_of_work
@bp.response(200, InstanceSummarySchema)
def retry_incident(incident_id: int, *, rt: Runtime) -> Any:
    """Run the failed step again, after the data or the action was fixed."""
    visible_incident(rt, incident_id)
    return rt.retry_incident(incident_id, cause=request_cause())


@bp.post(f"/instances/<{ID_RULE}:instance_id>/cancel")
@requires("cancel_instances")
@unit_of_work
@bp.response(200, InstanceSummarySchema)
def cancel(instance_id: int, *, rt: Runtime) -> Any:
    visible_instance(rt, instance_id)
    return rt.cancel(instance_id, cause=request_cause())
