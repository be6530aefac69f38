"""The test bench's domain side (api.sandbox, no Flask): runs shared by server processes,
messages that never leave, runs that expire."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.sandbox import InvalidRunInput, TestBench, UnknownRun, format_duration
from api.wiring import SHIPPED_AUTOMATION, save_shipped_automation
from crm.events import Cause
from robots.actions.tables import OutboxMessage
from tests.support.automation import save

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
CAUSE = Cause("user", None, "test")
SMS_ROBOT = '''pipeline credit "Credit"

stage new:
  robot "text the client" after 1h:
    send_sms(deal.contact, "We got your credit application")
'''
FORM = {"title": "Bike on credit", "responsible": "manager.north1",
        "contact": {"name": "Vera", "phone": "+7 900 555-00-11"}}


@pytest.fixture
def directory(tmp_path):
    return tmp_path / "sandboxes"


def _robots_run(bench: TestBench) -> int:
    return bench.create(kind="robots", pipeline="credit", deal=FORM, cause=CAUSE)["id"]


def test_messages_a_robot_sends_in_a_run_stay_in_the_sandbox(engine, directory):
    save(engine, "credit", SMS_ROBOT)
    bench = TestBench(engine, directory)
    run_id = _robots_run(bench)
    state = bench.advance(run_id, by="2h")
    [sms] = state["outbox"]
    assert sms["kind"] == "sms" and sms["payload"]["text"] == "We got your credit application"
    with engine.db.sessions() as real:
        assert real.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_two_server_processes_share_a_run_through_its_files(engine, directory):
    save(engine, "credit", SMS_ROBOT)
    first, second = TestBench(engine, directory), TestBench(engine, directory)
    run_id = _robots_run(first)
    start = first.state(run_id)["now"]
    assert second.advance(run_id, by="1d")["now"] == start + timedelta(days=1)
    # The first process had the run open with the old time: it now sees the clock the second moved.
    assert first.state(run_id)["now"] == start + timedelta(days=1)
    assert [m["kind"] for m in first.state(run_id)["outbox"]] == ["sms"]

    def advance(bench: TestBench) -> None:
        bench.advance(run_id, by="1d")

    threads = [threading.Thread(target=advance, args=(bench,)) for bench in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert second.state(run_id)["now"] == start + timedelta(days=5)


def test_a_run_left_alone_expires_and_a_deleted_run_is_gone(engine, directory):
    bench = TestBench(engine, directory, ttl=timedelta(hours=1))
    old, fresh = _robots_run(bench), _robots_run(bench)
    two_hours_ago = time.time() - 7200
    os.utime(directory / f"{old}.json", (two_hours_ago, two_hours_ago))
    with bench._exclusive(old):  # another request (here, or in another process) is using it
        assert TestBench(engine, directory, ttl=timedelta(hours=1)).expire() == []
    assert bench.expire() == [old]
    assert sorted(p.name for p in directory.iterdir() if p.name.startswith(str(old))) == []
    with pytest.raises(UnknownRun):
        bench.state(old)
    assert bench.state(fresh)["id"] == fresh
    bench.delete(fresh)
    assert list(directory.iterdir()) == []


def test_a_refused_run_leaves_no_files(engine, directory):
    bench = TestBench(engine, directory)
    with pytest.raises(InvalidRunInput) as refused:
        bench.create(kind="process", process="send_to_bank", deal=FORM, cause=CAUSE)
    assert refused.value.details == {"process": "no process 'send_to_bank' is deployed"}
    assert list(directory.iterdir()) == []


def test_a_process_run_without_robots_copies_no_automation(engine, directory):
    engine.deploy((BPMN / "send_to_bank.bpmn").read_text(encoding="utf-8"))
    save_shipped_automation(engine, SHIPPED_AUTOMATION)
    form = {**FORM, "stage": "main.product_agreement",
            "fields": {"credit_type": "credit", "bank": "Sber", "id_document": "1", "term_months": 3,
                       "down_payment": 0}}
    params = {"ready_date": "2026-01-07T10:00:00Z"}
    with_robots = TestBench(engine, directory).create(kind="process", process="send_to_bank", deal=form,
                                                      params=params, cause=CAUSE)
    alone = TestBench(engine, directory).create(kind="process", process="send_to_bank", deal=form, params=params,
                                                robots=False, cause=CAUSE)
    assert [j["robot"] for j in with_robots["jobs"]] == ["remind-at-the-ready-date"]
    assert alone["jobs"] == [] and alone["deal"]["stage_ref"] == "credit.new"


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59, "59s"), (3600, "1h"), (90061, "1d 1h 1m 1s")])
def test_durations_are_written_the_way_robots_are(seconds, text):
    assert format_duration(timedelta(seconds=seconds)) == text
