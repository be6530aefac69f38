"""Contacts (clients), found by any phone or email however it was typed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api.auth import requires
from api.context import request_cause, unit_of_work
from api.paging import PageQuerySchema, page_of, page_of_list
from api.parsing import Blueprint
from api.schemas.common import ID_RULE
from api.schemas.crm import ContactQuerySchema, ContactSchema, NewContactSchema
from crm.models import Contact
from engine.runtime import Runtime

bp = Blueprint("contacts", __name__, url_prefix="/api/v1/contacts", description="Contacts")


class ContactListQuery(ContactQuerySchema, PageQuerySchema):
    pass


@bp.get("")
@requires("read_contacts")
@unit_of_work
@bp.arguments(ContactListQuery, location="query")
@bp.response(200, ContactSchema(many=True))
def list_contacts(args: dict[str, Any], *, rt: Runtime) -> Any:
    if "phone" in args or "email" in args:
        found = rt.crm.find_contacts(phones=[args[k] for k in ("phone",) if k in args],
                                     emails=[args[k] for k in ("email",) if k in args])
        return page_of_list(found, args)
    return page_of(rt.session, select(Contact).order_by(Contact.id.desc()), args)


@bp.post("")
@requires("edit_contacts")
@unit_of_work
@bp.arguments(NewContactSchema)
@bp.response(201, ContactSchema)
def create_contact(body: dict[str, Any], *, rt: Runtime) -> Any:
    return rt.crm.create_contact(cause=request_cause(), **body)


@bp.get(f"/<{ID_RULE}:contact_id>")
@requires("read_contacts")
@unit_of_work
@bp.response(200, ContactSchema)
def get_contact(contact_id: int, *, rt: Runtime) -> Any:
    return rt.crm.contact(contact_id)
