"""The app's engine end to end: a saved automation text, an outside event, the deal moves (S1.6)."""

from __future__ import annotations

from api.wiring import build_engine
from crm.demo import load_demo
from tests.support.automation import save
from tests.support.world import make_deal
from tests.triggers.conftest import STORE, stage_of
from triggers.intake import accept_event

CREDIT = '''pipeline credit "Credit"

trigger "approved" on bank.decision if event.approved:
  move_to main.order_assembly

trigger "rejected" on bank.decision if not event.approved:
  move_to main.product_agreement
  notify(text: "Offer new conditions: " + event.comment)
'''


def test_a_bank_decision_applies_the_saved_credit_rules(database, clock):
    engine = build_engine(database, clock)
    with engine.unit() as rt:
        load_demo(rt.crm)
    save(engine, "credit", CREDIT)
    approved = make_deal(engine, stage="credit.bank_review")
    rejected = make_deal(engine, stage="credit.bank_review")

    with engine.unit() as rt:
        accept_event(rt, "bank.decision", {"deal_id": approved, "approved": True}, idempotency_key="b1",
                     source="bank", cause=STORE)
    with engine.unit() as rt:
        result = accept_event(rt, "bank.decision", {"deal_id": rejected, "approved": False, "comment": "income"},
                              idempotency_key="b2", source="bank", cause=STORE)

    assert stage_of(engine, approved) == "main.order_assembly"
    assert stage_of(engine, rejected) == "main.product_agreement"
    assert result.matched_rules == ["rejected"]
