"""Engine benchmark: dealflow on SQLite (and PostgreSQL) against raw SpiffWorkflow in memory.

The same BPMN runs both ways: raw SpiffWorkflow with its own Python script engine and no
storage, and dealflow with the dsl evaluator, one committed transaction per instance
(instance state, history, CRM-free). The figure that matters is the per-instance ratio,
measured in one run on one machine; absolute numbers vary from machine to machine.

    python bench/engine.py [--instances 500] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from api.migrations import upgrade
from crm.clock import VirtualClock
from crm.db import Database
from engine.engine import Engine
from robots.actions import registry
from tests.support.bpmn import Bpmn

# Ten elements: start, six scripts, a split and a join gateway, end. The texts are valid
# both as Python (for raw Spiff) and as dsl (for dealflow).
PROCESS = (
    Bpmn("bench").start().script("a", "x = 1").script("b", "y = x + 1").xor("split", default="flow_low")
    .script("high", "z = y * 2").script("low", "z = y").xor("join").script("c", "w = z + x")
    .script("d", "v = w - 1").end()
    .chain("start", "a", "b", "split").flow("split", "high", "y > 1").flow("split", "low", flow_id="flow_low")
    .chain("high", "join").chain("low", "join").chain("join", "c", "d", "end").xml()
)


def raw_spiff(n: int) -> float:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(PROCESS.encode())
    spec, subs = parser.get_spec("bench"), parser.get_subprocess_specs("bench")
    start = time.perf_counter()
    for _ in range(n):
        workflow = BpmnWorkflow(spec, subs)
        workflow.do_engine_steps()
        assert workflow.is_completed()
    return time.perf_counter() - start


def dealflow(db: Database, n: int) -> float:
    upgrade(db)
    engine = Engine(db, VirtualClock(), registry)
    engine.deploy(PROCESS)
    engine.start("bench", None)  # warm the spec cache and connection pool
    start = time.perf_counter()
    for _ in range(n):
        instance = engine.start("bench", None)
        assert instance.status == "completed"
    return time.perf_counter() - start


def best_of(runs: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (a scratch schema is used)")
    args = parser.parse_args()
    n = args.instances

    raw = best_of(args.runs, lambda: raw_spiff(n))
    rows = [("raw SpiffWorkflow, in memory", raw)]
    with tempfile.TemporaryDirectory() as tmp:
        def sqlite_run() -> float:
            path = Path(tmp) / f"bench-{time.monotonic_ns()}.sqlite3"
            db = Database(f"sqlite:///{path}")
            try:
                return dealflow(db, n)
            finally:
                db.dispose()

        rows.append(("dealflow on SQLite (file, WAL)", best_of(args.runs, sqlite_run)))
    if args.postgres:
        rows.append(("dealflow on PostgreSQL", best_of(args.runs, lambda: postgres_run(args.postgres, n))))

    print(f"{n} instances of a 10-element process, best of {args.runs} runs")
    print(f"{'variant':34} {'total s':>9} {'per instance ms':>16} {'instances/s':>12} {'ratio':>7}")
    for name, seconds in rows:
        per = seconds / n * 1000
        print(f"{name:34} {seconds:9.3f} {per:16.3f} {n / seconds:12.0f} {seconds / raw:6.2f}x")
    ratios = [seconds / raw for _, seconds in rows[1:]]
    print(f"median ratio against raw SpiffWorkflow: {statistics.median(ratios):.2f}x")


def postgres_run(url: str, n: int) -> float:
    from sqlalchemy import text

    schema = f"dealflow_bench_{time.monotonic_ns()}"
    admin = Database(url)
    with admin.transaction() as session:
        session.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        return dealflow(db, n)
    finally:
        db.dispose()
        with admin.transaction() as session:
            session.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
