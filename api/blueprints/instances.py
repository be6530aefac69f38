"""Process instances: where each one stands, what it did, what went wrong, and fixing it."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, or_, select

from api.auth import current_user, ensure, requires
from api.context import engine, request_cause, unit_of_work
from api.guards import instances_filter, visible_incident, visible_instance
from api.live import tell_user
from api.paging import PageQuerySchema, page_of
from api.parsing import Blueprint
from api.schemas.automation import (
    BulkResultSchema,
    BulkSchema,
    CancelSchema,
    HistoryEntrySchema,
    IncidentSchema,
    InstanceQuerySchema,
    InstanceSchema,
    InstanceSummarySchema,
    RetryResultSchema,
    VariablesSchema,
)
from api.schemas.common import ID_RULE
from crm.models import Deal, Stage, User
from engine import operations
from engine.errors import EngineError
from engine.models import HistoryEntry, Incident, Job, MessageWait, ProcessInstance, ProcessVersion
from engine.runtime import Runtime

bp = Blueprint("instances", __name__, url_prefix="/api/v1", description="Process instances")

#: Most instances one bulk operation touches (the filter's first ones, newest first).
BULK_LIMIT = 500
SUMMARY_COLUMNS = ("id", "key", "deal_id", "status", "started_at", "updated_at", "ended_at", "revision")


class InstanceListQuery(InstanceQuerySchema, PageQuerySchema):
    pass


def filtered(args: dict[str, Any]) -> Any:
    """The instances the caller sees that match the list's filters, all in SQL."""
    query = select(ProcessInstance).where(instances_filter()).order_by(ProcessInstance.id.desc())
    for name in ("key", "deal_id"):
        if name in args:
            query = query.where(getattr(ProcessInstance, name) == args[name])
    status = args.get("status")
    if status == "retrying":
        query = query.where(ProcessInstance.status == "running", operations.retrying_jobs_clause())
    elif status is not None:
        query = query.where(ProcessInstance.status == status)
    if "version" in args:
        query = query.where(ProcessInstance.version_id.in_(
            select(ProcessVersion.id).where(ProcessVersion.version == args["version"])))
    if "started_from" in args:
        query = query.where(ProcessInstance.started_at >= args["started_from"])
    if "started_to" in args:
        query = query.where(ProcessInstance.started_at < args["started_to"])
    if "element" in args:
        element, me = args["element"], ProcessInstance.id
        query = query.where(or_(
            select(HistoryEntry.id).where(HistoryEntry.instance_id == me, HistoryEntry.element_id == element).exists(),
            select(Incident.id).where(Incident.instance_id == me, Incident.element_id == element).exists(),
            select(Job.id).where(Job.instance_id == me, Job.element_id == element, Job.status == "pending").exists(),
            select(MessageWait.id).where(MessageWait.instance_id == me, MessageWait.element_id == element).exists(),
        ))
    if "incident" in args:
        text = args["incident"].lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(select(Incident.id).where(
            Incident.instance_id == ProcessInstance.id, Incident.status == "open",
            func.lower(Incident.message).like(f"%{text}%", escape="\\")).exists())
    return query


