"""flag_duplicates (S7): the same client in two departments within a window is reported once per pair."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.events import Cause
from engine.actions import ActionContext
from robots.actions import registry
from tests.support.world import TEST_CAUSE, demo_engine, make_deal, notes_of

SETUP = Cause.system("test")


@pytest.fixture
def world(database, clock):
    return demo_engine(database, clock)


def flag(engine, deal_id: int, *positional, **named) -> dict:
    with engine.unit() as rt:
        params = registry.bind_args("flag_duplicates", list(positional), named)
        return registry.call("flag_duplicates", ActionContext(rt.crm, rt.crm.deal(deal_id), TEST_CAUSE), params)


def contact(engine, name: str, phones=(), emails=()) -> int:
    with engine.unit() as rt:
        return rt.crm.create_contact(name=name, phones=list(phones), emails=list(emails), cause=SETUP).id


def feed(engine, login: str) -> list[str]:
    with engine.unit() as rt:
        return [n.text for n in rt.crm.notifications(login)]


def timeline_kinds(engine, deal_id: int) -> list[str]:
    with engine.unit() as rt:
        return [e.kind for e in rt.crm.timeline(rt.crm.deal(deal_id))]


@pytest.fixture
def pair(world):
    """One client typed twice (the phone spelled differently) with a deal in each store."""
    north_client = contact(world, "Oleg Petrov", phones=["+7 (917) 555-01-02"])
    south_client = contact(world, "O. Petrov", phones=["8 917 555 01 02"], emails=["oleg@example.com"])
    north = make_deal(world, title="Fridge", contact=north_client, department="store_north")
    south = make_deal(world, title="Fridge too", responsible="manager.south1", contact=south_client,
                      department="store_south")
    return north, south


def test_both_managers_and_their_supervisors_are_told_and_both_timelines_record_it(world, pair):
    north, south = pair
    assert flag(world, south) == {"flagged": [north], "already_flagged": []}
    for login in ("manager.north1", "head.north", "manager.south1", "head.south"):
        [text] = feed(world, login)
        assert "Possible duplicate" in text and "(phone)" in text
    assert "duplicate_suspected" in timeline_kinds(world, north)
    assert "duplicate_suspected" in timeline_kinds(world, south)


def test_checking_again_from_either_side_notifies_nobody_twice(world, pair):
    north, south = pair
    flag(world, south)
    assert flag(world, south) == {"flagged": [], "already_flagged": [north]}
    assert flag(world, north, 30, "any") == {"flagged": [], "already_flagged": [south]}
    assert len(feed(world, "manager.north1")) == 1 and len(feed(world, "head.south")) == 1
    with world.unit() as rt:
        assert len(notes_of(rt, north)) == 2  # manager.north1 and head.north, once each


def test_deals_created_outside_the_window_are_not_duplicates(world, clock):
    client = contact(world, "Oleg Petrov", phones=["+7 917 555 01 02"])
    north = make_deal(world, contact=client, department="store_north")
    clock.advance(timedelta(days=40))
    south = make_deal(world, responsible="manager.south1", contact=client, department="store_south")
    assert flag(world, south, 30)["flagged"] == []
    assert flag(world, south, "45d")["flagged"] == [north]


def test_deals_of_one_department_are_not_duplicates(world):
    client = contact(world, "Oleg Petrov", phones=["+7 917 555 01 02"])
    make_deal(world, contact=client, department="store_north")
    other = make_deal(world, responsible="head.north", contact=client, department="store_north")
    assert flag(world, other)["flagged"] == []


def test_the_channel_decides_what_makes_the_same_client(world):
    by_email_north = contact(world, "Oleg", emails=["OLEG@example.com"])
    by_email_south = contact(world, "Oleg P.", phones=["+7 900 000 00 01"], emails=["oleg@example.com"])
    north = make_deal(world, contact=by_email_north, department="store_north")
    south = make_deal(world, responsible="manager.south1", contact=by_email_south, department="store_south")
    assert flag(world, south, channel="phone")["flagged"] == []
    assert flag(world, south, channel="email")["flagged"] == [north]


def test_a_deal_without_a_contact_has_no_duplicates(world):
    assert flag(world, make_deal(world)) == {"flagged": [], "already_flagged": []}
