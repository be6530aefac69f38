"""`dealflow worker` as an operator runs it: several processes on one SQLite file share the jobs,
each runs once, and SIGTERM stops a worker cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from api.wiring import build_engine, prepare_database
from crm.db import Database
from engine.models import HistoryEntry, Job, ProcessInstance
from tests.support.bpmn import Bpmn
from tests.support.world import make_deal

ROOT = Path(__file__).resolve().parents[2]
INSTANCES = 12
PROCESS = (Bpmn("nap").start().timer_catch("sleep", duration="1s")
           .service("wake", "notify", to='"head.north"', text='"Woke up"').end()
           .chain("start", "sleep", "wake", "end").xml())


def start_worker(url: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DEALFLOW_DATABASE_URL": url,
           "DEALFLOW_SCHEDULER_INTERVAL": "0.2", "DEALFLOW_JOB_BATCH": "2"}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def test_two_worker_processes_on_sqlite_run_every_timer_once_and_stop_on_sigterm(tmp_path):
    url = f"sqlite:///{tmp_path / 'workers.sqlite3'}"
    engine = build_engine(Database(url))
    prepare_database(engine, demo=True, templates_dir=None, automation_dir=None)
    engine.deploy(PROCESS)
    ids = [engine.start("nap", make_deal(engine)).id for _ in range(INSTANCES)]
    workers = [start_worker(url, tmp_path / f"worker-{n}.log") for n in range(2)]
    try:
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
