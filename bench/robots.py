"""Robots benchmark: stage move → immediate robot latency, and scheduling many delayed robots.

1. Latency: 1,000 deals are moved one by one (one transaction each) into a stage whose robot
   notifies the manager immediately; the baseline is the same move into a stage with no
   robots, measured in the same run. Median and 99th percentile, and their ratio.
2. Scheduling: N deals (100,000 by default) are moved into a stage with a robot "after 1d";
   each move schedules one job row. Time per robot, and the process's resident memory after
   10% and after 100% of them: waiting robots are rows, so memory should stay flat.

    python bench/robots.py [--deals 1000] [--robots 100000] [--batch 1000] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from common import bulk_deals, latency_ms, machine, rss_mib, write_json
from sqlalchemy import func, select

from api.wiring import build_engine, prepare_database
from crm.clock import VirtualClock
from crm.db import Database
from crm.events import Cause
from engine.models import Job
from tests.support.automation import save

AUTOMATION = '''pipeline main "Sales"

stage in_processing:
  robot "welcome" immediately:
    notify(deal.responsible, "New deal {deal.title}")

stage product_agreement:
  robot "follow up" after 1d:
    notify(deal.responsible, "Follow up {deal.title}")
'''
CAUSE = Cause("user", None, "bench")


def timed_moves(engine, deal_ids: list[int], stage: str) -> list[float]:
    times = []
    for deal_id in deal_ids:
        start = time.perf_counter()
        with engine.unit() as rt:
            rt.crm.move_deal(rt.crm.deal(deal_id), stage, cause=CAUSE)
        times.append(time.perf_counter() - start)
    return times


def latency(engine, deals: int) -> dict[str, Any]:
    with_robot = timed_moves(engine, bulk_deals(engine, deals, "latency"), "in_processing")
    baseline = timed_moves(engine, bulk_deals(engine, deals, "baseline"), "order_assembly")
    result = {"deals": deals, "baseline": latency_ms(baseline), "with_robot": latency_ms(with_robot),
              "ratio_median": statistics.median(with_robot) / statistics.median(baseline)}
    print(f"stage move → immediate robot done, {deals} deals, one transaction each")
    print(f"{'':28} {'median ms':>10} {'p99 ms':>10}")
    for name, key in (("move, no robots (baseline)", "baseline"), ("move + immediate robot", "with_robot")):
        print(f"{name:28} {result[key]['median_ms']:10.2f} {result[key]['p99_ms']:10.2f}")
    print(f"ratio (median): {result['ratio_median']:.2f}x")
    return result


def scheduling(engine, robots: int, batch: int) -> dict[str, Any]:
    deal_ids = bulk_deals(engine, robots, "waiting")
    checkpoints: dict[int, tuple[float, float] | None] = {max(1, robots // 10): None, robots: None}
    start = time.perf_counter()
    done = 0
    for offset in range(0, robots, batch):
        with engine.unit() as rt:
            for deal_id in deal_ids[offset:offset + batch]:
                rt.crm.move_deal(rt.crm.deal(deal_id), "product_agreement", cause=CAUSE)
        done = min(robots, offset + batch)
        for mark in checkpoints:
            if checkpoints[mark] is None and done >= mark:
                checkpoints[mark] = (time.perf_counter() - start, rss_mib())
    with engine.unit() as rt:
        waiting = rt.session.scalar(select(func.count()).select_from(Job).where(Job.kind == "robot",
                                                                                 Job.status == "pending"))
    marks = [{"waiting": mark, "seconds": seconds, "us_per_robot": seconds / mark * 1e6, "rss_mib": rss}
             for mark, (seconds, rss) in sorted((m, c) for m, c in checkpoints.items() if c is not None)]
    print(f"\nscheduling delayed robots through stage moves ({batch} moves per transaction)")
    print(f"{'waiting robots':>15} {'seconds':>9} {'µs per robot':>13} {'RSS MiB':>8}")
    for row in marks:
        print(f"{row['waiting']:15d} {row['seconds']:9.2f} {row['us_per_robot']:13.0f} {row['rss_mib']:8.1f}")
    growth = marks[-1]["rss_mib"] - marks[0]["rss_mib"]
    print(f"rows pending in jobs: {waiting}; memory growth from 10% to 100%: {growth:+.1f} MiB "
          f"({marks[-1]['rss_mib'] / marks[0]['rss_mib']:.2f}x)")
    return {"robots": robots, "batch": batch, "pending_rows": waiting, "checkpoints": marks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--robots", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    results: dict[str, Any] = {"bench": "robots", "database": "SQLite"}
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        engine = build_engine(db, VirtualClock())
        prepare_database(engine, demo=True, templates_dir=None, automation_dir=None)
        save(engine, "main", AUTOMATION)
        results["latency"] = latency(engine, args.deals)
        results["scheduling"] = scheduling(engine, args.robots, args.batch)
        db.dispose()
    results["machine"] = machine()
    write_json(args.json, results)


if __name__ == "__main__":
    main()
