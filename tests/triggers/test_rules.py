"""Trigger rules: pipeline order, the first matching rule wins, forward only, every evaluation explained."""

from __future__ import annotations

from robots.log import for_deal
from tests.support.world import make_deal, notes_of
from tests.triggers.conftest import STORE, act, automation, send, stage_of, when
from triggers.rules import apply_triggers, ordered_triggers


def decision(engine, files, deal_id, approved=True, **extra):
    return send(engine, files, "bank.decision", {"deal_id": deal_id, "approved": approved, **extra}, source="bank")


def test_rules_are_tried_in_stage_order_then_top_level_and_the_first_match_wins(engine, files):
    deal_id = make_deal(engine)
    files.add(automation(
        "main",
        when("top", "bank.decision", actions=[act("notify", text='"top-level"')]),
        when("late", "bank.decision", stage="delivery"),
        when("early", "bank.decision", stage="order_assembly"),
    ))
    with engine.unit() as rt:
        order = [t.key for t in ordered_triggers(rt, rt.crm.deal(deal_id), files["main"], "bank.decision")]
    assert order == ["early", "late", "top"]

    result = decision(engine, files, deal_id)

    assert [(e["rule"], e["outcome"]) for e in result.evaluations] == [("early", "matched")]
    assert stage_of(engine, deal_id) == "main.order_assembly"
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == []


def test_conditions_read_the_event_and_report_what_they_saw(engine, files):
    deal_id = make_deal(engine, stage="main.product_agreement")
    files.add(automation(
        "main",
        when("approved", "bank.decision", "event.approved and deal.amount >= 0", stage="order_assembly"),
        when("rejected", "bank.decision", "not event.approved",
             actions=[act("notify", text='"Rejected: " + event.comment')]),
    ))

    result = decision(engine, files, deal_id, approved=False, comment="income too low")

    first, second = result.evaluations
    assert first["outcome"] == "no_match" and first["matched"] is False
    assert first["seen"] == {"event.approved": False, "deal.amount": 0}
    assert "was false" in first["reason"]
    assert second["outcome"] == "matched" and second["seen"] == {"event.approved": False}
    assert stage_of(engine, deal_id) == "main.product_agreement"
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Rejected: income too low"]
        assert [(e.key, e.outcome) for e in for_deal(rt.session, deal_id)] == [
            ("approved", "no_match"), ("rejected", "matched")]


def test_rules_move_forward_only_unless_they_allow_backward(engine, files):
    ahead = make_deal(engine, stage="main.delivery")
    files.add(automation("main", when("back", "bank.decision", stage="product_agreement")))
    result = decision(engine, files, ahead)
    assert result.evaluations[0]["outcome"] == "skipped"
    assert "forward only" in result.evaluations[0]["reason"]
    assert stage_of(engine, ahead) == "main.delivery"

    files.add(automation("main", when("back", "bank.decision", stage="product_agreement", allow_backward=True)))
    decision(engine, files, ahead)
    assert stage_of(engine, ahead) == "main.product_agreement"


def test_a_rule_that_cannot_act_lets_the_next_one_try(engine, files):
    deal_id = make_deal(engine, stage="main.in_processing")
    files.add(automation(
        "main",
        when("paid", "order.paid", stage="in_processing"),
        when("paid_and_shipped", "order.paid", "event.shipped", stage="won"),
    ))
    make_order = {"order_id": "A-1", "shipped": True}
    with engine.unit() as rt:
        rt.crm.set_fields(rt.crm.deal(deal_id), {"order_id": "A-1"}, cause=STORE)

    result = send(engine, files, "order.paid", make_order)

    assert [(e["rule"], e["outcome"]) for e in result.evaluations] == [("paid", "skipped"),
                                                                      ("paid_and_shipped", "matched")]
    assert result.evaluations[1]["moved"] == {"from": "main.in_processing", "to": "main.won"}


def test_moving_into_another_pipeline_counts_as_forward(engine, files):
    deal_id = make_deal(engine, stage="credit.bank_review")
    files.add(automation("credit", when("approved", "bank.decision", "event.approved",
                                        actions=[act("move_to", stage='"main.order_assembly"')])))
    result = decision(engine, files, deal_id)
    assert result.evaluations[0]["moved"] == {"from": "credit.bank_review", "to": "main.order_assembly"}

    deal_id = make_deal(engine, stage="main.delivery")
    files.add(automation("main", when("to_credit", "bank.decision", stage="credit.documents")))
    decision(engine, files, deal_id)
    assert stage_of(engine, deal_id) == "credit.documents"


def test_a_failing_action_leaves_nothing_behind_and_is_recorded(engine, files):
    deal_id = make_deal(engine)
    files.add(automation("main", when("broken", "bank.decision", stage="order_assembly",
                                      actions=[act("notify", to='"nobody.at.all"', text='"x"')])))

    result = decision(engine, files, deal_id)

    assert result.evaluations[0]["outcome"] == "failed"
    assert "nobody.at.all" in result.evaluations[0]["reason"]
    assert stage_of(engine, deal_id) == "main.new"  # the move was undone with the failed action
    assert result.event_id is not None  # the event itself is kept: resending cannot fix a rule


def test_rules_can_be_applied_to_a_deal_directly(engine, files):
    """What the designer's test bench does: a file of its own, no event stored."""
    deal_id = make_deal(engine)
    file = automation("main", when("go", "webhook.test", "event.go == 1", stage="in_processing"))
    with engine.unit() as rt:
        evaluations = apply_triggers(rt, rt.crm.deal(deal_id), "webhook.test", {"go": 1}, file, STORE)
    assert [e.outcome for e in evaluations] == ["matched"]
    assert stage_of(engine, deal_id) == "main.in_processing"
