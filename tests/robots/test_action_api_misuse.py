"""A robot whose custom action calls `ctx.crm` wrongly fails once, saying how to call it."""

from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema
from sqlalchemy import select

from engine.models import Job
from engine.virtual_time import advance
from tests.support.automation import log_of, save
from tests.support.world import TEST_CAUSE, make_deal


def test_a_guessed_call_fails_the_robot_once_naming_the_signature_and_writes_nothing(engine, clock):
    calls: list[int] = []
    actions = engine.actions.copy()

    @actions.action("reserve_guess", Schema.from_dict({}))
    def reserve_guess(ctx) -> dict:
        calls.append(1)
        ctx.crm.add_comment(ctx.deal, "Reserving", cause=ctx.cause)
        ctx.crm.set_fields(ctx.deal, {"bank": "Sberbank"}, ctx.cause)
        return {}

    engine.actions = actions
    save(engine, "main", 'pipeline main "Sales"\n\nstage in_processing:\n  robot "reserve":\n    reserve_guess()\n')
    deal_id = make_deal(engine)
    with engine.unit() as rt:
        rt.crm.move_deal(rt.crm.deal(deal_id), "in_processing", cause=TEST_CAUSE)
    advance(engine, clock, timedelta(hours=1))

    assert len(calls) == 1
    [reason] = [reason for key, outcome, reason in log_of(engine, deal_id) if key == "reserve" and outcome == "failed"]
    assert reason.startswith("ctx.crm.set_fields(deal: Deal, values: Mapping[str, Any], *, cause: Cause)")
    assert reason.endswith("too many positional arguments; not retried")
    with engine.unit() as rt:
        deal = rt.crm.deal(deal_id)
        assert deal.stage.code == "in_processing"  # the move committed; the robot's half-done work did not
        assert [entry.text for entry in rt.crm.timeline(deal) if entry.kind == "comment"] == []
        assert deal.fields.get("bank") is None
        assert rt.session.scalars(select(Job).where(Job.deal_id == deal_id, Job.status == "pending")).all() == []
