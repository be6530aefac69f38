"""flag_duplicates: deals of one client in two departments at once are probably one sale (S7).

The client is recognised by the contact channels (normalized phones and emails), so two
contacts typed differently for the same person still match. Each pair is reported once,
ever: the pair is a row in `duplicate_flags` (unique), so checking again, on another event
or by another worker, notifies nobody twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.models import Deal, User
from crm.service import Crm
from engine.actions import ActionContext
from robots.actions.crm_actions import deal_of, supervisor_of
from robots.actions.fields import Days
from robots.actions.registry import action
from robots.actions.tables import DuplicateFlag, savepoint


def same_client_deals(crm: Crm, deal: Deal, window: timedelta, channel: str) -> list[tuple[Deal, str]]:
    """(other deal, "phone" | "email") for deals of the same client in another department, created
    within `window` of this one; sandbox deals only match sandbox deals."""
    contact = deal.contact
    if contact is None:
        return []
    found: dict[int, tuple[Deal, str]] = {}
    for kind in ("phone", "email"):
        if channel not in (kind, "any"):
            continue
        values = contact.phones if kind == "phone" else contact.emails
        contacts = crm.find_contacts(**{f"{kind}s": list(values or [])})
        ids = [c.id for c in contacts]
        if not ids:
            continue
        query = (
            select(Deal)
            .where(Deal.contact_id.in_(ids), Deal.id != deal.id, Deal.is_sandbox.is_(deal.is_sandbox),
                   Deal.created_at >= deal.created_at - window, Deal.created_at <= deal.created_at + window)
            .order_by(Deal.id)
        )
        for other in crm.session.scalars(query):
            if other.department_id != deal.department_id and other.id not in found:
                found[other.id] = (other, kind)
    return [found[key] for key in sorted(found)]


def _claim_pair(crm: Crm, one: Deal, other: Deal, matched_by: str) -> bool:
    """True if this call is the first to report the pair."""
    first, second = sorted((one.id, other.id))
    exists = select(DuplicateFlag.id).where(DuplicateFlag.first_deal_id == first,
                                            DuplicateFlag.second_deal_id == second)
    if crm.session.scalar(exists) is not None:
        return False
    try:
        with savepoint(crm.session):
            crm.session.add(DuplicateFlag(first_deal_id=first, second_deal_id=second, matched_by=matched_by,
                                          flagged_at=crm.now()))
            crm.session.flush()
    except IntegrityError:
        return False
    return True


def _watchers(deal: Deal) -> list[User]:
    """The deal's responsible manager and their supervisor, if any."""
    people = []
    if deal.responsible is not None:
        people.append(deal.responsible)
        head = supervisor_of(deal.responsible)
        if head is not None:
            people.append(head)
    elif deal.department is not None and deal.department.head is not None:
        people.append(deal.department.head)
    return people


class FlagDuplicatesSchema(Schema):
    window = Days(load_default=timedelta(days=30),
                  metadata={"description": "days between the two deals' creation (or a duration)"})
    channel = fields.String(load_default="any", validate=validate.OneOf(["any", "phone", "email"]),
                            metadata={"description": "match the client by phone, email or any"})


@action("flag_duplicates", FlagDuplicatesSchema, category="deal", positional=("window", "channel"),
        description="Flag deals of the same client in other departments: notify both managers and their "
                    "supervisors once per pair")
def flag_duplicates(ctx: ActionContext, window: timedelta, channel: str) -> dict[str, Any]:
    deal = deal_of(ctx)
    flagged, known = [], []
    for other, matched_by in same_client_deals(ctx.service, deal, window, channel):
        if not _claim_pair(ctx.service, deal, other, matched_by):
            known.append(other.id)
            continue
        flagged.append(other.id)
        notified: set[int] = set()
        for this, that in ((deal, other), (other, deal)):
            where = that.department.name if that.department else "another department"
            text = (f"Possible duplicate: {this.title} (#{this.id}) and {that.title} (#{that.id}) in {where} "
                    f"are deals of the same client ({matched_by})")
            ctx.crm.add_note(this, "duplicate_suspected", text, cause=ctx.cause,
                             data={"other_deal_id": that.id, "matched_by": matched_by})
            for person in _watchers(this):
                if person.id not in notified:
                    notified.add(person.id)
                    ctx.crm.notify(person, text, deal=this, kind="warning", cause=ctx.cause)
    return {"flagged": flagged, "already_flagged": known}
