"""Memory benchmark: a worker's peak memory with 0, 10,000 and 1,000,000 waiting jobs.

Waiting timers and delayed robots are rows in the jobs table; the job loop asks the database
only for the jobs due now, a batch at a time. So a worker's memory should not depend on how
many jobs are waiting. To see that, each size gets a fresh database with:

- 1,000 real delayed robots ("follow up after 1d"), scheduled through real stage moves, then
  made due now, so the worker has work to do while the waiting rows sit there;
- N waiting robot jobs, copies of one of those real job rows (same payload), due 1 to 30
  days from now, inserted in bulk (a seed of up to 10,000 rows with executemany, then
  INSERT ... SELECT doubling) — set-up, not measured.

A fresh worker process then runs the job loop (the same JobLoop and outbox duty as
`dealflow run`, without the web server) until the due robots have fired and a few ticks have
found nothing due, and reports its peak resident memory (VmHWM). The baseline
is the same with N = 0; the figure is the growth over it.

    python bench/memory.py [--waiting 10000,1000000] [--postgres URL] [--no-sqlite] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import ROOT, bulk_deals, machine, postgres_schema, rss_mib, write_json
from sqlalchemy import func, insert, select, update

from api.wiring import build_engine, outbox_delivery, prepare_database
from crm.db import Database
from crm.events import Cause
from engine.models import Job
from engine.scheduler import JobLoop
from tests.support.automation import save

AUTOMATION = '''pipeline main "Sales"

stage product_agreement:
  robot "follow up" after 1d:
    notify(deal.responsible, "Follow up {deal.title}")
'''
CAUSE = Cause("user", None, "bench")
SEED = 10_000
IDLE_TICKS = 3


def prepare(url: str, due: int, waiting: int) -> dict[str, Any]:
    """A database with `due` robots due now and `waiting` robot jobs due later; seconds taken."""
    start = time.perf_counter()
    db = Database(url)
    engine = build_engine(db)
    prepare_database(engine, demo=True, templates_dir=None, automation_dir=None)
    save(engine, "main", AUTOMATION)
    deal_ids = bulk_deals(engine, due, "due")
    with engine.unit() as rt:
        for deal_id in deal_ids:
            rt.crm.move_deal(rt.crm.deal(deal_id), "product_agreement", cause=CAUSE)
    with engine.unit() as rt:
        template = rt.session.scalars(select(Job).where(Job.kind == "robot", Job.status == "pending")).first()
        # The real robots are due a day after their move, so at or before `boundary`; the
        # waiting copies come after it, spread over 30 days.
        boundary = rt.clock.now() + timedelta(days=1)
        now = rt.clock.now()
        seed = [{"kind": template.kind, "status": "pending", "due_at": boundary + timedelta(minutes=1 + n % 43_200),
                 "deal_id": 10_000_000 + n, "element_id": template.element_id, "payload": template.payload,
                 "attempts": 0, "created_at": now} for n in range(min(waiting, SEED))]
        for offset in range(0, len(seed), 5000):
            rt.session.execute(insert(Job), seed[offset:offset + 5000])
    columns = ("kind", "status", "due_at", "deal_id", "element_id", "payload", "attempts", "created_at")
    while True:
        with engine.unit() as rt:
            have = rt.session.scalar(select(func.count()).select_from(Job).where(Job.due_at > boundary))
            if have >= waiting:
                break
            copies = (select(*(getattr(Job, c) for c in columns))
                      .where(Job.due_at > boundary).limit(waiting - have))
            rt.session.execute(insert(Job).from_select(columns, copies))
    with engine.unit() as rt:
        rt.session.execute(update(Job).where(Job.kind == "robot", Job.status == "pending", Job.due_at <= boundary)
                           .values(due_at=rt.clock.now() - timedelta(seconds=1)))
        pending = rt.session.scalar(select(func.count()).select_from(Job).where(Job.status == "pending"))
    db.dispose()
    return {"prepare_seconds": time.perf_counter() - start, "pending_before": pending}


def worker(url: str) -> dict[str, Any]:
    """Run the job loop until nothing is due for a few ticks; peak memory of this process."""
    db = Database(url)
    engine = build_engine(db)
    loop = JobLoop(engine, also=[outbox_delivery(engine)])
    with engine.unit() as rt:  # connected and mapped, nothing run yet
        due = rt.session.scalar(select(func.count()).select_from(Job).where(Job.status == "pending",
                                                                              Job.due_at <= rt.clock.now()))
    ready = rss_mib()
    start = time.perf_counter()
    ran, idle = 0, 0
    while idle < IDLE_TICKS:
        done = loop.tick()
        ran += done
        idle = idle + 1 if done == 0 else 0
    seconds = time.perf_counter() - start
    with engine.unit() as rt:
        pending = rt.session.scalar(select(func.count()).select_from(Job).where(Job.status == "pending"))
    db.dispose()
    return {"due_at_start": due, "ran": ran, "seconds": seconds, "pending_after": pending, "rss_ready_mib": ready,
            "peak_rss_mib": peak_rss_mib()}


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM). Not getrusage's ru_maxrss: on Linux that
    survives exec, so a fresh worker would report its parent's peak at fork time."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def measure(label: str, url_for: Any, sizes: list[int], due: int) -> list[dict[str, Any]]:
    rows = []
    for waiting in [0, *sizes]:
        with url_for() as url:
            row = {"database": label, "waiting": waiting, "due": due, **prepare(url, due, waiting)}
            env = {**os.environ, "DEALFLOW_DATABASE_URL": url}
            done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker"], cwd=ROOT, env=env,
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"worker failed:\n{done.stderr}")
            row.update(json.loads(done.stdout.strip().splitlines()[-1]))
        rows.append(row)
        print(f"{label:10} {waiting:>10,} {row['pending_before']:>10,} {row['ran']:>6} {row['seconds']:8.1f} "
              f"{row['rss_ready_mib']:10.1f} {row['peak_rss_mib']:9.1f} {row['prepare_seconds']:9.0f}", flush=True)
    return rows


class _SqliteFile:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def __call__(self) -> _SqliteFile:
        return self

    def __enter__(self) -> str:
        self.path = self.workdir / f"memory-{time.monotonic_ns()}.sqlite3"
        return f"sqlite:///{self.path}"

    def __exit__(self, *_exc: object) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", default="10000,1000000", help="waiting jobs per run, comma separated")
    parser.add_argument("--due", type=int, default=1000, help="robots due now that the worker fires")
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (a fresh schema per size)")
    parser.add_argument("--sqlite-waiting", help="sizes on SQLite if different from --waiting")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(os.environ["DEALFLOW_DATABASE_URL"])))
        return
    sizes = [int(n) for n in args.waiting.split(",")]
    sqlite_sizes = [int(n) for n in args.sqlite_waiting.split(",")] if args.sqlite_waiting else sizes
    print(f"{'database':10} {'waiting':>10} {'pending':>10} {'fired':>6} {'loop s':>8} {'ready MiB':>10} "
          f"{'peak MiB':>9} {'set-up s':>9}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            rows += measure("SQLite", _SqliteFile(Path(tmp)), sqlite_sizes, args.due)
    if args.postgres:
        rows += measure("PostgreSQL", lambda: postgres_schema(args.postgres, "dealflow_bench_memory"), sizes,
                        args.due)
    for label in dict.fromkeys(row["database"] for row in rows):
        mine = [row for row in rows if row["database"] == label]
        base = mine[0]["peak_rss_mib"]
        for row in mine:
            row["growth_mib"] = row["peak_rss_mib"] - base
        print(f"{label}: peak memory growth over no waiting jobs: "
              + ", ".join(f"{row['waiting']:,} → {row['growth_mib']:+.1f} MiB" for row in mine[1:]))
    write_json(args.json, {"bench": "memory", "rows": rows, "machine": machine(args.postgres)})


if __name__ == "__main__":
    main()
