"""Actions that make new records: a deal or lead from an event that has no deal yet (S5, S6),
a copy of a won deal for a repeat sale (S8)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from engine.actions import ActionContext
from robots.actions.crm_actions import deal_of
from robots.actions.fields import Money, StageRef, Text, UserRef
from robots.actions.registry import action


class CopyDealSchema(Schema):
    stage = StageRef(load_default=None, metadata={"description": "stage of main, or pipeline.stage; main's start "
                                                                  "stage if empty"})
    title = Text(load_default=None, metadata={"description": "the copy's title; the same title if empty"})


@action("copy_deal", CopyDealSchema, category="deal", positional=("stage", "title"),
        description="Create a new deal for the same client in main (repeat sale): contact, responsible, "
                    "products and fields copied")
def copy_deal(ctx: ActionContext, stage: str | None, title: str | None) -> dict[str, Any]:
    copy = ctx.crm.copy_deal(deal_of(ctx), stage=stage, pipeline="main", title=title, cause=ctx.cause)
    return {"deal_id": copy.id, "pipeline": copy.pipeline.code, "stage": copy.stage.code}


class CreateDealSchema(Schema):
    title = Text(required=True)
    pipeline = fields.String(load_default="main")
    stage = fields.String(load_default=None, metadata={"description": "the pipeline's start stage if empty"})
    amount = Money(load_default=None)
    currency = fields.String(load_default="RUB")
    contact_name = Text(load_default=None)
    phone = Text(load_default=None, metadata={"description": "the client is found by phone or email, or created"})
    email = Text(load_default=None)
    responsible = UserRef(load_default=None, allow_none=True)
    department = fields.String(load_default=None, allow_none=True)
    source = Text(load_default=None, allow_none=True)
    fields_ = fields.Dict(data_key="fields", attribute="fields", load_default=None, allow_none=True,
                          metadata={"description": "custom field values by code"})
    products = fields.List(fields.Dict(), load_default=None, allow_none=True,
                           metadata={"description": "[{name, qty, price, category}]"})


@action("create_deal", CreateDealSchema, category="deal", positional=("pipeline", "stage", "title"),
        description="Create a deal (for events that have no deal yet, such as a store order); the contact "
                    "is found by phone or email, or created")
def create_deal(ctx: ActionContext, title: str, pipeline: str, stage: str | None, amount: Any, currency: str,
                contact_name: str | None, phone: str | None, email: str | None, responsible: Any,
                department: str | None, source: str | None, fields: dict[str, Any] | None,
                products: list[dict[str, Any]] | None) -> dict[str, Any]:
    contact = None
    if contact_name or phone or email:
        contact = ctx.crm.find_or_create_contact(name=contact_name, phone=phone, email=email, cause=ctx.cause)
    deal = ctx.crm.create_deal(
        title=title, pipeline=pipeline, stage=stage, amount=amount if amount is not None else 0, currency=currency,
        responsible=responsible, contact=contact, department=department, source=source,
        products=products or [], fields=fields or {}, cause=ctx.cause,
    )
    return {"deal_id": deal.id, "contact_id": contact.id if contact else None, "stage": deal.stage.ref}


class CreateLeadSchema(Schema):
    title = Text(required=True)
    name = Text(load_default=None, allow_none=True)
    phone = Text(load_default=None, allow_none=True)
    email = Text(load_default=None, allow_none=True)
    source = Text(load_default=None, allow_none=True)
    responsible = UserRef(load_default=None, allow_none=True)
    department = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(load_default=None, allow_none=True)


@action("create_lead", CreateLeadSchema, category="leads", positional=("title",),
        description="Create a lead: someone who is not a client yet (a call, an email, a web form)")
def create_lead(ctx: ActionContext, title: str, name: str | None, phone: str | None, email: str | None,
                source: str | None, responsible: Any, department: str | None,
                data: dict[str, Any] | None) -> dict[str, Any]:
    lead = ctx.crm.create_lead(title=title, name=name, phone=phone, email=email, source=source,
                               responsible=responsible, department=department, data=data, cause=ctx.cause)
    return {"lead_id": lead.id, "responsible": lead.responsible_id}
