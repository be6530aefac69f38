"""Cost as the work grows (issue 14, goal 5): one more step of an instance with 10 or 10,000
history rows, and one instance's whole life with 1,000 or 1,000,000 deals in the database.

SpiffArena's users report per-task writes that grow with the instance (O(n²) over its life);
here the cost of a step must not depend on how much history the instance already has, nor on
how many deals the database holds. Both are measured the way bench/engine.py measures:
interleaved rounds, medians, statements counted besides milliseconds.

- **History**: a process that loops on a user task (start → work → again? → work ...) gets an
  instance per size; each instance's history is filled to the size with rows inserted in bulk
  (set-up, not measured), then every round completes each instance's CRM task once (the
  instance takes one more step to its next user task) and times it. Every instance takes the
  same steps, so Spiff's own task tree is the same size for all of them: only the history differs.
- **Deals**: two databases with the demo world, one with the small and one with the big number
  of deals (inserted in bulk with Core); every round starts a process on a random deal of each
  (a script reads the deal, a user task makes the deal's CRM task) and completes its task.

    python bench/growth.py [--history 10,10000] [--deals 1000,100000] [--rounds 15] [--json PATH]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import machine, write_json
from sqlalchemy import func, insert, select

from api.wiring import build_engine, prepare_database
from crm.clock import VirtualClock
from crm.db import Database
from crm.events import Cause
from crm.models import Deal
from engine.engine import Engine
from engine.models import HistoryEntry
from tests.support.bpmn import Bpmn
from tests.support.statements import statements_sent

LOOP = (
    Bpmn("growth_loop").start().user("work").xor("again", default="flow_more").end()
    .chain("start", "work", "again").flow("again", "end", "task_result.stop == true")
    .flow("again", "work", flow_id="flow_more").xml()
)
ON_DEAL = (
    Bpmn("growth_deal").start().script("read", "amount = deal.amount").user("call").end()
    .chain("start", "read", "call", "end").xml()
)
CAUSE = Cause.system("bench")
#: Issue 14, goal 5: the biggest size costs at most this much more than the smallest.
FLAT = 1.2


@contextmanager
def world(path: Path) -> Iterator[tuple[Database, Engine]]:
    db = Database(f"sqlite:///{path}")
    try:
        engine = build_engine(db, VirtualClock())
        prepare_database(engine, demo=True, templates_dir=None, automation_dir=None)
        for xml in (LOOP, ON_DEAL):
            engine.deploy(xml)
        yield db, engine
    finally:
        db.dispose()


def open_task(engine: Engine, instance_id: int) -> int:
    with engine.unit() as rt:
        (task_id,) = rt.instance(instance_id).derived["tasks"].values()
        return int(task_id)


def complete(engine: Engine, task_id: int) -> None:
    with engine.unit() as rt:
        rt.crm.complete_task(rt.crm.task(task_id), cause=CAUSE)


# ---------------------------------------------------------------------------------------------- history


def fill_history(engine: Engine, instance_id: int, rows: int) -> None:
    """Bring the instance's history to `rows` rows with rows like the ones its steps write."""
    with engine.unit() as rt:
        have = rt.session.scalar(select(func.count()).where(HistoryEntry.instance_id == instance_id)) or 0
        now = rt.clock.now()
        batch = [{"instance_id": instance_id, "at": now, "element_id": "work", "element_name": "work",
                  "element_type": "UserTask", "outcome": "completed", "detail": {}} for _ in range(rows - have)]
        for start in range(0, len(batch), 5000):
            rt.session.execute(insert(HistoryEntry.__table__), batch[start:start + 5000])


