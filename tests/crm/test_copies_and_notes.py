"""Copying a deal for a repeat sale (S8), and automation notes on a deal's timeline."""

from __future__ import annotations

import pytest

from crm.errors import InvalidInput
from crm.events import Cause, DealCreated
from crm.models import Deal
from tests.crm.conftest import MANAGER_CAUSE

ROBOT = Cause("robot", "main.won.1", "Robot: repeat sale")


def won_deal(crm) -> Deal:
    contact = crm.create_contact(name="Ivan Sokolov", phones=["+7 916 111-22-33"], cause=MANAGER_CAUSE)
    deal = crm.create_deal(
        title="Fridge LG", amount="62990.50", responsible="manager.north1", contact=contact,
        department="store_north", source="store",
        products=[{"name": "LG GA-B509", "qty": 1, "price": "62990.50"}],
        fields={"vip": True, "credit_type": "credit", "courier": "manager.north1"}, cause=MANAGER_CAUSE,
    )
    crm.move_deal(deal, "won", cause=MANAGER_CAUSE)
    return deal


class TestCopyDeal:
    def test_the_copy_has_the_same_client_responsible_products_and_fields_at_the_start_of_main(self, world):
        source = won_deal(world)
        copy = world.copy_deal(source, cause=ROBOT)
        assert (copy.pipeline.code, copy.stage.code) == ("main", "new")
        assert (copy.title, copy.contact_id, copy.responsible_id, copy.department_id, copy.source) == (
            source.title, source.contact_id, source.responsible_id, source.department_id, "store")
        assert copy.products == source.products and copy.amount == source.amount
        assert copy.fields == source.fields
        assert copy.id != source.id

    def test_both_timelines_point_at_each_other_and_name_the_cause(self, world):
        source = won_deal(world)
        copy = world.copy_deal(source, stage="in_processing", title="Repeat sale: Fridge LG", cause=ROBOT)
        copied_to = [e for e in world.timeline(source) if e.kind == "copied_to"]
        copied_from = [e for e in world.timeline(copy) if e.kind == "copied_from"]
        assert [(e.data["deal_id"], e.cause_kind, e.cause_ref) for e in copied_to] == [(copy.id, "robot", "main.won.1")]
        assert [e.data["deal_id"] for e in copied_from] == [source.id]
        assert copy.title == "Repeat sale: Fridge LG" and copy.stage.code == "in_processing"

    def test_a_copy_is_announced_like_any_new_deal(self, world, published):
        copy = world.copy_deal(won_deal(world), cause=ROBOT)
        assert copy.id in [event.deal_id for event in published.of(DealCreated)]

    def test_fields_the_target_pipeline_does_not_know_are_left_behind(self, world):
        deal = world.create_deal(title="TV", pipeline="credit", fields={"bank_officer": "Petrov", "bank": "Sber"},
                                 cause=MANAGER_CAUSE)
        copy = world.copy_deal(deal, cause=ROBOT)
        assert copy.pipeline.code == "main" and copy.fields == {"bank": "Sber"}

    def test_an_unknown_stage_writes_nothing(self, world):
        source = won_deal(world)
        before = len(world.timeline(source))
        with pytest.raises(InvalidInput) as refused:
            world.copy_deal(source, stage="nowhere", cause=ROBOT)
        assert "stage" in refused.value.fields
        assert len(world.timeline(source)) == before


class TestNotes:
    def test_a_note_is_a_timeline_entry_of_its_kind_with_data_and_cause(self, world):
        deal = world.create_deal(title="Fridge", cause=MANAGER_CAUSE)
        world.add_note(deal, "email_queued", "Email queued", data={"outbox_id": 7}, cause=ROBOT)
        entry = world.timeline(deal)[-1]
        assert (entry.kind, entry.text, entry.data, entry.cause_kind) == ("email_queued", "Email queued",
                                                                          {"outbox_id": 7}, "robot")

    @pytest.mark.parametrize("kind", ["stage_moved", "comment", "Bad Kind", ""])
    def test_the_crms_own_kinds_and_odd_names_are_refused(self, world, kind):
        deal = world.create_deal(title="Fridge", cause=MANAGER_CAUSE)
        with pytest.raises(InvalidInput) as refused:
            world.add_note(deal, kind, "text", cause=ROBOT)
        assert "kind" in refused.value.fields
