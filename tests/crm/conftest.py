"""A small CRM world for the crm tests: two pipelines, typed fields, a store with a head.

Smaller than the demo so each test (run on SQLite and PostgreSQL) stays fast; the demo has
tests of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm import events
from crm.events import Cause, Listeners
from crm.service import Crm

SETUP = Cause.system("test setup")
MANAGER_CAUSE = Cause("user", "2", "Anna Belova")


class Published(list):
    """Every event the service published, in order."""

    def of(self, event_type: type) -> list[Any]:
        return [event for event in self if isinstance(event, event_type)]


def _event_types() -> list[type]:
    return [
        value
        for value in vars(events).values()
        if isinstance(value, type) and dataclasses.is_dataclass(value) and value is not Cause
    ]


@pytest.fixture
def published() -> Published:
    return Published()


@pytest.fixture
def listeners(published: Published) -> Listeners:
    listeners = Listeners()
    for event_type in _event_types():
        listeners.on(event_type, lambda _crm, event: published.append(event))
    return listeners


@pytest.fixture
def session(database) -> Iterator[Session]:
    with database.sessions() as session:
        yield session


@pytest.fixture
def crm(session: Session, clock, listeners: Listeners) -> Crm:
    return Crm(session, clock, listeners)


@pytest.fixture
def world(crm: Crm, published: Published) -> Crm:
    """Pipelines main and credit, typed fields, a store with a head and a manager; committed."""
    build_world(crm)
    crm.session.commit()
    published.clear()
    return crm


def build_world(crm: Crm) -> None:
    crm.create_pipeline(
        "main",
        "Sales",
        [
            {"code": "new", "name": "New", "is_start": True},
            {"code": "in_processing", "name": "In processing"},
            {"code": "delivery", "name": "Delivery"},
            {"code": "won", "name": "Won", "kind": "won"},
            {"code": "lost", "name": "Lost", "kind": "lost"},
        ],
        cause=SETUP,
    )
    crm.create_pipeline(
        "credit",
        "Credit",
        [
            {"code": "new", "name": "New"},
            {"code": "documents", "name": "Documents"},
            {"code": "approved", "name": "Approved", "kind": "won"},
            {"code": "rejected", "name": "Rejected", "kind": "lost"},
        ],
        cause=SETUP,
    )
    for code, type_, options in [
        ("credit_type", "enum", ["credit", "installment"]),
        ("bank", "string", None),
        ("term_months", "number", None),
        ("down_payment", "money", None),
        ("birthday", "date", None),
        ("ready_date", "datetime", None),
        ("vip", "bool", None),
        ("courier", "user", None),
    ]:
        crm.create_field_def(
            code=code, name=code.replace("_", " ").capitalize(), type=type_, options=options, cause=SETUP
        )
    crm.create_field_def(code="bank_officer", name="Bank officer", type="string", pipeline="credit", cause=SETUP)
    crm.create_department(code="store_north", name="Store North", cause=SETUP)
    head = crm.create_user(
        login="head.north",
        name="Nikolai Severov",
        department="store_north",
        roles=["head", "manager"],
        cause=SETUP,
    )
    crm.set_department_head("store_north", head, cause=SETUP)
    crm.create_user(
        login="manager.north1",
        name="Anna Belova",
        department="store_north",
        supervisor=head,
        roles=["manager"],
        email="anna@example.com",
        cause=SETUP,
    )
    crm.create_user(login="driver1", name="Dmitry Voditelev", roles=["driver"], present=False, cause=SETUP)