def history_growth(sizes: list[int], rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, world(Path(tmp) / "history.sqlite3") as (db, engine):
        instances = {size: engine.start("growth_loop", None).id for size in sizes}
        for size, instance_id in instances.items():
            fill_history(engine, instance_id, size)
        # Also fill the table around them, as a database that has run for a while would be.
        filler = engine.start("growth_loop", None).id
        fill_history(engine, filler, max(sizes) * 10)
        samples: dict[int, list[float]] = {size: [] for size in sizes}
        statements: dict[int, list[int]] = {size: [] for size in sizes}
        for _ in range(rounds):
            for size, instance_id in instances.items():
                task_id = open_task(engine, instance_id)
                with statements_sent(db.engine) as count:
                    start = time.perf_counter()
                    complete(engine, task_id)
                    samples[size].append((time.perf_counter() - start) * 1000)
                statements[size].append(len(count))
        rows = [{"history_rows": size, "step_ms": statistics.median(samples[size]),
                 "statements": statistics.median(statements[size])} for size in sizes]
    return _verdict(rows, "history_rows", "step_ms")


# ---------------------------------------------------------------------------------------------- deals


def add_deals(engine: Engine, count: int) -> None:
    """`count` deals on main.new, inserted with Core in batches (set-up, not measured)."""
    with engine.unit() as rt:
        new = rt.crm.stage("main.new")
        responsible = rt.crm.user("manager.north1").id
        now = rt.clock.now()
        have = rt.session.scalar(select(func.count(Deal.id))) or 0
        for start in range(have, count, 20000):
            rows = [{"title": f"growth {n}", "amount": 1000 + n % 500, "currency": "RUB",
                     "pipeline_id": new.pipeline_id, "stage_id": new.id, "responsible_id": responsible,
                     "products": [], "fields": {}, "created_at": now, "updated_at": now, "stage_entered_at": now,
                     "is_sandbox": False, "version": 1} for n in range(start, min(count, start + 20000))]
            rt.session.execute(insert(Deal.__table__), rows)


def deal_ids(engine: Engine) -> tuple[int, int]:
    with engine.unit() as rt:
        low, high = rt.session.execute(select(func.min(Deal.id), func.max(Deal.id))).one()
        return int(low), int(high)


def one_life(engine: Engine, deal_id: int) -> None:
    instance = engine.start("growth_deal", deal_id)
    (task_id,) = instance.derived["tasks"].values()
    complete(engine, int(task_id))


def deals_growth(sizes: list[int], rounds: int, per_round: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        worlds = {}
        with _worlds(Path(tmp), sizes) as built:
            for size, (db, engine) in built.items():
                add_deals(engine, size)
                worlds[size] = (db, engine, deal_ids(engine))
                one_life(engine, worlds[size][2][0])  # warm the caches
            pick = random.Random(14)
            samples: dict[int, list[float]] = {size: [] for size in sizes}
            statements: dict[int, list[int]] = {size: [] for size in sizes}
            for _ in range(rounds):
                for size, (db, engine, (low, high)) in worlds.items():
                    chosen = [pick.randint(low, high) for _ in range(per_round)]
                    with statements_sent(db.engine) as count:
                        start = time.perf_counter()
                        for deal_id in chosen:
                            one_life(engine, deal_id)
                        samples[size].append((time.perf_counter() - start) * 1000 / per_round)
                    statements[size].append(len(count) // per_round)
            rows = [{"deals": size, "instance_ms": statistics.median(samples[size]),
                     "statements": statistics.median(statements[size])} for size in sizes]
    return _verdict(rows, "deals", "instance_ms")


@contextmanager
def _worlds(tmp: Path, sizes: list[int]) -> Iterator[dict[int, tuple[Database, Engine]]]:
    managers = {size: world(tmp / f"deals_{size}.sqlite3") for size in sizes}
    try:
        yield {size: manager.__enter__() for size, manager in managers.items()}
    finally:
        for manager in managers.values():
            manager.__exit__(None, None, None)


def _verdict(rows: list[dict[str, Any]], size_key: str, cost_key: str) -> dict[str, Any]:
    smallest, biggest = min(rows, key=lambda r: r[size_key]), max(rows, key=lambda r: r[size_key])
    growth = biggest[cost_key] / smallest[cost_key]
    return {"rows": rows, "growth": growth, "flat": growth <= FLAT,
            "statements_flat": biggest["statements"] <= smallest["statements"]}


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", default="10,10000", help="history rows on the instance, comma-separated")
    parser.add_argument("--deals", default="1000,100000", help="deals in the database, comma-separated")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=20, help="instances per database and round (deals)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    history = history_growth(_sizes(args.history), args.rounds)
    print(f"one more step of an instance, by the history it has ({args.rounds} interleaved rounds, medians)")
    print(f"{'history rows':>14} {'ms per step':>12} {'statements':>11}")
    for row in history["rows"]:
        print(f"{row['history_rows']:14,} {row['step_ms']:12.3f} {row['statements']:11.0f}")
    print(f"growth {history['growth']:.2f}x (goal ≤ {FLAT}x): {'met' if history['flat'] else 'NOT MET'}\n")
    deals = deals_growth(_sizes(args.deals), args.rounds, args.per_round)
    print(f"one instance's life on a random deal, by the deals in the database ({args.rounds} rounds of "
          f"{args.per_round}, medians)")
    print(f"{'deals':>14} {'ms/instance':>12} {'statements':>11}")
    for row in deals["rows"]:
        print(f"{row['deals']:14,} {row['instance_ms']:12.3f} {row['statements']:11.0f}")
    print(f"growth {deals['growth']:.2f}x (goal ≤ {FLAT}x): {'met' if deals['flat'] else 'NOT MET'}")
    write_json(args.json, {"bench": "growth", "rounds": args.rounds, "history": history, "deals": deals,
                           "machine": machine()})


if __name__ == "__main__":
    main()
