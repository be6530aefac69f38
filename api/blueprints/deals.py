"""Deals: the list with filters, create, read, change fields, move, and their history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from api.auth import AccessDenied, current_user, requires
from api.context import request_cause, unit_of_work
from api.guards import visible_deal
from api.paging import PageQuerySchema, page_of, page_of_list
from api.parsing import Blueprint
from api.refs import ref
from api.schemas.automation import AutomationLogEntrySchema, StartableProcessSchema
from api.schemas.common import ID_RULE
from api.schemas.crm import (
    DealCardSchema,
    DealQuerySchema,
    DealSchema,
    DealUpdateSchema,
    FeedItemSchema,
    MoveDealSchema,
    NewDealSchema,
    TimelineEntrySchema,
)
from crm import access
from crm import values as typed
from crm.models import Deal
from crm.service import CORE_FIELDS, CORE_LABELS, Crm
from crm.timeline_params import timeline_params
from engine.bpmn import starts_plainly
from engine.models import HistoryEntry, ProcessInstance, ProcessVersion
from engine.runtime import Runtime
from robots.log import for_deal

bp = Blueprint("deals", __name__, url_prefix="/api/v1/deals", description="Deals")


class DealListQuery(DealQuerySchema, PageQuerySchema):
    pass


@bp.get("")
@unit_of_work
@bp.arguments(DealListQuery, location="query")
@bp.response(200, DealSchema(many=True))
def list_deals(args: dict[str, Any], *, rt: Runtime) -> Any:
    """Only the deals the caller may see (S9): another store's deal is never listed."""
    crm = rt.crm
    query = select(Deal).where(access.visible_deals(current_user())).order_by(Deal.id.desc())
    pipeline = crm.pipeline(args["pipeline"]) if "pipeline" in args else None
    if pipeline is not None:
        query = query.where(Deal.pipeline_id == pipeline.id)
    if "stage" in args:
        query = query.where(Deal.stage_id == crm.stage(args["stage"], pipeline).id)
    if "responsible" in args:
        query = query.where(Deal.responsible_id == _user_id(crm, args["responsible"]))
    if "department" in args:
        query = query.where(Deal.department_id == _department_id(crm, args["department"]))
    if "q" in args:
        query = query.where(Deal.title.ilike(f"%{_escape_like(args['q'])}%", escape="\\"))
    return page_of(rt.session, query, args)


@bp.post("")
@requires("edit_deals")
@unit_of_work
@bp.arguments(NewDealSchema)
@bp.response(201, DealSchema)
def create_deal(body: dict[str, Any], *, rt: Runtime) -> Any:
    return rt.crm.create_deal(
        title=body["title"], pipeline=body["pipeline"], stage=body["stage"],
        amount=body.get("amount", 0), currency=body.get("currency", "RUB"),
        responsible=body.get("responsible_id"), contact=body.get("contact_id"),
        department=body.get("department_id"), source=body.get("source"), products=body.get("products", ()),
        fields=body.get("fields"), cause=request_cause(),
    )


@bp.get(f"/<{ID_RULE}:deal_id>")
@unit_of_work
@bp.response(200, DealSchema)
def get_deal(deal_id: int, *, rt: Runtime) -> Any:
    return visible_deal(rt, deal_id)


@bp.patch(f"/<{ID_RULE}:deal_id>")
@requires("edit_deals")
@unit_of_work
@bp.arguments(DealUpdateSchema, required=False)
@bp.response(200, DealSchema)
def update_deal(body: dict[str, Any], deal_id: int, *, rt: Runtime) -> Any:
    """Core attributes and custom fields in one body; all valid or nothing changes."""
    deal = _locked(rt, deal_id, body.pop("version", None))
    values = {key: value for key, value in body.items() if key != "fields"}
    values.update(body.get("fields") or {})
    rt.crm.set_fields(deal, values, cause=request_cause())
    return deal


