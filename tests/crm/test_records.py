"""What expressions see of a deal: typed values through dsl_get, and nothing else."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from crm.records import ContactRecord, UserRecord
from dsl.record import Record
from tests.crm.conftest import MANAGER_CAUSE


@pytest.fixture
def deal(world):
    contact = world.create_contact(name="Ivan", phones=["+7 916 111-22-33", "+7 916 000-00-00"],
                                   emails=["ivan@example.com"], cause=MANAGER_CAUSE)  # fmt: skip
    return world.create_deal(
        title="TV on credit",
        amount="74990",
        responsible="manager.north1",
        contact=contact,
        department="store_north",
        products=[{"name": "Samsung UE55", "qty": 1, "price": "74990", "category": "tv"}],
        fields={"credit_type": "credit", "term_months": 12, "down_payment": "10000.5", "birthday": "1990-05-01",
                "ready_date": "2026-01-10T09:00:00Z", "vip": True, "courier": "driver1"},
        cause=MANAGER_CAUSE,
    )  # fmt: skip


def test_core_attributes_are_typed(world, deal, clock):
    record = world.record(deal)

    assert isinstance(record, Record) and record.dsl_type == "deal"
    assert record.dsl_get("amount") == Decimal("74990.00")
    assert (record.dsl_get("pipeline"), record.dsl_get("stage"), record.dsl_get("stage_kind")) == (
        "main", "new", "in_progress",
    )  # fmt: skip
    assert record.dsl_get("stage_name") == "New"
    assert record.dsl_get("stage_entered_at") == clock.now()
    assert record.dsl_get("department") == "store_north"
    assert record.dsl_get("products") == [
        {"name": "Samsung UE55", "qty": Decimal("1"), "price": Decimal("74990.00"), "category": "tv"}
    ]


def test_custom_fields_are_typed_and_unset_ones_are_none(world, deal):
    record = world.record(deal)

    assert record.dsl_get("credit_type") == "credit"
    assert record.dsl_get("term_months") == Decimal("12")
    assert record.dsl_get("down_payment") == Decimal("10000.50")
    assert record.dsl_get("birthday") == date(1990, 5, 1)
    assert record.dsl_get("ready_date") == datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    assert record.dsl_get("vip") is True
    assert record.dsl_get("courier").dsl_get("login") == "driver1"
    assert record.dsl_get("bank") is None


def test_people_are_records_too(world, deal):
    manager = world.record(deal).dsl_get("responsible")
    contact = world.record(deal).dsl_get("contact")

    assert isinstance(manager, UserRecord) and isinstance(contact, ContactRecord)
    assert manager.dsl_get("supervisor").dsl_get("login") == "head.north"
    assert (manager.dsl_get("department"), manager.dsl_get("roles"), manager.dsl_get("present")) == (
        "store_north", ["manager"], True,
    )  # fmt: skip
    assert manager.dsl_get("supervisor").dsl_get("supervisor") is None
    assert (contact.dsl_get("phone"), contact.dsl_get("email")) == ("+7 916 111-22-33", "ivan@example.com")
    assert len(contact.dsl_get("phones")) == 2


def test_unknown_names_are_refused(world, deal):
    record = world.record(deal)
    for name in ["session", "fields", "__class__", "_deal", "bank_officer", "delete", "version"]:
        with pytest.raises(KeyError):
            record.dsl_get(name)
    with pytest.raises(KeyError):
        record.dsl_get("responsible").dsl_get("password_hash")


def test_fields_follow_the_pipeline_the_deal_is_in(world, deal):
    record = world.record(deal)
    assert "bank_officer" not in record.dsl_fields()

    world.move_deal(deal, "credit.new", cause=MANAGER_CAUSE)

    assert "bank_officer" in record.dsl_fields()
    assert record.dsl_get("bank_officer") is None
    assert {"id", "title", "amount", "responsible", "credit_type"} <= set(record.dsl_fields())
