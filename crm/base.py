"""What every part of the `Crm` service shares: the session, the clock, the listeners, the
timeline writer, and lookups of rows by id or natural key.

The service is split by subject into mixins (directory, people, work, deals) that all build
on this class; `crm.service.Crm` is their sum and the only public entry point.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from crm import json_codec, values
from crm.clock import Clock
from crm.errors import CrmError, InvalidInput, NotFound
from crm.events import Cause, Listeners
from crm.models import Contact, Deal, Department, Task, TimelineEntry, User

T = TypeVar("T")

#: Where a session keeps the set-up rows it looked up by natural key in its current transaction.
BY_KEY = "crm.by_key"


def by_key(session: Session, model: type[T], column: str, value: str) -> T | None:
    """The row of `model` whose `column` is `value` (a pipeline's or a department's code, a
    user's login), selected once per transaction.

    One store order asks for the same pipeline, stages and departments a dozen times (the
    rule, the deal, each robot); each ask was a SELECT, and each found object could be
    garbage collected between asks (the session's identity map holds it weakly), so even
    lookups by id went back to the database. The rows found are held here, strongly, until the
    transaction ends (the cache is tied to the root transaction and forgotten with it), and a
    cached row is used only while it is still the answer: still in the session, not deleted,
    its key unchanged (a rename in the same transaction misses and selects again). That is what
    the identity map gives a lookup by id, so nothing reads differently than before, only
    less often."""
    cache = transaction_cache(session)
    key = (model, column, value)
    if cache is not None:
        held_row: T | None = cache.get(key)
        if (held_row is not None and getattr(held_row, column) == value and held_row in session
                and held_row not in session.deleted and not inspect(held_row).deleted):
            return held_row
    found: T | None = session.scalar(select(model).where(getattr(model, column) == value))
    if found is not None and cache is not None and transaction_cache(session) is cache:
        cache[key] = found
    return found


def hold(session: Session, row: Any) -> None:
    """Keep `row` in the session's identity map until the transaction ends, so that looking it
    up again by id (`session.get`) needs no SELECT (see `by_key`)."""
    cache = transaction_cache(session)
    if cache is not None:
        cache[("held", type(row), id(row))] = row


def transaction_cache(session: Session) -> dict[Any, Any] | None:
    """A dict that lives as long as the session's current (root) transaction; None outside one."""
    transaction = session.get_transaction()
    if transaction is None:
        return None
    held = session.info.get(BY_KEY)
    if held is None or held[0]() is not transaction:
        cache: dict[Any, Any] = {}
        session.info[BY_KEY] = (weakref.ref(transaction), cache)
        return cache
    return held[1]  # type: ignore[no-any-return]


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
            user = by_key(self.session, User, "login", ref.strip())
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
            department = by_key(self.session, Department, "code", ref.strip())
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