def summaries(rt: Runtime, instances: list[ProcessInstance]) -> list[dict[str, Any]]:
    """Instances with the names a person reads (process, deal, stage, who started it) and their
    state, `retrying` with attempt, error and next time when a step is failing: a few queries
    for the whole page."""
    ids = [i.id for i in instances]
    retries = operations.retrying(rt, ids)
    versions = {v.id: v for v in rt.session.execute(
        select(ProcessVersion.id, ProcessVersion.name, ProcessVersion.version)
        .where(ProcessVersion.id.in_({i.version_id for i in instances})))}
    deal_ids = {i.deal_id for i in instances if i.deal_id is not None}
    deals = {d.id: d for d in rt.session.execute(
        select(Deal.id, Deal.title, Stage.name.label("stage")).join(Stage, Stage.id == Deal.stage_id)
        .where(Deal.id.in_(deal_ids)))} if deal_ids else {}
    user_ids = {int(i.started_by["ref"]) for i in instances
                if (i.started_by or {}).get("kind") == "user" and str(i.started_by.get("ref") or "").isdigit()}
    users = {row.id: row.name for row in rt.session.execute(
        select(User.id, User.name).where(User.id.in_(user_ids)))} if user_ids else {}
    rows = []
    for instance in instances:
        retry = retries.get(instance.id)
        version = versions.get(instance.version_id)
        deal = deals.get(instance.deal_id) if instance.deal_id is not None else None
        by = instance.started_by or {}
        ref = str(by.get("ref") or "")
        retry_row = None
        if retry is not None:
            names = operations.element_names(rt, instance.version_id)
            retry_row = {**retry.as_dict(), "element_name": names.get(retry.element_id or "")}
        rows.append({
            **{name: getattr(instance, name) for name in SUMMARY_COLUMNS},
            "state": operations.state_of(instance, retry), "retry": retry_row,
            "process_name": version.name if version else None, "version": version.version if version else None,
            "deal_title": deal.title if deal else None, "stage_name": deal.stage if deal else None,
            "started_by_name": users.get(int(ref)) if ref.isdigit() and by.get("kind") == "user"
            else by.get("label"),
        })
    return rows


def summary(rt: Runtime, instance: ProcessInstance) -> dict[str, Any]:
    rt.session.flush()
    return summaries(rt, [instance])[0]


@bp.get("/instances")
@unit_of_work
@bp.arguments(InstanceListQuery, location="query")
@bp.response(200, InstanceSummarySchema(many=True))
def list_instances(args: dict[str, Any], *, rt: Runtime) -> Any:
    rows, headers = page_of(rt.session, filtered(args), args)
    return summaries(rt, rows), headers


@bp.get(f"/instances/<{ID_RULE}:instance_id>")
@unit_of_work
@bp.response(200, InstanceSchema)
def get_instance(instance_id: int, *, rt: Runtime) -> Any:
    """State with the elements waiting now and those done, for the designer to colour the diagram,
    and the process variables where it stands."""
    return instance_state(rt, visible_instance(rt, instance_id))


def instance_state(rt: Runtime, instance: ProcessInstance) -> dict[str, Any]:
    instance_id = instance.id
    active, variables = rt.inspect(instance)
    completed = rt.session.scalars(
        select(HistoryEntry.element_id).where(HistoryEntry.instance_id == instance_id,
                                              HistoryEntry.outcome == "completed").order_by(HistoryEntry.id))
    return {**summary(rt, instance),
            "active_elements": active, "completed_elements": list(dict.fromkeys(completed)), "variables": variables,
            "element_names": operations.element_names(rt, instance.version_id)}


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
    instance = visible_instance(rt, instance_id)
    names = operations.element_names(rt, instance.version_id)
    rows = rt.session.scalars(select(Incident).where(Incident.instance_id == instance_id).order_by(Incident.id))
    fields = [name for name in IncidentSchema().fields if name != "element_name"]
    return [{**{name: getattr(row, name) for name in fields}, "element_name": names.get(row.element_id or "")}
            for row in rows]


@bp.post(f"/incidents/<{ID_RULE}:incident_id>/retry")
@requires("retry_incidents")
@unit_of_work
@bp.response(200, RetryResultSchema)
def retry_incident(incident_id: int, *, rt: Runtime) -> Any:
    """Run the failed step again, after the data or the action was fixed; `outcome` says whether
    it got past the step, failed again with another attempt due, or failed again (a new incident)."""
    visible_incident(rt, incident_id)
    instance = rt.retry_incident(incident_id, cause=request_cause())
    return {**summary(rt, instance), **operations.retry_outcome(rt, instance, incident_id)}


@bp.post(f"/instances/<{ID_RULE}:instance_id>/retry-now")
@requires("retry_incidents")
@unit_of_work
@bp.response(200, InstanceSummarySchema)
def retry_now(instance_id: int, *, rt: Runtime) -> Any:
    """A retrying step's next attempt is due now instead of at its backoff time."""
    visible_instance(rt, instance_id)
    return summary(rt, operations.retry_now(rt, instance_id))


