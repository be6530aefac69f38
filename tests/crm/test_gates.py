"""Stage gates in the CRM service: the one place every move passes, so every mover meets them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.errors import InvalidInput, StageGateRefused
from crm.events import DealMoved
from crm.models import TimelineEntry
from tests.crm.conftest import MANAGER_CAUSE, SETUP


@pytest.fixture
def gated(world):
    world.set_gates("credit", required_fields={"documents": ["credit_type", "bank", "bank_officer"]}, cause=SETUP)
    world.set_gates("main", loss_reasons=["Too expensive", "Bought elsewhere"], cause=SETUP)
    world.session.commit()
    return world


def _entries(crm, deal) -> int:
    return crm.session.scalar(select(func.count(TimelineEntry.id)).where(TimelineEntry.deal_id == deal.id))


def test_a_move_into_a_gated_stage_lists_every_missing_field_and_writes_nothing(gated, published):
    deal = gated.create_deal(title="TV", pipeline="credit", fields={"bank": "Sber"}, cause=SETUP)
    published.clear()
    entries = _entries(gated, deal)
    with pytest.raises(StageGateRefused) as refused:
        gated.move_deal(deal, "documents", cause=MANAGER_CAUSE)
    assert refused.value.code == "stage_gate"
    assert refused.value.details == {"stage": "credit.documents", "missing": [
        {"name": "credit_type", "label": "Credit type", "type": "enum", "options": ["credit", "installment"]},
        {"name": "bank_officer", "label": "Bank officer", "type": "string", "options": []},
    ]}
    assert "Credit type" in refused.value.message and "Bank officer" in refused.value.message
    assert deal.stage.code == "new" and _entries(gated, deal) == entries and published.of(DealMoved) == []


def test_filled_fields_open_the_gate(gated):
    deal = gated.create_deal(title="TV", pipeline="credit", fields={"bank": "Sber", "credit_type": "credit",
                                                                    "bank_officer": "Ivanov"}, cause=SETUP)
    assert gated.move_deal(deal, "documents", cause=MANAGER_CAUSE) is True
    assert deal.stage.ref == "credit.documents"


def test_a_lost_stage_takes_a_reason_from_the_list_and_forgets_it_on_the_way_out(gated):
    deal = gated.create_deal(title="Fridge", cause=SETUP)
    with pytest.raises(StageGateRefused) as refused:
        gated.move_deal(deal, "lost", cause=MANAGER_CAUSE)
    assert refused.value.details == {"stage": "main.lost", "missing": [],
                                     "loss_reasons": ["Too expensive", "Bought elsewhere"]}
    with pytest.raises(StageGateRefused):
        gated.move_deal(deal, "lost", cause=MANAGER_CAUSE, loss_reason="No reason")
    gated.move_deal(deal, "lost", cause=MANAGER_CAUSE, loss_reason="Bought elsewhere")
    assert deal.loss_reason == "Bought elsewhere"
    assert gated.timeline(deal)[-1].data["loss_reason"] == "Bought elsewhere"
    gated.move_deal(deal, "new", cause=MANAGER_CAUSE)
    assert deal.loss_reason is None


def test_gates_naming_unknown_stages_or_fields_are_refused_whole(gated):
    with pytest.raises(InvalidInput) as refused:
        gated.set_gates("main", required_fields={"delivery": ["bank"], "nowhere": ["bank"], "won": ["bank_officer"]},
                        loss_reasons=["ok", "ok"], cause=SETUP)
    assert set(refused.value.fields) == {"required_fields.nowhere", "required_fields.won", "loss_reasons[1]"}
    assert gated.stage("main.delivery").required_fields == []
    assert gated.pipeline("main").loss_reasons == ["Too expensive", "Bought elsewhere"]
