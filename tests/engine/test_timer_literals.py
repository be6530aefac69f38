"""Timers as BPMN writes them: a bare ISO-8601 literal (`P7D`, `R6/P1D`, `2026-12-01T10:00:00Z`)
is that duration, cycle or moment, as Camunda Modeler and the BPMN spec write it; a dsl
expression is marked with a leading `=` or written as before (`2d`, `deal.return_date`, `"PT2H"`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.bpmn_texts import timer_expression
from engine.errors import InvalidProcess
from engine.models import Job
from engine.virtual_time import advance
from tests.support.bpmn import Bpmn
from tests.support.world import make_deal, notes_of


def waiting(**timer: str) -> str:
    return (Bpmn("lit").start().timer_catch("wait", **timer).service("go", "notify", text='"fired"').end()
            .chain("start", "wait", "go", "end").xml())


def due_times(engine, instance_id: int) -> list[datetime]:
    with engine.unit() as rt:
        return [j.due_at for j in rt.session.scalars(
            select(Job).where(Job.instance_id == instance_id, Job.kind == "timer", Job.status == "pending"))]


@pytest.mark.parametrize(("timer", "after"), [
    ({"duration": "P7D"}, timedelta(days=7)),
    ({"duration": " PT2H30M "}, timedelta(hours=2, minutes=30)),
    ({"duration": "=2d"}, timedelta(days=2)),
    ({"duration": "= 1d + 12h"}, timedelta(days=1, hours=12)),
    ({"duration": "3d"}, timedelta(days=3)),
    ({"duration": '"PT2H"'}, timedelta(hours=2)),
])
def test_a_duration_is_an_iso_literal_or_a_dsl_expression(engine, clock, timer, after):
    engine.deploy(waiting(**timer))
    deal_id = make_deal(engine)
    instance = engine.start("lit", deal_id)
    assert due_times(engine, instance.id) == [clock.now() + after]


def test_a_bare_date_is_the_moment_it_names(engine, clock):
    engine.deploy(waiting(date="2026-12-01T10:00:00Z"))
    deal_id = make_deal(engine)
    instance = engine.start("lit", deal_id)
    assert due_times(engine, instance.id) == [datetime(2026, 12, 1, 10, 0, tzinfo=UTC)]


def test_a_bare_cycle_repeats_as_often_as_it_says(engine, clock):
    xml = (Bpmn("nag").start().user("wait_user", title="Pay").end("paid")
           .boundary("every_day", "wait_user", cycle="R6/P1D", interrupting=False)
           .service("remind", "notify", text='"Please pay"').end("reminded")
           .chain("start", "wait_user", "paid").chain("every_day", "remind", "reminded").xml())
    engine.deploy(xml)
    deal_id = make_deal(engine)
    engine.start("nag", deal_id)
    advance(engine, clock, timedelta(days=10))
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Please pay"] * 6


@pytest.mark.parametrize("timer", [{"duration": "P1M"}, {"date": "2026-13-01"}, {"cycle": "R3/P1Y"}])
def test_a_literal_no_timer_can_read_is_refused_at_deploy_naming_its_element(engine, timer):
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(waiting(**timer))
    [problem] = refused.value.details
    assert problem["element"] == "wait" and problem["message"].startswith("timer:")
    assert problem["line"] > 1 and "column" in problem


@pytest.mark.parametrize("text", ["= deal.amount +", "=P7D +"])
def test_an_expression_after_the_equals_sign_is_checked_as_dsl(engine, text):
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(waiting(duration=text))
    assert [p["element"] for p in refused.value.details] == ["wait"]


@pytest.mark.parametrize(("kind", "text", "expression"), [
    ("timeDuration", "P7D", '"P7D"'),
    ("timeCycle", "R/2026-01-05T09:00/P1D", '"R/2026-01-05T09:00/P1D"'),
    ("timeDate", "2026-12-01", '"2026-12-01"'),
    ("timeDate", "deal.return_date", "deal.return_date"),
    ("timeCycle", '"R3/P1D"', '"R3/P1D"'),
    ("timeDuration", "=P7D", "P7D"),
])
def test_what_each_text_is_read_as(kind, text, expression):
    assert timer_expression(kind, text) == expression
