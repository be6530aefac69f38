"""The CRM's own changes as trigger events: task done or dragged, a field changed; and the loop guard."""

from __future__ import annotations

from sqlalchemy import select

from crm.models import Task, TimelineEntry
from robots.log import for_deal
from tests.support.world import TEST_CAUSE, make_deal, notes_of
from tests.triggers.conftest import act, automation, stage_of, when


def logistics_task(engine, deal_id: int) -> int:
    with engine.unit() as rt:
        return rt.crm.create_task(title="Deliver", deal=deal_id, group="logistics", cause=TEST_CAUSE).id


def test_a_completed_delivery_task_moves_the_deal_to_the_check(engine, files):
    deal_id = make_deal(engine, stage="main.delivery")
    task_id = logistics_task(engine, deal_id)
    files.add(automation("main", when("delivered", "task.completed", "event.group == 'logistics'",
                                      stage="delivery_check")))

    with engine.unit() as rt:
        rt.crm.complete_task(rt.crm.task(task_id), cause=TEST_CAUSE)

    assert stage_of(engine, deal_id) == "main.delivery_check"
    with engine.unit() as rt:
        moved = rt.session.scalars(select(TimelineEntry).where(
            TimelineEntry.deal_id == deal_id, TimelineEntry.kind == "stage_moved")).one()
        assert (moved.cause_kind, moved.cause_ref) == ("trigger", "delivered")


def test_a_task_dragged_to_problem_notifies_the_manager(engine, files):
    deal_id = make_deal(engine, stage="main.delivery")
    task_id = logistics_task(engine, deal_id)
    files.add(automation("main", when("problem", "task.moved", "event.column == 'problem'",
                                      actions=[act("notify", text='"Delivery problem: " + event.title')])))

    with engine.unit() as rt:
        rt.crm.move_task(rt.crm.task(task_id), "in_progress", cause=TEST_CAUSE)
        rt.crm.move_task(rt.crm.task(task_id), "problem", cause=TEST_CAUSE)

    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Delivery problem: Deliver"]
        assert rt.session.get(Task, task_id).column == "problem"


def test_a_field_change_is_one_event_per_field(engine, files):
    deal_id = make_deal(engine, stage="main.in_processing")
    files.add(automation("main", when("paid", "deal.field_changed",
                                      "event.field == 'payment_status' and event.new == 'paid'",
                                      stage="order_assembly")))

    with engine.unit() as rt:
        rt.crm.set_fields(rt.crm.deal(deal_id), {"bank": "Sber", "payment_status": "paid"}, cause=TEST_CAUSE)

    assert stage_of(engine, deal_id) == "main.order_assembly"


def test_rules_that_feed_each_other_are_stopped_after_ten_steps(engine, files):
    """Each rule flips a field, and the change sets off the rule again: a loop without a person."""
    deal_id = make_deal(engine)
    files.add(automation("main", when("flip", "deal.field_changed", "event.field == 'term_months'",
                                      actions=[act("set_field", term_months="deal.term_months + 1")])))

    with engine.unit() as rt:
        rt.crm.set_fields(rt.crm.deal(deal_id), {"term_months": 1}, cause=TEST_CAUSE)

    with engine.unit() as rt:
        assert rt.crm.field_value(rt.crm.deal(deal_id), "term_months") == 11
    with engine.unit() as rt:
        outcomes = [e.outcome for e in for_deal(rt.session, deal_id)]
        stop = [e for e in for_deal(rt.session, deal_id) if e.outcome == "stopped"]
    assert outcomes == ["matched"] * 10 + ["stopped"]
    assert "loop guard" in stop[0].reason
