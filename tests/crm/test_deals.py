"""Deals: creating, moving between stages and pipelines, setting fields, all with a cause."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from crm.errors import InvalidInput, NotFound
from crm.events import Cause, DealCreated, DealFieldsChanged, DealMoved
from crm.models import Deal, TimelineEntry
from crm.service import Crm
from tests.crm.conftest import MANAGER_CAUSE, build_world

ROBOT = Cause("robot", "delivery-task", "Robot: delivery task")


def new_deal(crm: Crm, **overrides) -> Deal:
    values = {"title": "Fridge LG", "amount": "62990.50", "responsible": "manager.north1"}
    return crm.create_deal(**{**values, **overrides}, cause=MANAGER_CAUSE)


class TestCreateDeal:
    def test_starts_in_the_start_stage_of_main_with_timestamps_from_the_clock(self, world, clock, published):
        deal = new_deal(world)

        assert (deal.pipeline.code, deal.stage.code) == ("main", "new")
        assert deal.amount == Decimal("62990.50")
        assert deal.currency == "RUB"
        assert deal.responsible.login == "manager.north1"
        assert deal.created_at == deal.updated_at == deal.stage_entered_at == clock.now()
        assert published.of(DealCreated) == [DealCreated(deal.id, MANAGER_CAUSE)]

    def test_records_who_created_it(self, world):
        deal = new_deal(world)

        [entry] = world.timeline(deal)
        assert entry.kind == "created"
        assert (entry.cause_kind, entry.cause_ref, entry.cause_label) == ("user", "2", "Anna Belova")

    def test_can_start_in_a_named_stage_with_custom_fields_and_products(self, world):
        deal = new_deal(
            world,
            stage="in_processing",
            department="store_north",
            products=[{"name": "LG GA-B509", "qty": 2, "price": "100.10", "sku": "LG-509"}],
            fields={"bank": "Sberbank", "birthday": "1990-05-01"},
        )

        assert deal.stage.code == "in_processing"
        assert deal.department.code == "store_north"
        assert deal.products == [{"name": "LG GA-B509", "qty": 2, "price": 100.1, "sku": "LG-509"}]
        assert deal.fields == {"bank": "Sberbank", "birthday": "1990-05-01"}

    def test_bad_input_lists_every_problem_and_creates_nothing(self, world, database):
        with pytest.raises(InvalidInput) as refused:
            world.create_deal(
                title="",
                stage="nowhere",
                amount="lots",
                responsible="nobody",
                products=[{"qty": 0}],
                fields={"vip": "maybe", "unknown": 1},
                cause=MANAGER_CAUSE,
            )

        assert set(refused.value.fields) == {
            "title", "stage", "amount", "responsible_id", "products[0].name", "products[0].qty",
            "products[0].price", "vip", "unknown",
        }  # fmt: skip
        assert "in_processing" in refused.value.fields["stage"]  # tells what exists
        world.session.commit()  # a caller that carries on commits whatever the refused call left behind
        with database.sessions() as fresh:
            assert fresh.scalar(select(func.count(Deal.id))) == 0


class TestMoveDeal:
    def test_records_the_move_with_its_cause_and_publishes_it(self, world, clock, published):
        deal = new_deal(world)
        clock.advance(timedelta(hours=1))

        assert world.move_deal(deal, "in_processing", cause=ROBOT) is True

        assert deal.stage.code == "in_processing"
        assert deal.stage_entered_at == clock.now()
        entry = world.timeline(deal)[-1]
        assert (entry.kind, entry.text) == ("stage_moved", "Stage: New → In processing")
        assert (entry.cause_kind, entry.cause_ref, entry.cause_label) == ("robot", "delivery-task", ROBOT.label)
        [moved] = published.of(DealMoved)
        assert (moved.from_stage_id, moved.to_stage_id) == (world.stage("main.new").id, deal.stage_id)
        assert moved.cause == ROBOT

    def test_moving_to_the_stage_it_is_in_writes_nothing(self, world, published):
        deal = new_deal(world)
        world.session.commit()
        version, entries = deal.version, len(world.timeline(deal))

        assert world.move_deal(deal, "new", cause=ROBOT) is False

        world.session.commit()
        assert deal.version == version
        assert len(world.timeline(deal)) == entries
        assert published.of(DealMoved) == []

    def test_can_move_to_another_pipeline_by_qualified_name(self, world, published):
        deal = new_deal(world)

        world.move_deal(deal, "credit.documents", cause=ROBOT)

        assert (deal.pipeline.code, deal.stage.code) == ("credit", "documents")
        assert world.timeline(deal)[-1].text == "Stage: Sales / New → Credit / Documents"
        [moved] = published.of(DealMoved)
        assert moved.from_pipeline_id != moved.to_pipeline_id == deal.pipeline_id

    def test_an_unknown_stage_is_not_found_and_names_the_stages_there_are(self, world):
        deal = new_deal(world)

        with pytest.raises(NotFound, match="new, in_processing, delivery, won, lost"):
            world.move_deal(deal, "shipped", cause=ROBOT)


class TestSetFields:
    def test_coerces_values_by_field_type_and_reports_the_changes(self, world, published):
        deal = new_deal(world)

        changes = world.set_fields(
            deal,
            {
                "credit_type": "credit",
                "term_months": "12",
                "down_payment": 10000,
                "birthday": "1990-05-01",
                "ready_date": "2026-01-10T12:00:00+03:00",
                "vip": "yes",
                "courier": "driver1",
                "amount": "70000",
            },
            cause=MANAGER_CAUSE,
        )

        driver = world.user("driver1")
        assert changes == {
            "credit_type": (None, "credit"),
            "term_months": (None, Decimal("12")),
            "down_payment": (None, Decimal("10000.00")),
            "birthday": (None, date(1990, 5, 1)),
            "ready_date": (None, datetime(2026, 1, 10, 9, 0, tzinfo=UTC)),
            "vip": (None, True),
            "courier": (None, driver.id),
            "amount": (Decimal("62990.50"), Decimal("70000.00")),
        }
        assert deal.fields["ready_date"] == "2026-01-10T09:00:00+00:00"
        assert deal.fields["birthday"] == "1990-05-01"
        assert published.of(DealFieldsChanged) == [DealFieldsChanged(deal.id, changes, MANAGER_CAUSE)]

    def test_each_change_is_on_the_timeline(self, world):
        deal = new_deal(world)

        world.set_fields(deal, {"bank": "Sberbank", "responsible": "head.north"}, cause=MANAGER_CAUSE)

        texts = [entry.text for entry in world.timeline(deal) if entry.kind == "field_changed"]
        assert texts == ["Responsible: Anna Belova → Nikolai Severov", "Bank: — → Sberbank"]
        assert deal.responsible.login == "head.north"

    def test_unchanged_values_are_a_no_op(self, world, published):
        deal = new_deal(world, fields={"bank": "Sberbank", "term_months": 12})
        world.session.commit()
        version = deal.version

        assert world.set_fields(deal, {"bank": "Sberbank", "term_months": "12.0", "amount": 62990.5},
                                cause=MANAGER_CAUSE) == {}  # fmt: skip

        world.session.commit()
        assert deal.version == version
        assert published.of(DealFieldsChanged) == []

    def test_only_real_changes_are_reported(self, world):
        deal = new_deal(world, fields={"bank": "Sberbank"})

        changes = world.set_fields(deal, {"bank": "Sberbank", "vip": False}, cause=MANAGER_CAUSE)

        assert changes == {"vip": (None, False)}

    def test_empty_values_clear_a_field(self, world):
        deal = new_deal(world, fields={"bank": "Sberbank"})

        assert world.set_fields(deal, {"bank": ""}, cause=MANAGER_CAUSE) == {"bank": ("Sberbank", None)}
        assert "bank" not in deal.fields

    def test_every_bad_field_is_listed_and_nothing_is_written(self, world, database, published):
        deal = new_deal(world, fields={"bank": "Sberbank"})
        world.session.commit()
        published.clear()

        with pytest.raises(InvalidInput) as refused:
            world.set_fields(
                deal,
                {
                    "bank": "VTB",
                    "credit_type": "leasing",
                    "birthday": "tomorrow",
                    "term_months": "twelve",
                    "courier": "nobody",
                    "currency": "roubles",
                    "colour": "red",
                },
                cause=MANAGER_CAUSE,
            )

        assert set(refused.value.fields) == {
            "credit_type", "birthday", "term_months", "courier", "currency", "colour",
        }  # fmt: skip
        assert refused.value.fields["credit_type"] == "must be one of: credit, installment"
        assert published == []
        world.session.commit()  # a caller that carries on commits whatever the refused call left behind
        with database.sessions() as fresh:
            stored = fresh.get(Deal, deal.id)
            assert stored.fields == {"bank": "Sberbank"}
            assert fresh.scalar(select(func.count(TimelineEntry.id))) == 1  # only "created"

    def test_pipeline_specific_fields_apply_only_in_their_pipeline(self, world):
        deal = new_deal(world)

        with pytest.raises(InvalidInput, match="bank_officer"):
            world.set_fields(deal, {"bank_officer": "Ms Smith"}, cause=MANAGER_CAUSE)
        world.move_deal(deal, "credit.new", cause=ROBOT)
        assert world.set_fields(deal, {"bank_officer": "Ms Smith"}, cause=MANAGER_CAUSE)


class TestMissingFields:
    def test_names_the_empty_fields_among_those_asked_for(self, world):
        deal = new_deal(world, fields={"credit_type": "credit", "bank": "  "})

        missing = world.missing_fields(deal, ["credit_type", "bank", "term_months", "title", "contact"])

        assert missing == ["bank", "term_months", "contact"]

    def test_zero_is_a_value(self, world):
        deal = new_deal(world, amount=0, fields={"down_payment": 0})

        assert world.missing_fields(deal, ["amount", "down_payment"]) == []


class TestConcurrency:
    def test_a_stale_writer_gets_an_error_instead_of_overwriting(self, world, database, clock):
        deal_id = new_deal(world).id
        world.session.commit()

        with database.sessions() as first, database.sessions() as second:
            mine, theirs = Crm(first, clock), Crm(second, clock)
            deal_a, deal_b = mine.deal(deal_id), theirs.deal(deal_id)
            mine.set_fields(deal_a, {"bank": "Sberbank"}, cause=MANAGER_CAUSE)
            first.commit()
            # PostgreSQL reaches the version check; SQLite refuses the write of an outdated
            # snapshot before that ("database is locked"). Either way nothing is overwritten.
            with pytest.raises((StaleDataError, OperationalError)):
                theirs.set_fields(deal_b, {"bank": "VTB"}, cause=MANAGER_CAUSE)
                second.commit()

        with database.sessions() as fresh:
            assert fresh.get(Deal, deal_id).fields == {"bank": "Sberbank"}

    def test_an_unknown_deal_is_not_found(self, world):
        with pytest.raises(NotFound) as missing:
            world.deal(404)
        assert missing.value.code == "deal_not_found"


def test_for_update_locks_the_row_on_postgresql(postgres_database, clock):
    """SQLite has a single writer and no FOR UPDATE; on PostgreSQL a locked deal blocks other writers."""
    with postgres_database.sessions() as setup:
        crm = Crm(setup, clock)
        build_world(crm)
        deal_id = new_deal(crm).id
        setup.commit()

    with postgres_database.sessions() as first, postgres_database.sessions() as second:
        Crm(first, clock).deal(deal_id, for_update=True)
        with pytest.raises(OperationalError, match="could not obtain lock"):
            second.scalar(select(Deal).where(Deal.id == deal_id).with_for_update(nowait=True))
