"""Stage robots: what runs when a deal enters a stage, when it fires, and why it did not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marshmallow import Schema
from sqlalchemy import select

from crm.models import Deal
from engine.actions import ActionInputError
from engine.models import Job
from engine.virtual_time import advance
from robots.runtime import apply_to_deals_on_stage
from tests.support.automation import log_of, save
from tests.support.world import TEST_CAUSE, make_deal, notes_of, tasks_of


def move(engine, deal_id: int, stage: str) -> None:
    with engine.unit() as rt:
        rt.crm.move_deal(rt.crm.deal(deal_id), stage, cause=TEST_CAUSE)


def stage_of(engine, deal_id: int) -> str:
    with engine.unit() as rt:
        deal = rt.session.get(Deal, deal_id)
        return f"{deal.pipeline.code}.{deal.stage.code}"


def outcomes(engine, deal_id: int, key: str) -> list[str]:
    return [outcome for k, outcome, _ in log_of(engine, deal_id) if k == key]


MAIN = '''pipeline main "Sales"

stage in_processing:
  robot "welcome" immediately:
    notify(text: "New deal {deal.title}")
  robot "call back" after 2d if deal.payment_status != "paid":
    create_task(title: "Call the client about {deal.title}", to: deal.responsible)
  then after 1d:
    notify_supervisor(text: "{deal.title} is still unpaid")
'''


def test_an_immediate_robot_runs_in_the_same_transaction_as_the_move(engine):
    save(engine, "main", MAIN)
    deal_id = make_deal(engine)
    move(engine, deal_id, "in_processing")
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["New deal Washing machine"]
    assert outcomes(engine, deal_id, "welcome") == ["scheduled", "ran"]


def test_a_delayed_robot_fires_when_its_time_comes_and_then_steps_wait_for_it(engine, clock):
    save(engine, "main", MAIN)
    deal_id = make_deal(engine)
    move(engine, deal_id, "in_processing")
    advance(engine, clock, timedelta(days=1, hours=23))
    with engine.unit() as rt:
        assert tasks_of(rt, deal_id) == []
    advance(engine, clock, timedelta(hours=1))
    with engine.unit() as rt:
        assert [t.title for t in tasks_of(rt, deal_id)] == ["Call the client about Washing machine"]
        assert notes_of(rt, deal_id) == ["New deal Washing machine"]
    advance(engine, clock, timedelta(days=1))
    with engine.unit() as rt:
        assert notes_of(rt, deal_id)[-1] == "Washing machine is still unpaid"


def test_the_condition_is_checked_when_the_robot_fires_and_the_log_shows_what_it_saw(engine, clock):
    save(engine, "main", MAIN)
    deal_id = make_deal(engine)
    move(engine, deal_id, "in_processing")
    with engine.unit() as rt:
        rt.crm.set_fields(rt.crm.deal(deal_id), {"payment_status": "paid"}, cause=TEST_CAUSE)
    advance(engine, clock, timedelta(days=5))
    with engine.unit() as rt:
        assert tasks_of(rt, deal_id) == []
    (skipped,) = [reason for key, outcome, reason in log_of(engine, deal_id)
                  if key == "call-back" and outcome == "skipped"]
    assert 'deal.payment_status != "paid"' in skipped
    with engine.unit() as rt:
        from robots.log import for_deal

        entry = next(e for e in for_deal(rt.session, deal_id) if e.outcome == "skipped")
        assert entry.detail["seen"] == {"deal.payment_status": "paid"}


def test_leaving_the_stage_cancels_robots_not_yet_run_in_the_same_transaction(engine, clock):
    save(engine, "main", MAIN)
    deal_id = make_deal(engine)
    move(engine, deal_id, "in_processing")
    move(engine, deal_id, "product_agreement")
    with engine.unit() as rt:
        live = rt.session.scalars(select(Job).where(Job.deal_id == deal_id, Job.status == "pending")).all()
        assert live == []
    advance(engine, clock, timedelta(days=5))
    with engine.unit() as rt:
        assert tasks_of(rt, deal_id) == []
    (reason,) = [r for k, o, r in log_of(engine, deal_id) if k == "call-back" and o == "cancelled"]
    assert reason == "the deal moved to main.product_agreement before it ran"


CREDIT = '''pipeline credit "Credit"

stage documents:
  robot "remind" at deal.ready_date - 2h:
    notify(text: "Call the client, the credit is due")
'''


def test_a_robot_at_a_date_field_waits_for_it_and_follows_its_changes(engine, clock):
    save(engine, "credit", CREDIT)
    deal_id = make_deal(engine, stage="credit.new")
    move(engine, deal_id, "credit.documents")
    assert outcomes(engine, deal_id, "remind") == ["waiting"]
    with engine.unit() as rt:
        rt.crm.set_fields(rt.crm.deal(deal_id), {"ready_date": "2026-01-08T12:00:00Z"}, cause=TEST_CAUSE)
        job = rt.session.scalars(select(Job).where(Job.deal_id == deal_id, Job.kind == "robot")).one()
        assert job.due_at == datetime(2026, 1, 8, 10, 0, tzinfo=UTC)
        rt.crm.set_fields(rt.crm.deal(deal_id), {"ready_date": "2026-01-09T12:00:00Z"}, cause=TEST_CAUSE)
    advance(engine, clock, timedelta(days=3, hours=2))
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == []
    advance(engine, clock, timedelta(days=1))
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Call the client, the credit is due"]


def test_a_robot_whose_time_has_passed_runs_at_once(engine):
    save(engine, "credit", CREDIT)
    deal_id = make_deal(engine, stage="credit.new", fields={"ready_date": "2025-12-01T00:00:00Z"})
    move(engine, deal_id, "credit.documents")
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Call the client, the credit is due"]


def test_robots_can_wait_for_a_time_of_day_and_for_working_hours(engine, clock):
    save(engine, "main", '''pipeline main "Sales"

stage in_processing:
  robot "morning" after 1d at 10:00:
    notify(text: "morning")
  robot "office" after 5d in working hours:
    notify(text: "office")
''')
    deal_id = make_deal(engine)
    move(engine, deal_id, "in_processing")  # Monday 2026-01-05 09:00 UTC
    with engine.unit() as rt:
        due = {j.element_id: j.due_at for j in rt.session.scalars(select(Job).where(Job.deal_id == deal_id))}
    assert due["morning"] == datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
    assert due["office"] == datetime(2026, 1, 12, 9, 0, tzinfo=UTC)  # Saturday → next Monday 09:00


def test_robots_switched_off_for_a_stage_do_not_run_and_say_so(engine):
    save(engine, "main", '''pipeline main "Sales"

stage in_processing (robots off):
  robot "welcome":
    notify(text: "hello")
''')
    deal_id = make_deal(engine)
    move(engine, deal_id, "in_processing")
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == []
    assert [o for _, o, r in log_of(engine, deal_id)] == ["skipped"]


def test_the_loop_guard_stops_robots_moving_a_deal_back_and_forth(engine):
    save(engine, "main", '''pipeline main "Sales"

stage in_processing:
  robot "forth":
    move_to product_agreement

stage product_agreement:
  robot "back":
    move_to in_processing
''')
    deal_id = make_deal(engine)
    move(engine, deal_id, "in_processing")
    stopped = [r for _, o, r in log_of(engine, deal_id) if o == "stopped"]
    assert len(stopped) == 1 and stopped[0].startswith("loop guard")
    with engine.unit() as rt:
        moves = [e for e in rt.crm.timeline(rt.crm.deal(deal_id)) if e.kind == "stage_moved"]
        assert 5 <= len(moves) <= 12


def test_changed_robots_do_not_rerun_for_deals_already_on_the_stage_unless_asked(engine):
    deal_id = make_deal(engine)
    move(engine, deal_id, "in_processing")
    save(engine, "main", MAIN)
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == []
    with engine.unit() as rt:
        assert apply_to_deals_on_stage(rt, "main", "in_processing", TEST_CAUSE) >= 1
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["New deal Washing machine"]


def test_a_failing_action_is_logged_retried_and_leaves_nothing_half_done(engine, clock):
    save(engine, "main", '''pipeline main "Sales"

stage in_processing:
  robot "bad":
    notify(text: "first")
    notify(to: "no.such.login", text: "second")
''')
    deal_id = make_deal(engine)
    move(engine, deal_id, "in_processing")
    assert stage_of(engine, deal_id) == "main.in_processing"
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == []
    assert "failed" in outcomes(engine, deal_id, "bad")


def test_an_action_that_fails_for_now_is_retried_with_backoff_until_it_works(engine, clock):
    calls = _with_action(engine, "call_bank", fail_times=2, error=RuntimeError("the bank's API is down"))
    deal_id = _deal_entering_a_stage_whose_robot_calls(engine, "call_bank")
    advance(engine, clock, timedelta(minutes=10))
    assert len(calls) == 3
    assert [o for o in outcomes(engine, deal_id, "ask") if o != "scheduled"] == ["failed", "failed", "ran"]


def test_an_action_refusing_its_input_is_not_retried(engine, clock):
    calls = _with_action(engine, "call_bank", fail_times=5, error=ActionInputError("address 10.0.0.1 is private"))
    deal_id = _deal_entering_a_stage_whose_robot_calls(engine, "call_bank")
    advance(engine, clock, timedelta(hours=1))
    assert len(calls) == 1
    [reason] = [reason for key, outcome, reason in log_of(engine, deal_id) if key == "ask" and outcome == "failed"]
    assert "not retried" in reason
    with engine.unit() as rt:
        assert rt.session.scalars(select(Job).where(Job.deal_id == deal_id, Job.status == "pending")).all() == []


def _deal_entering_a_stage_whose_robot_calls(engine, action: str) -> int:
    save(engine, "main", f'pipeline main "Sales"\n\nstage in_processing:\n  robot "ask":\n    {action}()\n')
    deal_id = make_deal(engine)
    move(engine, deal_id, "in_processing")
    return deal_id


def _with_action(engine, name: str, *, fail_times: int, error: Exception) -> list[int]:
    """A custom action that fails `fail_times` times with `error`, then works; the calls it got."""
    calls: list[int] = []
    actions = engine.actions.copy()

    @actions.action(name, Schema.from_dict({}))
    def call(ctx) -> dict:
        calls.append(1)
        if len(calls) <= fail_times:
            raise error
        return {"ok": True}

    engine.actions = actions
    return calls


WAITING = '''pipeline main "Sales"

stage in_processing:
  robot "ask to pay" immediately:
    notify(text: "Please pay {deal.title}")
    wait_for_event("order.paid", 3d)
  then "thank" after 1h:
    notify(text: "Thanks for paying")
'''


def test_a_chain_can_wait_for_an_event_and_goes_on_after_its_own_delay(engine, clock):
    from triggers.intake import accept_event

    save(engine, "main", WAITING)
    deal_id = make_deal(engine, fields={"order_id": "W-1"})
    move(engine, deal_id, "in_processing")
    advance(engine, clock, timedelta(days=1))
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Please pay Washing machine"]
        accept_event(rt, "order.paid", {"order_id": "W-1", "paid": True}, idempotency_key=None, source="store",
                     cause=TEST_CAUSE)
    advance(engine, clock, timedelta(minutes=59))
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Please pay Washing machine"]
    advance(engine, clock, timedelta(minutes=1))
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Please pay Washing machine", "Thanks for paying"]


def test_a_chain_waiting_for_an_event_stops_at_its_timeout(engine, clock):
    save(engine, "main", WAITING)
    deal_id = make_deal(engine, fields={"order_id": "W-2"})
    move(engine, deal_id, "in_processing")
    advance(engine, clock, timedelta(days=4))
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Please pay Washing machine"]
    reasons = [r for k, o, r in log_of(engine, deal_id) if k == "thank"]
    assert reasons[0].startswith("waiting for order.paid until")
    assert reasons[-1] == "gave up waiting for order.paid; the chain stops here"


def test_a_dsl_error_on_an_empty_field_fails_the_robot_once_naming_what_it_saw(engine, clock):
    save(engine, "main", '''pipeline main "Sales"

stage in_processing:
  robot "collect":
    set_field("amount_to_collect", deal.down_payment * 2)
''')
    deal_id = make_deal(engine)  # no down payment
    move(engine, deal_id, "in_processing")
    advance(engine, clock, timedelta(hours=1))
    [reason] = [reason for key, outcome, reason in log_of(engine, deal_id) if key == "collect" and outcome == "failed"]
    assert "cannot multiply null by number" in reason and "deal.down_payment is empty" in reason
    assert reason.endswith("not retried")
    with engine.unit() as rt:
        assert rt.session.scalars(select(Job).where(Job.deal_id == deal_id, Job.status == "pending")).all() == []


def test_a_lock_timeout_in_a_delayed_robot_rolls_its_job_back_whole_and_the_job_is_retried(postgres_database,
                                                                                             clock):
    """A real lock held by a second connection, and the operator's lock_timeout: the robot's
    transaction is not recorded as "failed, retrying" from inside itself; the whole job rolls
    back, stays pending with its error, and runs after the backoff."""
    from sqlalchemy import text

    from tests.support.world import app_engine

    engine = app_engine(postgres_database, clock)
    calls: list[int] = []
    actions = engine.actions.copy()
    engine.actions = actions

    @actions.action("look_up_client_locked", Schema.from_dict({}))
    def look_up(ctx) -> dict:
        ctx.service.session.execute(text("SET LOCAL lock_timeout = '100ms'"))
        calls.append(1)
        return {"found": len(ctx.crm.find_contacts(phones=["+79161112233"]))}

    save(engine, "main", 'pipeline main "Sales"\n\nstage in_processing:\n  robot "ask" after 1h:\n'
                         '    look_up_client_locked()\n')
    deal_id = make_deal(engine)
    move(engine, deal_id, "in_processing")
    with postgres_database.engine.connect() as holder, holder.begin():
        holder.execute(text("LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE"))
        advance(engine, clock, timedelta(hours=1))
    with engine.unit() as rt:
        [job] = rt.session.scalars(select(Job).where(Job.deal_id == deal_id, Job.element_id == "ask")).all()
        assert (job.status, job.attempts) == ("pending", 1) and "lock" in job.last_error.lower()
    assert "failed" not in outcomes(engine, deal_id, "ask")
    advance(engine, clock, timedelta(hours=1))
    assert outcomes(engine, deal_id, "ask") == ["scheduled", "ran"]
    assert len(calls) == 2
