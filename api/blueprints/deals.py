"""Deals: the list with filters, create, read, change fields, move, and their history."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from api.auth import AccessDenied, current_user, requires
from api.context import request_cause, unit_of_work
from api.guards import visible_deal
from api.paging import PageQuerySchema, page_of, page_of_list
from api.refs import ref
from api.schemas.automation import AutomationLogEntrySchema
from api.schemas.common import ID_RULE
from api.schemas.crm import (
    DealQuerySchema,
    DealSchema,
    DealUpdateSchema,
    MoveDealSchema,
    NewDealSchema,
    TimelineEntrySchema,
)
from crm import access
from crm.models import Deal
from robots.log import for_deal

bp = Blueprint("deals", __name__, url_prefix="/api/v1/deals", description="Deals")


class DealListQuery(DealQuerySchema, PageQuerySchema):
    pass


@bp.get("")
@unit_of_work
@bp.arguments(DealListQuery, location="query")
@bp.response(200, DealSchema(many=True))
def list_deals(args: dict[str, Any], *, rt: Any) -> Any:
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
def create_deal(body: dict[str, Any], *, rt: Any) -> Any:
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
def get_deal(deal_id: int, *, rt: Any) -> Any:
    return visible_deal(rt, deal_id)


@bp.patch(f"/<{ID_RULE}:deal_id>")
@requires("edit_deals")
@unit_of_work
@bp.arguments(DealUpdateSchema, required=False)
@bp.response(200, DealSchema)
def update_deal(body: dict[str, Any], deal_id: int, *, rt: Any) -> Any:
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
def move_deal(body: dict[str, Any], deal_id: int, *, rt: Any) -> Any:
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
def timeline(args: dict[str, Any], deal_id: int, *, rt: Any) -> Any:
    return page_of_list(rt.crm.timeline(visible_deal(rt, deal_id)), args)


@bp.get(f"/<{ID_RULE}:deal_id>/automation-log")
@unit_of_work
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, AutomationLogEntrySchema(many=True))
def automation_log(args: dict[str, Any], deal_id: int, *, rt: Any) -> Any:
    """Why a robot or trigger did or did not fire for this deal."""
    visible_deal(rt, deal_id)
    return page_of_list(for_deal(rt.session, deal_id), args)


def _locked(rt: Any, deal_id: int, version: int | None) -> Deal:
    """The deal, locked for this transaction; a client that read an older version is told (409)
    instead of overwriting what it never saw."""
    deal = visible_deal(rt, deal_id, for_update=True)
    if version is not None and version != deal.version:
        raise StaleDataError(f"deal {deal_id} is at version {deal.version}, not {version}")
    return deal


def _user_id(crm: Any, ref_text: str) -> int:
    return crm.user(ref(ref_text)).id


def _department_id(crm: Any, ref_text: str) -> int:
    return crm.department(ref(ref_text)).id


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

