"""Leads: people who are not clients yet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api.auth import requires
from api.context import request_cause, unit_of_work
from api.paging import PageQuerySchema, page_of
from api.parsing import Blueprint
from api.schemas.common import ID_RULE
from api.schemas.crm import LeadQuerySchema, LeadSchema, LeadStatusSchema, NewLeadSchema
from crm.models import Lead
from engine.runtime import Runtime

bp = Blueprint("leads", __name__, url_prefix="/api/v1/leads", description="Leads")


class LeadListQuery(LeadQuerySchema, PageQuerySchema):
    pass


@bp.get("")
@requires("read_leads")
@unit_of_work
@bp.arguments(LeadListQuery, location="query")
@bp.response(200, LeadSchema(many=True))
def list_leads(args: dict[str, Any], *, rt: Runtime) -> Any:
    query = select(Lead).order_by(Lead.id.desc())
    if "status" in args:
        query = query.where(Lead.status == args["status"])
    return page_of(rt.session, query, args)


@bp.post("")
@requires("edit_contacts")
@unit_of_work
@bp.arguments(NewLeadSchema)
@bp.response(201, LeadSchema)
def create_lead(body: dict[str, Any], *, rt: Runtime) -> Any:
    return rt.crm.create_lead(
        title=body["title"], name=body["name"], phone=body["phone"], email=body["email"], source=body["source"],
        responsible=body["responsible_id"], department=body["department_id"], data=body["data"],
        cause=request_cause(),
    )


@bp.get(f"/<{ID_RULE}:lead_id>")
@requires("read_leads")
@unit_of_work
@bp.response(200, LeadSchema)
def get_lead(lead_id: int, *, rt: Runtime) -> Any:
    return rt.crm.lead(lead_id)


@bp.post(f"/<{ID_RULE}:lead_id>/status")
@requires("edit_contacts")
@unit_of_work
@bp.arguments(LeadStatusSchema)
@bp.response(200, LeadSchema)
def set_status(body: dict[str, Any], lead_id: int, *, rt: Runtime) -> Any:
    return rt.crm.set_lead_status(rt.crm.lead(lead_id), body["status"], cause=request_cause())
