"""Engine benchmark: dealflow on SQLite (and PostgreSQL) against raw SpiffWorkflow in memory.

The same BPMN runs both ways: raw SpiffWorkflow with its own Python script engine and no
storage, and dealflow with the dsl evaluator, one committed transaction per instance
(instance state, history, CRM-free). The figure that matters is the per-instance ratio,
measured in one run on one machine; absolute numbers vary from machine to machine.

    python bench/engine.py [--instances 500] [--postgres URL] [--json PATH]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import machine, postgres_schema, write_json
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


def sqlite_run(n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        try:
            return dealflow(db, n)
        finally:
            db.dispose()


def postgres_run(url: str, n: int) -> float:
    with postgres_schema(url, "dealflow_bench_engine") as schema_url:
        db = Database(schema_url)
        try:
            return dealflow(db, n)
        finally:
            db.dispose()


def measure(n: int, runs: int, postgres: str | None) -> dict[str, Any]:
    """Seconds for `n` instances, best of `runs`, per variant; ratios against raw SpiffWorkflow."""
    raw = best_of(runs, lambda: raw_spiff(n))
    rows = [("raw SpiffWorkflow, in memory", raw),
            ("dealflow on SQLite (file, WAL)", best_of(runs, lambda: sqlite_run(n)))]
    if postgres:
        rows.append(("dealflow on PostgreSQL", best_of(runs, lambda: postgres_run(postgres, n))))
    return {"bench": "engine", "instances": n, "runs": runs, "variants": [
        {"name": name, "seconds": seconds, "per_instance_ms": seconds / n * 1000, "instances_per_s": n / seconds,
         "ratio": seconds / raw} for name, seconds in rows]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (a scratch schema is used)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    results = measure(args.instances, args.runs, args.postgres)
    print(f"{args.instances} instances of a 10-element process, best of {args.runs} runs")
    print(f"{'variant':34} {'total s':>9} {'per instance ms':>16} {'instances/s':>12} {'ratio':>7}")
    for row in results["variants"]:
        print(f"{row['name']:34} {row['seconds']:9.3f} {row['per_instance_ms']:16.3f} {row['instances_per_s']:12.0f} "
              f"{row['ratio']:6.2f}x")
    results["machine"] = machine(args.postgres)
    write_json(args.json, results)


if __name__ == "__main__":
    main()
