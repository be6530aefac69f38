"""What every part of the `Crm` service shares: the session, the clock, the listeners, the
timeline writer, and lookups of rows by id or natural key.

The service is split by subject into mixins (directory, people, work, deals) that all build
on this class; `crm.service.Crm` is their sum and the only public entry point.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm import json_codec, values
from crm.clock import Clock
from crm.errors import CrmError, InvalidInput, NotFound
from crm.events import Cause, Listeners
from crm.models import Contact, Deal, Department, Task, TimelineEntry, User

T = TypeVar("T")


class ServiceBase:
    def __init__(self, session: Session, clock: Clock, listeners: Listeners | None = None) -> None:
        self.session = session
        self.clock = clock
        self.listeners = listeners if listeners is not None else Listeners()

    def now(self) -> datetime:
        return self.clock.now()

    # --- lookups -------------------------------------------------------------------------

    def user(self, ref: User | int | str) -> User:
        """By id or login."""
        if isinstance(ref, User):
            return ref
        if isinstance(ref, int) and not isinstance(ref, bool):
            user = self.session.get(User, ref)
        elif isinstance(ref, str):
            user = self.session.scalar(select(User).where(User.login == ref.strip()))
        else:
            raise NotFound(f"'{ref}' is not a user id or login", code="user_not_found")
        if user is None:
            raise NotFound(f"User '{ref}' does not exist", code="user_not_found")
        return user

    def department(self, ref: Department | int | str) -> Department:
        """By id or code."""
        if isinstance(ref, Department):
            return ref
        if isinstance(ref, int) and not isinstance(ref, bool):
            department = self.session.get(Department, ref)
        elif isinstance(ref, str):
            department = self.session.scalar(select(Department).where(Department.code == ref.strip()))
        else:
            department = None
        if department is None:
            known = ", ".join(self.session.scalars(select(Department.code).order_by(Department.code)))
            raise NotFound(
                f"Department '{ref}' does not exist; departments: {known or 'none'}",
                code="department_not_found",
            )
        return department

    def contact(self, ref: Contact | int) -> Contact:
        if isinstance(ref, Contact):
            return ref
        contact = self.session.get(Contact, ref) if isinstance(ref, int) else None
        if contact is None:
            raise NotFound(f"Contact '{ref}' does not exist", code="contact_not_found")
        return contact

    def task(self, task_id: int) -> Task:
        task = self.session.get(Task, task_id)
        if task is None:
            raise NotFound(f"Task {task_id} does not exist", code="task_not_found")
        return task

    def _deal_of(self, ref: Deal | int) -> Deal:
        if isinstance(ref, Deal):
            return ref
        deal = self.session.get(Deal, ref)
        if deal is None:
            raise NotFound(f"Deal {ref} does not exist", code="deal_not_found")
        return deal

    # --- recording -----------------------------------------------------------------------

    def _timeline(
        self, deal: Deal, kind: str, text: str, cause: Cause, data: dict[str, Any] | None = None
    ) -> TimelineEntry:
        data = dict(data or {})
        if cause.chain:
            data["cause_chain"] = list(cause.chain)
        entry = TimelineEntry(
            deal_id=deal.id,
            at=self.now(),
            kind=kind,
            text=text,
            cause_kind=cause.kind,
            cause_ref=cause.ref,
            cause_label=cause.label,
            data=data,
        )
        self.session.add(entry)
        return entry

    def _publish(self, event: Any) -> None:
        """Flush first, so listeners see the change (and ids) they are told about."""
        self.session.flush()
        self.listeners.publish(self, event)


def resolve_or_error(errors: dict[str, str], key: str, resolve: Callable[[], T]) -> T | None:
    """Run a lookup, noting its failure under `key` so every problem is reported at once."""
    try:
        return resolve()
    except InvalidInput as error:
        errors.update(error.fields)
    except CrmError as error:
        errors[key] = error.message
    except ValueError as error:
        errors[key] = str(error)
    return None


#: A deep copy that JSON columns can store (crm.json_codec: the one set of rules for every layer).
jsonable = json_codec.plain


def shortened(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with the cut marked by an ellipsis.

    Titles are often rendered from templates ("Deliver {deal.title} to {deal.address}") whose
    values the template's author does not control; refusing the write would lose the delivery
    task or the deal a robot or process is there to create, and a person reads a title that
    ends in "…" as what it is. The API's own schemas still refuse an over-long title typed in."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def column_length(column: Any) -> int:
    """The declared length of a String column (`Task.title`), the one number both backends keep."""
    return int(column.property.columns[0].type.length)


def require_text(errors: dict[str, str], key: str, value: Any) -> str:
    if values.is_empty(value) or not isinstance(value, str):
        errors[key] = "is required"
        return ""
    return value.strip()
