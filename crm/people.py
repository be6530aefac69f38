"""Contacts (clients) and leads (not yet clients).

A contact is found by any of its phones or emails however they were typed: each one is also
stored normalized in `contact_channels`, which is what store orders (S5), calls (S6) and the
duplicate check (S7) look up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from crm import channels
from crm.base import ServiceBase, column_length, jsonable, require_text, shortened
from crm.errors import InvalidInput, NotFound
from crm.events import Cause, ContactCreated, LeadCreated
from crm.models import LEAD_STATUSES, Contact, ContactChannel, Department, Lead, User


class PeopleMixin(ServiceBase):
    def find_contact(self, *, phone: str | None = None, email: str | None = None) -> Contact | None:
        """The oldest contact with this phone, else with this email."""
        for kind, value in (("phone", phone), ("email", email)):
            normalized = channels.normalize(kind, value) if value else None
            if normalized is None:
                continue
            query = (
                select(Contact)
                .join(ContactChannel)
                .where(ContactChannel.kind == kind, ContactChannel.value == normalized)
                .order_by(Contact.id)
                .limit(1)
            )
            found = self.session.scalar(query)
            if found is not None:
                return found
        return None

    def find_contacts(self, *, phones: Iterable[str] = (), emails: Iterable[str] = ()) -> list[Contact]:
        """Every contact sharing any of these phones or emails (duplicate detection)."""
        wanted = [("phone", channels.normalize_phone(p)) for p in phones]
        wanted += [("email", channels.normalize_email(e)) for e in emails]
        found: dict[int, Contact] = {}
        for kind, value in wanted:
            if value is None:
                continue
            query = (
                select(Contact).join(ContactChannel).where(ContactChannel.kind == kind, ContactChannel.value == value)
            )
            for contact in self.session.scalars(query):
                found.setdefault(contact.id, contact)
        return [found[key] for key in sorted(found)]

    def create_contact(
        self, *, name: str, phones: Iterable[str] = (), emails: Iterable[str] = (), cause: Cause
    ) -> Contact:
        errors: dict[str, str] = {}
        clean_name = require_text(errors, "name", name)
        phone_list, email_list = _clean(phones), _clean(emails)
        channel_rows = self._channels(errors, "phones", "phone", phone_list)
        channel_rows += self._channels(errors, "emails", "email", email_list)
        if errors:
            raise InvalidInput(fields=errors, code="invalid_contact")
        contact = Contact(
            name=clean_name,
            phones=phone_list,
            emails=email_list,
            created_at=self.now(),
            channels=channel_rows,
        )
        self.session.add(contact)
        self.session.flush()
        self._publish(ContactCreated(contact_id=contact.id, cause=cause))
        return contact

    def find_or_create_contact(
        self, *, name: str | None, phone: str | None = None, email: str | None = None, cause: Cause
    ) -> Contact:
        """The known client, or a new contact named after the first thing we know of them."""
        found = self.find_contact(phone=phone, email=email)
        if found is not None:
            return found
        return self.create_contact(
            name=(name or "").strip() or phone or email or "",
            phones=[phone] if phone else [],
            emails=[email] if email else [],
            cause=cause,
        )

    def create_lead(
        self,
        *,
        title: str,
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        source: str | None = None,
        responsible: User | int | str | None = None,
        department: Department | int | str | None = None,
        data: Mapping[str, Any] | None = None,
        cause: Cause,
    ) -> Lead:
        errors: dict[str, str] = {}
        clean_title = shortened(require_text(errors, "title", title), column_length(Lead.title))
        if phone and channels.normalize_phone(phone) is None:
            errors["phone"] = f"'{phone}' has no digits"
        if email and channels.normalize_email(email) is None:
            errors["email"] = f"'{email}' is not an email address"
        owner = home = None
        try:
            owner = None if responsible is None else self.user(responsible)
        except NotFound as error:
            errors["responsible"] = error.message
        try:
            home = None if department is None else self.department(department)
        except NotFound as error:
            errors["department"] = error.message
        if errors:
            raise InvalidInput(fields=errors, code="invalid_lead")
        lead = Lead(
            title=clean_title,
            name=name,
            phone=phone,
            email=email,
            source=source,
            status="new",
            responsible_id=owner.id if owner else None,
            department_id=home.id if home else None,
            data=jsonable(dict(data or {})),
            created_at=self.now(),
        )
        self.session.add(lead)
        self.session.flush()
        self._publish(LeadCreated(lead_id=lead.id, cause=cause))
        return lead

    def lead(self, lead_id: int) -> Lead:
        lead = self.session.get(Lead, lead_id)
        if lead is None:
            raise NotFound(f"Lead {lead_id} does not exist", code="lead_not_found")
        return lead

    def set_lead_status(self, lead: Lead, status: str, *, cause: Cause) -> Lead:
        if status not in LEAD_STATUSES:
            raise InvalidInput(fields={"status": f"must be one of: {', '.join(LEAD_STATUSES)}"})
        lead.status = status
        self.session.flush()
        return lead

    def _channels(self, errors: dict[str, str], key: str, kind: str, raw_values: list[str]) -> list[ContactChannel]:
        rows: list[ContactChannel] = []
        for index, raw in enumerate(raw_values):
            value = channels.normalize(kind, raw)
            if value is None:
                errors[f"{key}[{index}]"] = f"'{raw}' is not a valid {kind}"
            elif all(row.value != value for row in rows):
                rows.append(ContactChannel(kind=kind, value=value))
        return rows


def _clean(items: Iterable[str]) -> list[str]:
    return [item.strip() for item in items if item and item.strip()]
