"""Takeover bench: how late the jobs of a SIGKILLed `dealflow worker` run, on PostgreSQL.

For each lease (DEALFLOW_JOB_LEASE; "default" leaves it unset, so the code's default applies)
the bench builds a fresh schema with N delayed robots waiting (bench/workers.py's world),
starts two `dealflow worker` processes, makes the robots due at a steady `--rate`, and
SIGKILLs the first worker `--kill-after` seconds after the first due time, while it holds a
claimed batch. The jobs it held are the orphans: the second worker must take them over once
their claims expire. The bench reports, per lease: how many jobs the dead worker held, how
long after the kill the first of them ran, their lateness (finished_at - due_at: median, p99,
max) and the p99 lateness of every other job, and checks every robot ran exactly once.

`--code DIR` starts the workers from another checkout of dealflow (the schema is built by
this one), so the same bench measures an older version: e.g. the code before claims had a
heartbeat, `git archive <commit> | tar -x -C /tmp/before`.

    python bench/takeover.py [--jobs 2000] [--rate 200] [--leases default,3] [--code DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, machine, percentile, postgres_schema  # also puts the project root first on sys.path
from sqlalchemy import func, select, text
from workers import DEFAULT_URL, bring_due, build_world

from crm.db import Database
from engine.models import Job
from robots.models import AutomationLogEntry
from robots.runtime import ROBOT_JOB


@dataclass
class Result:
    lease: str
    code: str
    jobs: int
    orphans: int
    first_takeover_after_kill_s: float
    orphan_late_median_s: float
    orphan_late_p99_s: float
    orphan_late_max_s: float
    others_late_p99_s: float
    ran: int
    load_average_1m: float


def start_worker(code: Path, url: str, log: Path, lease: str, interval: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(code), "PYTHONUNBUFFERED": "1", "DEALFLOW_DATABASE_URL": url,
           "DEALFLOW_SCHEDULER_INTERVAL": str(interval)}
    env.pop("DEALFLOW_REDIS_URL", None)
    env.pop("DEALFLOW_JOB_LEASE", None)
    if lease != "default":
        env["DEALFLOW_JOB_LEASE"] = lease
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], cwd=code, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def worker_id(log: Path, timeout: float = 60.0) -> str:
    """The worker's claim name, from its start line `dealflow worker <id> (database ...)`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("dealflow worker "):
                return line.split()[2]
        time.sleep(0.05)
    raise RuntimeError(f"worker did not start:\n{log.read_text(errors='replace')}")


def run_once(url: str, code: Path, lease: str, jobs: int, rate: float, kill_after: float, interval: float,
             logdir: Path) -> Result:
    with postgres_schema(url, "dealflow_bench_takeover") as scoped:
        build_world(scoped, jobs)
        db = Database(scoped)
        logs = [logdir / f"takeover-{lease}-{n}.log" for n in range(2)]
        procs = [start_worker(code, scoped, log, lease, interval) for log in logs]
        try:
            victim = worker_id(logs[0])
            worker_id(logs[1])
            first_due = datetime.now(UTC) + timedelta(seconds=2)
            with db.transaction() as session:
                bring_due(session, first_due, rate)
            while datetime.now(UTC) < first_due + timedelta(seconds=kill_after):
                time.sleep(0.02)
            while True:  # kill it while it holds a batch
                with db.sessions() as session:
                    held = session.scalar(select(func.count()).select_from(Job).where(
                        Job.claimed_by == victim, Job.status == "pending"))
                if held:
                    break
                time.sleep(0.005)
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait()
            killed_at = datetime.now(UTC)
            with db.sessions() as session:
                orphans = list(session.scalars(select(Job.id).where(Job.claimed_by == victim,
                                                                    Job.status == "pending")))
            deadline = time.monotonic() + jobs / rate + 600
            while True:
                with db.sessions() as session:
                    pending = session.scalar(select(func.count()).select_from(Job).where(Job.status == "pending"))
                if not pending:
                    break
                if time.monotonic() > deadline or procs[1].poll() is not None:
                    raise RuntimeError(f"{pending} jobs still pending:\n{logs[1].read_text(errors='replace')}")
                time.sleep(0.1)
            load = os.getloadavg()[0]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        try:
            with db.sessions() as session:
                rows = session.execute(text(
                    "SELECT id, extract(epoch FROM finished_at - due_at), finished_at FROM jobs "
                    "WHERE kind = :kind AND status = 'done'"), {"kind": ROBOT_JOB}).all()
                ran = session.scalar(select(func.count()).select_from(AutomationLogEntry).where(
                    AutomationLogEntry.kind == "robot", AutomationLogEntry.outcome == "ran"))
        finally:
            db.dispose()
    orphan_ids = set(orphans)
    orphan_late = [float(r[1]) for r in rows if r[0] in orphan_ids]
    other_late = [float(r[1]) for r in rows if r[0] not in orphan_ids]
    takeover = min((r[2] for r in rows if r[0] in orphan_ids), default=killed_at)
    return Result(lease=lease, code=str(code), jobs=jobs, orphans=len(orphans),
                  first_takeover_after_kill_s=(takeover - killed_at).total_seconds(),
                  orphan_late_median_s=percentile(orphan_late, 50) if orphan_late else 0.0,
                  orphan_late_p99_s=percentile(orphan_late, 99) if orphan_late else 0.0,
                  orphan_late_max_s=max(orphan_late, default=0.0),
                  others_late_p99_s=percentile(other_late, 99) if other_late else 0.0,
                  ran=ran, load_average_1m=load)


def print_table(results: list[Result], rate: float) -> None:
    print(f"\na `dealflow worker` SIGKILLed while holding a batch, a second one taking over; due at {rate:g}/s")
    print(f"{'lease':>8} {'orphans':>8} {'takeover after kill s':>22} {'orphan late median s':>21} "
          f"{'orphan late p99 s':>18} {'orphan late max s':>18} {'others late p99 s':>18} {'ran once':>9}  code")
    for r in results:
        print(f"{r.lease:>8} {r.orphans:8d} {r.first_takeover_after_kill_s:22.2f} {r.orphan_late_median_s:21.2f} "
              f"{r.orphan_late_p99_s:18.2f} {r.orphan_late_max_s:18.2f} {r.others_late_p99_s:18.2f} "
              f"{'yes' if r.ran == r.jobs else 'NO':>9}  {r.code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL URL (a fresh schema per run)")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="due jobs per second")
    parser.add_argument("--leases", default="default",
                        help="DEALFLOW_JOB_LEASE values, comma-separated; 'default' leaves it unset")
    parser.add_argument("--kill-after", type=float, default=2.0,
                        help="seconds after the first due time the first worker is killed")
    parser.add_argument("--interval", type=float, default=0.1, help="DEALFLOW_SCHEDULER_INTERVAL of the workers")
    parser.add_argument("--code", type=Path, default=ROOT, help="the dealflow checkout the workers run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as logdir:
        for lease in args.leases.split(","):
            print(f"lease {lease}: {args.jobs} robots due at {args.rate:g}/s, code {args.code} ...", flush=True)
            results.append(run_once(args.url, args.code.resolve(), lease, args.jobs, args.rate, args.kill_after,
                                    args.interval, Path(logdir)))
    print_table(results, args.rate)
    if args.json:
        payload = {"bench": "takeover", "runs": [asdict(r) for r in results], "machine": machine(args.url),
                   "settings": {"jobs": args.jobs, "rate": args.rate, "kill_after_s": args.kill_after,
                                "scheduler_interval": args.interval}}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
