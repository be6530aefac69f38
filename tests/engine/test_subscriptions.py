"""Who reacts to a CRM event is the engine's one table: its rows run in order, each with the
transaction's unit of work, and nothing can subscribe behind its back."""

from __future__ import annotations

import pytest

from crm.events import DealCreated, DealMoved
from engine.subscriptions import ENGINE_SUBSCRIPTIONS, Subscription, Subscriptions
from tests.support.world import TEST_CAUSE, demo_engine, make_deal


def test_the_reactions_to_an_event_run_in_the_tables_order_with_the_transactions_unit(database, clock):
    heard: list[tuple[str, object, int]] = []

    def first(unit, event):
        heard.append(("first", unit, event.deal_id))

    def second(unit, event):
        heard.append(("second", unit, event.deal_id))

    table = Subscriptions([Subscription(DealMoved, second), Subscription(DealCreated, first),
                           Subscription(DealMoved, first)])
    engine = demo_engine(database, clock, subscriptions=table)
    deal_id = make_deal(engine)
    heard.clear()

    with engine.unit() as rt:
        rt.crm.move_deal(rt.crm.deal(deal_id), "main.in_processing", cause=TEST_CAUSE)

    assert [(who, unit is rt, deal) for who, unit, deal in heard] == [("second", True, deal_id),
                                                                       ("first", True, deal_id)]


def test_nothing_subscribes_outside_the_table(engine):
    with engine.unit() as rt, pytest.raises(TypeError, match="table"):
        rt.crm.listeners.on(DealMoved, lambda crm, event: None)


def test_an_engine_built_without_a_table_has_only_its_own_reactions(engine):
    assert engine.subscriptions is ENGINE_SUBSCRIPTIONS
    assert {row.name.split(".")[0] for row in ENGINE_SUBSCRIPTIONS.rows} == {"engine"}
    assert engine.job_handlers == {}