@bp.post(f"/<{ID_RULE}:deal_id>/move")
@requires("move_deals")
@unit_of_work
@bp.arguments(MoveDealSchema)
@bp.response(200, DealSchema)
def move_deal(body: dict[str, Any], deal_id: int, *, rt: Runtime) -> Any:
    """A stage's gate may refuse (422 `stage_gate`, details listing the missing fields and
    loss reasons); `fields` fills them in the same transaction, so a refused move changes nothing."""
    deal = _locked(rt, deal_id, body.get("version"))
    if body.get("fields"):
        if not access.can(current_user(), "edit_deals"):
            raise AccessDenied(403, "forbidden", "you may move deals but not change their fields")
        rt.crm.set_fields(deal, body["fields"], cause=request_cause())
    rt.crm.move_deal(deal, body["stage"], cause=request_cause(), loss_reason=body.get("loss_reason"))
    return deal


@bp.get(f"/<{ID_RULE}:deal_id>/timeline")
@unit_of_work
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, TimelineEntrySchema(many=True))
def timeline(args: dict[str, Any], deal_id: int, *, rt: Runtime) -> Any:
    return page_of_list(rt.crm.timeline(visible_deal(rt, deal_id)), args)


@bp.get(f"/<{ID_RULE}:deal_id>/automation-log")
@unit_of_work
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, AutomationLogEntrySchema(many=True))
def automation_log(args: dict[str, Any], deal_id: int, *, rt: Runtime) -> Any:
    """Why a robot or trigger did or did not fire for this deal."""
    visible_deal(rt, deal_id)
    return page_of_list(for_deal(rt.session, deal_id), args)


def _locked(rt: Runtime, deal_id: int, version: int | None) -> Deal:
    """The deal, locked for this transaction; a client that read an older version is told (409)
    instead of overwriting what it never saw."""
    deal = visible_deal(rt, deal_id, for_update=True)
    if version is not None and version != deal.version:
        raise StaleDataError(f"deal {deal_id} is at version {deal.version}, not {version}")
    return deal


def _user_id(crm: Crm, ref_text: str) -> int:
    return crm.user(ref(ref_text)).id


def _department_id(crm: Crm, ref_text: str) -> int:
    return crm.department(ref(ref_text)).id


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")



@bp.get(f"/<{ID_RULE}:deal_id>/card")
@unit_of_work
@bp.response(200, DealCardSchema)
def card(deal_id: int, *, rt: Runtime) -> Any:
    """Everything the deal card shows besides its feed, with names rather than ids: the pipeline's
    stages (the stage strip), its typed fields with their values, the contact with phones and
    emails, the responsible and department, and who may be made responsible."""
    deal = visible_deal(rt, deal_id)
    crm = rt.crm
    me = current_user()
    definitions = crm.field_defs(deal.pipeline)
    fields_out = []
    for code, definition in definitions.items():
        value = typed.from_json(definition.type, (deal.fields or {}).get(code))
        fields_out.append({"name": code, "label": definition.name, "type": definition.type,
                           "options": list(definition.options or []), "value": _plain(value)})
    contact = None
    if deal.contact is not None and access.can(me, "read_contacts"):
        contact = {"id": deal.contact.id, "name": deal.contact.name, "phones": list(deal.contact.phones or []),
                   "emails": list(deal.contact.emails or [])}
    people = [u for u in crm.users() if set(u.roles or ()) & {"manager", "head"}]
    return {
        "deal": deal,
        "pipeline": deal.pipeline,
        "fields": fields_out,
        "contact": contact,
        "responsible": _named(deal.responsible),
        "department": _named(deal.department),
        "responsible_options": [{"value": u.id, "label": u.name} for u in people],
        "may_edit": access.can(me, "edit_deals"),
        "may_start": access.can(me, "start_processes"),
        "may_monitor": access.can(me, "read_automation"),
    }


