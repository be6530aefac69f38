"""What the schema itself guarantees, on both backends, whatever code writes to it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from crm.models import Deal, Stage
from tests.crm.conftest import MANAGER_CAUSE

CRM_TABLES = {
    "departments", "users", "pipelines", "stages", "field_defs", "contacts", "contact_channels", "leads",
    "deals", "tasks", "notifications", "timeline_entries",
}  # fmt: skip


def test_the_migration_creates_every_crm_table_with_its_lookup_indexes(database):
    inspector = inspect(database.engine)

    assert set(inspector.get_table_names()) >= CRM_TABLES
    indexed = {tuple(index["column_names"]) for index in inspector.get_indexes("contact_channels")}
    assert ("kind", "value") in indexed
    assert ("element_id",) in {tuple(index["column_names"]) for index in inspector.get_indexes("tasks")}


def test_money_keeps_its_cents_up_to_a_trillion(world, database):
    deal = world.create_deal(title="Big order", amount="999999999999.99", cause=MANAGER_CAUSE)
    world.session.commit()

    with database.sessions() as fresh:
        assert fresh.get(Deal, deal.id).amount == Decimal("999999999999.99")


def test_a_stage_code_is_unique_within_its_pipeline(world):
    main = world.pipeline("main")
    world.session.add(Stage(pipeline_id=main.id, code="won", name="Won again", kind="won"))

    with pytest.raises(IntegrityError):
        world.session.flush()