@bp.post(f"/instances/<{ID_RULE}:instance_id>/cancel")
@requires("cancel_instances")
@unit_of_work
@bp.arguments(CancelSchema, required=False)
@bp.response(200, InstanceSummarySchema)
def cancel(body: dict[str, Any], instance_id: int, *, rt: Runtime) -> Any:
    """Cancel the instance; the reason, if given, is kept in its history with who cancelled."""
    visible_instance(rt, instance_id)
    reason = (body or {}).get("reason")
    return summary(rt, operations.cancel(rt, instance_id, reason=reason, cause=request_cause()))


@bp.patch(f"/instances/<{ID_RULE}:instance_id>/variables")
@requires("retry_incidents")  # fixing the data a failed step read is part of retrying it
@unit_of_work
@bp.arguments(VariablesSchema)
@bp.response(200, InstanceSchema)
def set_variables(body: dict[str, Any], instance_id: int, *, rt: Runtime) -> Any:
    """Change variables where the instance stands (409 once it has ended); the history keeps
    who changed which variable from what to what."""
    visible_instance(rt, instance_id)
    try:
        operations.set_variables(rt, instance_id, body["variables"], cause=request_cause())
    except operations.InvalidVariables as err:
        raise ValidationError({"variables": err.problems}) from err
    return instance_state(rt, rt.instance(instance_id))


@bp.post("/instances/bulk")
@bp.arguments(BulkSchema)
@bp.response(200, BulkResultSchema(many=True))
def bulk(body: dict[str, Any]) -> Any:
    """Retry or cancel many instances, named by `ids` or by a list `filter`; each in its own
    transaction, so one that fails leaves the others done, with a result per instance.
    Retry resolves an instance's open incidents or brings a retrying step's attempt forward.
    While it runs, the caller's `feed:<user id>` room hears `bulk.started` (how many) and a
    `bulk.progress` per instance done (n of m, its result), tagged with the request's `operation`."""
    action = body["action"]
    ensure("retry_incidents" if action == "retry" else "cancel_instances")
    if ("ids" in body) == (body.get("filter") is not None):
        raise ValidationError({"ids": ["name the instances by ids or by filter, one of the two"]})
    eng = engine()
    if "ids" in body:
        ids = list(dict.fromkeys(body["ids"]))
    else:
        with eng.unit() as rt:
            ids = list(rt.session.scalars(filtered(dict(body["filter"])).with_only_columns(ProcessInstance.id)
                                          .limit(BULK_LIMIT)))
    cause = request_cause()
    chosen = ids[:BULK_LIMIT]
    user_id = current_user().id
    said = {"operation": body.get("operation"), "action": action, "total": len(chosen)}
    tell_user(user_id, "bulk.started", {**said, "done": 0})
    results = []
    for done, instance_id in enumerate(chosen, 1):
        result = _one(eng, instance_id, action, body.get("reason"), cause)
        results.append(result)
        tell_user(user_id, "bulk.progress", {**said, "done": done, "result": BULK_RESULT.dump(result)})
    return results


BULK_RESULT = BulkResultSchema()


def _one(eng: Any, instance_id: int, action: str, reason: str | None, cause: Any) -> dict[str, Any]:
    def work(rt: Runtime) -> dict[str, Any]:
        instance = visible_instance(rt, instance_id)
        outcome: dict[str, Any] = {}
        if action == "cancel":
            operations.cancel(rt, instance_id, reason=reason, cause=cause)
        else:
            open_ids = list(rt.session.scalars(select(Incident.id).where(
                Incident.instance_id == instance_id, Incident.status == "open").order_by(Incident.id)))
            if open_ids:
                for incident_id in open_ids:
                    instance = rt.retry_incident(incident_id, cause=cause)
                outcome = operations.retry_outcome(rt, instance, open_ids[0])
            else:
                operations.retry_now(rt, instance_id)
                outcome = {"outcome": "retrying"}
        row = summary(rt, instance)
        return {"id": instance_id, "ok": True, "status": row["status"], "state": row["state"], **outcome}

    try:
        return eng.retrying(work)
    except (EngineError, ValueError) as err:
        message = err.message if isinstance(err, EngineError) else str(err)
        return {"id": instance_id, "ok": False, "error": message}
