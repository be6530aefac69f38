"""`dealflow worker` as an operator runs it: several processes on one SQLite file share the jobs,
each runs once, and SIGTERM stops a worker cleanly; a worker SIGKILLed in the middle of a job
keeps it while alive and has it taken over once it is dead (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import tests.chaos.slow  # noqa: F401  (registers slow_step here too, for the deploy check)
from api.wiring import build_engine, prepare_database
from crm.db import Database
from crm.models import Notification
from engine.models import HistoryEntry, Job, ProcessInstance
from tests.conftest import POSTGRES_URL
from tests.support.bpmn import Bpmn
from tests.support.world import make_deal

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
INSTANCES = 12
PROCESS = (Bpmn("nap").start().timer_catch("sleep", duration="1s")
           .service("wake", "notify", to='"head.north"', text='"Woke up"').end()
           .chain("start", "sleep", "wake", "end").xml())


def start_worker(url: str, log: Path, **extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DEALFLOW_DATABASE_URL": url,
           "DEALFLOW_SCHEDULER_INTERVAL": "0.2", "DEALFLOW_JOB_BATCH": "2", **extra}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def wait_started(log: Path, timeout: float = 60) -> None:
    """Until the worker says it runs: it prints that line after installing its SIGTERM handler,
    so a signal sent later is a stop request, not the default kill of a process still importing."""
    deadline = time.monotonic() + timeout
    while b"dealflow worker" not in log.read_bytes():
        assert time.monotonic() < deadline, f"{log.name}: the worker did not start"
        time.sleep(0.1)


def test_two_worker_processes_on_sqlite_run_every_timer_once_and_stop_on_sigterm(tmp_path):
    url = f"sqlite:///{tmp_path / 'workers.sqlite3'}"
    engine = build_engine(Database(url))
    prepare_database(engine, demo=True, templates_dir=None, automation_dir=None)
    engine.deploy(PROCESS)
    ids = [engine.start("nap", make_deal(engine)).id for _ in range(INSTANCES)]
    workers = [start_worker(url, tmp_path / f"worker-{n}.log") for n in range(2)]
    try:
        for n in range(2):
            wait_started(tmp_path / f"worker-{n}.log")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with engine.db.transaction() as session:
                pending = session.scalar(select(func.count()).select_from(Job).where(Job.status == "pending"))
            if not pending:
                break
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=30) for worker in workers]
    logs = [(tmp_path / f"worker-{n}.log").read_text() for n in range(2)]
    assert codes == [0, 0], logs
    assert all("stopped" in log for log in logs)
    with engine.db.transaction() as session:
        statuses = set(session.scalars(select(ProcessInstance.status).where(ProcessInstance.id.in_(ids))))
        woke = session.scalar(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.element_id == "wake", HistoryEntry.outcome == "completed"))
    assert statuses == {"completed"}
    assert woke == INSTANCES


SLOW = (Bpmn("slow").start().timer_catch("sleep", duration="1s").service("work", "slow_step")
        .service("done", "notify", to='"head.north"', text='"Slow work done"').end()
        .chain("start", "sleep", "work", "done", "end").xml())
TAKEOVER_LEASE = 2.0


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """A database the worker processes can open by URL: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'takeover.sqlite3'}"
        return
    schema = f"dealflow_takeover_{uuid.uuid4().hex[:10]}"
    admin = Database(POSTGRES_URL)
    with admin.transaction() as session:
        session.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.transaction() as session:
            session.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.1)


def test_a_worker_killed_mid_job_keeps_it_while_alive_and_another_takes_it_over_once(database_url, tmp_path):
    engine = build_engine(Database(database_url))
    prepare_database(engine, demo=True, templates_dir=None, automation_dir=None)
    engine.deploy(SLOW)
    instance_id = engine.start("slow", make_deal(engine)).id
    runs = tmp_path / "slow.log"
    env = {"DEALFLOW_JOB_LEASE": str(TAKEOVER_LEASE), "DEALFLOW_ACTION_MODULES": "tests.chaos.slow",
           "DEALFLOW_SLOW_LOG": str(runs)}

    def ran_by() -> list[int]:
        return [int(pid) for pid in runs.read_text().split()] if runs.exists() else []

    def status() -> str:
        with engine.db.sessions() as session:
            return session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == instance_id))

    first = start_worker(database_url, tmp_path / "first.log", **env)
    second = None
    try:
        wait_for(lambda: ran_by() == [first.pid], "the first worker starts the slow step")
        second = start_worker(database_url, tmp_path / "second.log", **env)
        wait_for(lambda: "dealflow worker " in (tmp_path / "second.log").read_text(), "the second worker starts")
        time.sleep(TAKEOVER_LEASE * 2)  # the first worker, alive, keeps its job for longer than a lease
        assert ran_by() == [first.pid] and status() == "running"

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        wait_for(lambda: status() == "completed", "the second worker takes the job over")
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)
    assert ran_by() == [first.pid, second.pid]
    with engine.db.sessions() as session:
        done = session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.text == "Slow work done"))
        steps = session.scalar(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.instance_id == instance_id, HistoryEntry.element_id == "work",
            HistoryEntry.outcome == "completed"))
        pending = session.scalar(select(func.count()).select_from(Job).where(Job.status == "pending"))
    assert (done, steps, pending) == (1, 1, 0)  # the job's effects committed once, by the second worker
    engine.db.dispose()
