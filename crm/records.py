"""Read-only views of deals, users and contacts for the expression language.

Expressions (robot conditions, gateway conditions, templates) read objects only through
`Record.dsl_get`, so these classes are the whole surface a process author can reach: no ORM
object, session or method leaks through. Values are computed on access, in their typed
Python form (Decimal money, date, aware datetime), so `deal.amount > 100000` and
`deal.return_date <= today()` compare like with like.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crm import values
from crm.models import Contact, Deal, User
from dsl.record import Record

if TYPE_CHECKING:
    from crm.service import Crm


class _View(Record):
    """A record whose fields are getter functions; unknown names are a KeyError."""

    _getters: dict[str, Callable[[Any], Any]] = {}

    def dsl_get(self, name: str) -> Any:
        getter = self._getters.get(name)
        if getter is None:
            raise KeyError(name)
        return getter(self)

    def dsl_fields(self) -> list[str]:
        return list(self._getters)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.id == self.id  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id))  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"<{self.dsl_type} {self.id}>"  # type: ignore[attr-defined]


class UserRecord(_View):
    dsl_type = "user"

    def __init__(self, user: User) -> None:
        self._user = user

    @property
    def id(self) -> int:
        return self._user.id

    _getters = {
        "id": lambda self: self._user.id,
        "login": lambda self: self._user.login,
        "name": lambda self: self._user.name,
        "email": lambda self: self._user.email,
        "phone": lambda self: self._user.phone,
        "department": lambda self: self._user.department.code if self._user.department else None,
        "supervisor": lambda self: user_record(self._user.supervisor),
        "roles": lambda self: list(self._user.roles or []),
        "present": lambda self: bool(self._user.present),
    }


class ContactRecord(_View):
    dsl_type = "contact"

    def __init__(self, contact: Contact) -> None:
        self._contact = contact

    @property
    def id(self) -> int:
        return self._contact.id

    _getters = {
        "id": lambda self: self._contact.id,
        "name": lambda self: self._contact.name,
        "phone": lambda self: next(iter(self._contact.phones or []), None),
        "phones": lambda self: list(self._contact.phones or []),
        "email": lambda self: next(iter(self._contact.emails or []), None),
        "emails": lambda self: list(self._contact.emails or []),
    }


class DealRecord(_View):
    """Core attributes plus every custom field of the deal's pipeline, by code."""

    dsl_type = "deal"

    def __init__(self, deal: Deal, crm: Crm) -> None:
        self._deal = deal
        self._crm = crm
        self._definitions: tuple[int, dict[str, Any]] | None = None

    @property
    def id(self) -> int:
        return self._deal.id

    _getters = {
        "id": lambda self: self._deal.id,
        "title": lambda self: self._deal.title,
        "amount": lambda self: values.number_from_json(self._deal.amount).quantize(values.CENT),
        "currency": lambda self: self._deal.currency,
        "pipeline": lambda self: self._deal.pipeline.code,
        "stage": lambda self: self._deal.stage.code,
        "stage_name": lambda self: self._deal.stage.name,
        "stage_kind": lambda self: self._deal.stage.kind,
        "stage_entered_at": lambda self: values.as_aware(self._deal.stage_entered_at),
        "created_at": lambda self: values.as_aware(self._deal.created_at),
        "updated_at": lambda self: values.as_aware(self._deal.updated_at),
        "source": lambda self: self._deal.source,
        "department": lambda self: self._deal.department.code if self._deal.department else None,
        "products": lambda self: [values.product_view(p) for p in self._deal.products or []],
        "responsible": lambda self: user_record(self._deal.responsible),
        "contact": lambda self: ContactRecord(self._deal.contact) if self._deal.contact else None,
    }

    def dsl_get(self, name: str) -> Any:
        if name in self._getters:
            return self._getters[name](self)
        definition = self._field_defs().get(name)
        if definition is None:
            raise KeyError(name)
        value = values.from_json(definition.type, (self._deal.fields or {}).get(name))
        if definition.type == "user" and value is not None:
            return user_record(self._crm.session.get(User, value))
        return value

    def dsl_fields(self) -> list[str]:
        return [*self._getters, *self._field_defs()]

    def _field_defs(self) -> dict[str, Any]:
        # Cached per pipeline: a deal moved to another pipeline shows that pipeline's fields.
        pipeline = self._deal.pipeline
        if self._definitions is None or self._definitions[0] != pipeline.id:
            self._definitions = (pipeline.id, self._crm.field_defs(pipeline))
        return self._definitions[1]


def user_record(user: User | None) -> UserRecord | None:
    return UserRecord(user) if user is not None else None
