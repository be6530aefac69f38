"""assign_responsible (S5): rules first, else in turn among present users in working hours, else nobody."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crm.events import Cause
from engine.actions import ActionContext, ActionInputError
from engine.engine import Engine
from robots.actions import registry
from tests.support.world import TEST_CAUSE, demo_engine, make_deal

# The demo clock starts on Monday 2026-01-05 09:00 UTC = 12:00 in Moscow, inside office hours (09-18).
EVENING_IN_MOSCOW = datetime(2026, 1, 5, 17, 30, tzinfo=UTC)  # 20:30 in Moscow
SETUP = Cause.system("test")


@pytest.fixture
def world(database, clock):
    return demo_engine(database, clock)


def assign(engine, deal_id: int, *positional, **named) -> dict:
    with engine.unit() as rt:
        params = registry.bind_args("assign_responsible", list(positional), named)
        return registry.call("assign_responsible", ActionContext(rt.crm, rt.crm.deal(deal_id), TEST_CAUSE), params)


def responsible(engine, deal_id: int) -> str | None:
    with engine.unit() as rt:
        deal = rt.crm.deal(deal_id)
        return deal.responsible.login if deal.responsible else None


def new_deals(engine, count: int, **kwargs) -> list[int]:
    return [make_deal(engine, responsible=None, **kwargs) for _ in range(count)]


class TestInTurn:
    def test_deals_go_round_the_department_in_login_order(self, world):
        chosen = [assign(world, deal_id, "store_south")["login"] for deal_id in new_deals(world, 4)]
        assert chosen == ["head.south", "manager.south1", "manager.south2", "head.south"]

    def test_the_responsible_is_set_and_the_rule_recorded(self, world):
        [deal_id] = new_deals(world, 1)
        result = assign(world, deal_id, department="store_south")
        assert (result["rule"], result["login"]) == ("in_turn", "head.south")
        assert responsible(world, deal_id) == "head.south"
        with world.unit() as rt:
            kinds = [e.kind for e in rt.crm.timeline(rt.crm.deal(deal_id))]
        assert kinds[-2:] == ["field_changed", "responsible_chosen"]

    def test_users_away_from_the_office_are_skipped(self, world):
        # manager.north2 is away in the demo.
        chosen = [assign(world, deal_id, "store_north")["login"] for deal_id in new_deals(world, 3)]
        assert chosen == ["head.north", "manager.north1", "head.north"]

    def test_users_outside_their_working_hours_are_skipped(self, world, clock):
        with world.unit() as rt:
            rt.crm.create_user(login="manager.south3", name="Night Owl", department="store_south",
                               roles=["manager"], working_hours={"mon": ["20:00", "23:00"]},
                               timezone="Europe/Moscow", cause=SETUP)
        day = [assign(world, deal_id, "store_south")["login"] for deal_id in new_deals(world, 4)]
        assert "manager.south3" not in day
        clock.set(EVENING_IN_MOSCOW)
        evening = [assign(world, deal_id, "store_south")["login"] for deal_id in new_deals(world, 2)]
        assert evening == ["manager.south3", "manager.south3"]

    def test_working_hours_can_be_ignored(self, world, clock):
        clock.set(EVENING_IN_MOSCOW)
        [deal_id] = new_deals(world, 1)
        assert assign(world, deal_id, "store_south")["rule"] == "unassigned"
        assert assign(world, deal_id, "store_south", working_hours=False)["login"] == "head.south"

    def test_whose_turn_it_is_survives_a_restart(self, world, database, clock):
        first, second = new_deals(world, 2)
        assert assign(world, first, "store_south")["login"] == "head.south"
        restarted = Engine(database.reopen(), clock, registry)
        assert assign(restarted, second, "store_south")["login"] == "manager.south1"
        restarted.db.dispose()

    def test_a_role_narrows_the_pool(self, world):
        chosen = [assign(world, d, "logistics", role="driver")["login"] for d in new_deals(world, 3)]
        assert chosen == ["driver1", "driver2", "driver1"]


class TestRules:
    RULES = {
        "vip": "manager.north1",
        "by_amount": [[100000, "head.north"], [50000, 100000, "store_south"]],
        "by_category": [["tv", "credit"]],
        "department": "store_north",
    }

    def test_a_vip_client_goes_to_their_user_before_any_other_rule(self, world):
        [deal_id] = new_deals(world, 1, amount=150000, fields={"vip": True})
        result = assign(world, deal_id, **self.RULES)
        assert (result["rule"], result["login"]) == ("vip", "manager.north1")

    def test_amount_ranges_pick_a_user_or_a_department_in_turn(self, world):
        big, medium, small = (make_deal(world, responsible=None, amount=a) for a in (100000, 60000, 1000))
        assert (assign(world, big, **self.RULES)["rule"], responsible(world, big)) == ("amount", "head.north")
        assert (assign(world, medium, **self.RULES)["rule"], responsible(world, medium)) == ("amount", "head.south")
        assert assign(world, small, **self.RULES)["rule"] == "in_turn"

    def test_a_product_category_routes_the_deal(self, world):
        [deal_id] = new_deals(world, 1, products=[{"name": "Samsung UE55", "qty": 1, "price": "74990",
                                                   "category": "tv"}])
        result = assign(world, deal_id, by_category=[["tv", "credit"]], department="store_north")
        assert (result["rule"], result["login"]) == ("category", "credit1")  # first in login order

    def test_nobody_available_leaves_the_deal_unassigned(self, world):
        with world.unit() as rt:
            for login in ("head.south", "manager.south1", "manager.south2"):
                rt.crm.set_presence(login, False, cause=SETUP)
        [deal_id] = new_deals(world, 1)
        assert assign(world, deal_id, "store_south") == {"assigned": None, "rule": "unassigned",
                                                          "detail": "nobody available"}
        assert responsible(world, deal_id) is None

    def test_without_rules_or_a_department_nothing_is_chosen(self, world):
        deal_id = make_deal(world)
        assert assign(world, deal_id)["rule"] == "unassigned"
        assert responsible(world, deal_id) == "manager.north1"

    def test_a_target_that_is_neither_user_nor_department_is_refused_before_anything_changes(self, world):
        [deal_id] = new_deals(world, 1, amount=10)
        with pytest.raises(ActionInputError, match="'nobody' is neither"):
            assign(world, deal_id, by_category=[["tv", "nobody"]], department="store_south")
        with pytest.raises(ActionInputError, match="by_amount"):
            assign(world, deal_id, by_amount=[["lots", "head.north"]])
        assert responsible(world, deal_id) is None


class TestDecisionTable:
    """The shipped routing table (bpmn/store_routing.dmn) chooses first; its department outputs go in turn."""

    ROUTING = Path(__file__).resolve().parents[2] / "bpmn" / "store_routing.dmn"

    @pytest.fixture
    def routed(self, world):
        world.deploy_decisions(self.ROUTING.read_bytes())
        return world

    def test_a_vip_of_the_south_store_goes_to_its_head(self, routed):
        [deal_id] = new_deals(routed, 1, department="store_south", fields={"vip": True})
        result = assign(routed, deal_id, "store_south", decision="store_routing")
        assert (result["rule"], result["login"]) == ("decision", "head.south")
        assert result["detail"] == "decision Manager routing rule 2"

    def test_an_expensive_tv_goes_in_turn_in_the_credit_department(self, routed):
        [deal_id] = new_deals(routed, 1, department="store_north", amount=150000, fields={"category": "tv"})
        result = assign(routed, deal_id, "store_north", decision="store_routing")
        assert result["rule"] == "decision" and result["login"] in {"head.credit", "credit1"}
        assert "in turn among credit" in result["detail"]

    def test_a_department_output_goes_in_turn_in_the_deals_store(self, routed):
        chosen = [assign(routed, deal_id, "store_south", decision="store_routing")["login"]
                  for deal_id in new_deals(routed, 3, department="store_south")]
        assert chosen == ["head.south", "manager.south1", "manager.south2"]

    def test_a_decision_not_deployed_is_an_error_naming_it(self, world):
        [deal_id] = new_deals(world, 1)
        with pytest.raises(ActionInputError, match="assign_responsible: no decision 'store_routing' is deployed"):
            assign(world, deal_id, "store_south", decision="store_routing")
