"""The unit of work's chain guard: one bound on automation feeding itself, for robots and rules alike."""

from __future__ import annotations

from api.wiring import build_engine
from crm.demo import load_demo
from crm.events import Cause
from engine.unit import MAX_CHAIN, ChainGuard
from robots.log import for_deal
from tests.support.automation import save
from tests.support.world import TEST_CAUSE, make_deal

ROBOT = Cause("robot", "r", "r", ("a", "b"))


def test_a_step_is_stopped_once_the_chain_before_it_reaches_the_limit():
    guard = ChainGuard(3)
    assert not guard.stops(2)
    assert guard.stops(3)
    assert ChainGuard().limit == MAX_CHAIN == 10


def test_steps_counted_on_a_deal_back_up_a_chain_that_was_lost():
    guard = ChainGuard()
    for _ in range(4):
        guard.count(7, Cause("trigger", "t", "t"))
    assert guard.steps_on(7, ("one",)) == 4
    assert guard.steps_on(8, ("one",)) == 1
    assert guard.steps_on(7, ("a",) * 6) == 6


def test_a_persons_change_is_not_counted():
    guard = ChainGuard()
    guard.count(7, TEST_CAUSE)
    guard.count(7, Cause.system("store"))
    assert guard.steps_on(7, ()) == 0
    guard.count(7, ROBOT)
    assert guard.steps_on(7, ()) == 1


def limited_engine(database, clock, limit: int):
    engine = build_engine(database, clock, chain_limit=limit)
    with engine.unit() as rt:
        load_demo(rt.crm)
    return engine


def test_the_engines_chain_limit_stops_robots_moving_a_deal_back_and_forth(database, clock):
    engine = limited_engine(database, clock, 3)
    save(engine, "main", '''pipeline main "Sales"

stage in_processing:
  robot "forth":
    move_to product_agreement

stage product_agreement:
  robot "back":
    move_to in_processing
''')
    deal_id = make_deal(engine)
    with engine.unit() as rt:
        rt.crm.move_deal(rt.crm.deal(deal_id), "main.in_processing", cause=TEST_CAUSE)
    with engine.unit() as rt:
        [stop] = [e for e in for_deal(rt.session, deal_id) if e.outcome == "stopped"]
    assert stop.reason.startswith("loop guard: 3 automated steps in a row")


def test_the_same_limit_stops_rules_that_feed_each_other(database, clock):
    engine = limited_engine(database, clock, 3)
    save(engine, "main", '''pipeline main "Sales"

trigger "flip" on deal.field_changed if event.field == "term_months":
  set_field("term_months", deal.term_months + 1)
''')
    deal_id = make_deal(engine)
    with engine.unit() as rt:
        rt.crm.set_fields(rt.crm.deal(deal_id), {"term_months": 1}, cause=TEST_CAUSE)
    with engine.unit() as rt:
        assert rt.crm.field_value(rt.crm.deal(deal_id), "term_months") == 4
        outcomes = [e.outcome for e in for_deal(rt.session, deal_id)]
    assert outcomes == ["matched"] * 3 + ["stopped"]
