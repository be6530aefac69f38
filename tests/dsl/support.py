"""Data the dsl tests evaluate against: plain dicts and Records, a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dsl import Record, evaluate

NOW = datetime(2026, 1, 5, 12, 30, tzinfo=UTC)


class FakeRecord(Record):
    """A Record over a dict; like crm's records it also has Python attributes of its own."""

    def __init__(self, dsl_type: str, **fields: Any) -> None:
        self.dsl_type = dsl_type
        self._fields = fields
        self._sa_instance_state = "secret"
        self.password = "secret"

    def dsl_get(self, name: str) -> Any:
        return self._fields[name]

    def dsl_fields(self) -> list[str]:
        return list(self._fields)


def make_env() -> dict[str, Any]:
    supervisor = FakeRecord("user", name="Olga", phone=None, supervisor=None)
    responsible = FakeRecord("user", name="Ivan", supervisor=supervisor)
    contact = FakeRecord("contact", name="Anna", phone="+7 900 000-00-00", email=None)
    deal = FakeRecord(
        "deal",
        title="Bike rental",
        amount=Decimal("1500.00"),
        stage="new",
        source=None,
        contact=contact,
        responsible=responsible,
        products=[{"name": "Bike", "qty": 2}, {"name": "Helmet", "qty": 1}],
        tags=["vip", "b2b"],
        return_date=date(2026, 1, 10),
        created_at=datetime(2026, 1, 1, 9, 0, tzinfo=UTC),
        custom={"Delivery date": "2026-01-07", "_hidden": 1},
    )
    return {
        "deal": deal,
        "event": {"approved": True, "payment": {"sum": 1500.5}},
        "approved": False,
        "count": 3,
        "nothing": None,
    }


def ev(text: str, env: dict[str, Any] | None = None, now: datetime = NOW) -> Any:
    return evaluate(text, make_env() if env is None else env, now)