@bp.get(f"/<{ID_RULE}:deal_id>/processes")
@unit_of_work
@bp.response(200, StartableProcessSchema(many=True))
def startable_processes(deal_id: int, *, rt: Runtime) -> Any:
    """The processes the caller may start by hand on this deal (none without start_processes;
    those started by a CRM event, a message or a signal are left out), each with its start parameters and the deal
    fields it requires, typed as the pipeline defines them and marked when empty, so one start
    form can ask for both."""
    deal = visible_deal(rt, deal_id)
    if not access.can(current_user(), "start_processes"):
        return []
    latest: dict[str, ProcessVersion] = {}
    for version in rt.session.scalars(select(ProcessVersion).order_by(ProcessVersion.key, ProcessVersion.version)):
        latest[version.key] = version
    definitions = rt.crm.field_defs(deal.pipeline)
    out = []
    for version in latest.values():
        if version.start_messages or not starts_plainly(rt.engine.spec_for(rt.session, version.id)[0]):
            continue  # started by its message or signal; a plain start would be refused
        names = [f["name"] for f in version.required_fields]
        missing = set(rt.crm.missing_fields(deal, names))
        required = []
        for wanted in version.required_fields:
            definition = definitions.get(wanted["name"])
            required.append({
                "name": wanted["name"],
                "label": wanted.get("label") or (definition.name if definition else
                                                  CORE_LABELS.get(wanted["name"], wanted["name"])),
                "type": definition.type if definition else ("money" if wanted["name"] == "amount" else "string"),
                "options": list(definition.options or []) if definition else [],
                "missing": wanted["name"] in missing,
                "known": definition is not None or wanted["name"] in CORE_FIELDS,
            })
        out.append({"key": version.key, "name": version.name, "version": version.version,
                    "parameters": version.parameters, "required_fields": required})
    return sorted(out, key=lambda p: p["name"])


@bp.get(f"/<{ID_RULE}:deal_id>/feed")
@unit_of_work
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, FeedItemSchema(many=True))
def feed(args: dict[str, Any], deal_id: int, *, rt: Runtime) -> Any:
    """One chronological story of the deal, newest first: its timeline (changes, tasks,
    notifications, with who or what did them), the automation log (robots and triggers that ran
    or were skipped, with the reason) and the steps its processes took. Merged here so the card
    pages through one list instead of three."""
    deal = visible_deal(rt, deal_id)
    items: list[dict[str, Any]] = []
    for entry in rt.crm.timeline(deal):
        items.append({"at": entry.at, "source": "timeline", "kind": entry.kind, "text": entry.text,
                      "who": entry.cause_label or entry.cause_kind, "reason": None, "data": entry.data or {},
                      "params": timeline_params(rt.session, entry), "order": (entry.at, 0, entry.id)})
    for log in for_deal(rt.session, deal_id):
        items.append({"at": log.at, "source": "automation", "kind": log.kind, "text": log.name or log.key,
                      "who": log.kind, "reason": log.reason, "data": {"outcome": log.outcome, "stage": log.stage},
                      "order": (log.at, 1, log.id)})
    rows = rt.session.execute(
        select(ProcessInstance.id, ProcessVersion.name, ProcessVersion.key).join(
            ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
        .where(ProcessInstance.deal_id == deal_id)).all()
    processes = {instance_id: name for instance_id, name, _ in rows}
    keys = {instance_id: key for instance_id, _, key in rows}
    for item in items:  # a task a diagram made is named by its process's labels
        params = item.get("params")
        if params and params.get("instance_id") in keys:
            params["process"] = keys[params["instance_id"]]
    if processes:
        steps = rt.session.scalars(select(HistoryEntry).where(HistoryEntry.instance_id.in_(processes))
                                   .order_by(HistoryEntry.id))
        for step in steps:
            if step.outcome == "completed" and step.element_type.endswith(("Gateway", "Flow", "Event")) \
                    and step.element_type not in ("EndEvent", "StartEvent"):
                continue  # the joins and splits of a diagram say nothing to a manager
            items.append({"at": step.at, "source": "process", "kind": step.outcome,
                          "text": step.element_name or step.element_id, "who": processes[step.instance_id],
                          "reason": (step.detail or {}).get("message"),
                          "data": {"instance_id": step.instance_id, "element_type": step.element_type,
                                   "element_id": step.element_id, "process": keys[step.instance_id]},
                          "order": (step.at, 2, step.id)})
    items.sort(key=lambda item: item["order"], reverse=True)
    return page_of_list(items, args)


def _named(thing: Any) -> dict[str, Any] | None:
    return None if thing is None else {"id": thing.id, "name": thing.name}


def _plain(value: Any) -> Any:
    """A field value as JSON shows it: dates as ISO text, money and numbers as numbers."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return typed.number_to_json(value)
