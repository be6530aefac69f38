"""Robots benchmark: stage move → immediate robot latency, and scheduling many delayed robots.

1. Latency: 1,000 deals are moved one by one (one transaction each) into a stage whose robot
   notifies the manager immediately; the baseline is the same move into a stage with no
   robots, measured in the same run. Median and 99th percentile, and their ratio.
2. Scheduling: N deals (100,000 by default) are moved into a stage with a robot "after 1d";
   each move schedules one job row. Time per robot, and the process's resident memory after
   10% and after 100% of them: waiting robots are rows, so memory should stay flat.

    python bench/robots.py [--deals 1000] [--robots 100000] [--batch 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select

from api.wiring import build_engine, prepare_database
from crm.clock import VirtualClock
from crm.db import Database
from crm.events import Cause
from crm.models import Deal
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


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 2**20


def bulk_deals(engine, count: int, title: str) -> list[int]:
    """Deals inserted directly (set-up, not measured) on main.new."""
    with engine.unit() as rt:
        new = rt.crm.stage("main.new")
        responsible = rt.crm.user("manager.north1").id
        now = rt.clock.now()
        first = (rt.session.scalar(select(func.max(Deal.id))) or 0) + 1
        rows = [{"title": f"{title} {n}", "amount": 1000, "currency": "RUB", "pipeline_id": new.pipeline_id,
                 "stage_id": new.id, "responsible_id": responsible, "products": [], "fields": {},
                 "created_at": now, "updated_at": now, "stage_entered_at": now, "is_sandbox": False,
                 "version": 1} for n in range(count)]
        for start in range(0, count, 5000):
            rt.session.execute(insert(Deal), rows[start:start + 5000])
        return list(range(first, first + count))


def timed_moves(engine, deal_ids: list[int], stage: str) -> list[float]:
    times = []
    for deal_id in deal_ids:
        start = time.perf_counter()
        with engine.unit() as rt:
            rt.crm.move_deal(rt.crm.deal(deal_id), stage, cause=CAUSE)
        times.append(time.perf_counter() - start)
    return times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def latency(engine, deals: int) -> None:
    with_robot = timed_moves(engine, bulk_deals(engine, deals, "latency"), "in_processing")
    baseline = timed_moves(engine, bulk_deals(engine, deals, "baseline"), "order_assembly")
    print(f"stage move → immediate robot done, {deals} deals, one transaction each")
    print(f"{'':28} {'median ms':>10} {'p99 ms':>10}")
    for name, values in (("move, no robots (baseline)", baseline), ("move + immediate robot", with_robot)):
        print(f"{name:28} {statistics.median(values) * 1000:10.2f} {percentile(values, 99) * 1000:10.2f}")
    print(f"ratio (median): {statistics.median(with_robot) / statistics.median(baseline):.2f}x")


def scheduling(engine, robots: int, batch: int) -> None:
    deal_ids = bulk_deals(engine, robots, "waiting")
    checkpoints = {max(1, robots // 10): None, robots: None}
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
    print(f"\nscheduling delayed robots through stage moves ({batch} moves per transaction)")
    print(f"{'waiting robots':>15} {'seconds':>9} {'µs per robot':>13} {'RSS MiB':>8}")
    for mark, (seconds, rss) in sorted(checkpoints.items()):
        print(f"{mark:15d} {seconds:9.2f} {seconds / mark * 1e6:13.0f} {rss:8.1f}")
    small_rss, big_rss = (checkpoints[m][1] for m in sorted(checkpoints))
    print(f"rows pending in jobs: {waiting}; memory growth from 10% to 100%: {big_rss - small_rss:+.1f} MiB "
          f"({big_rss / small_rss:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--robots", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        engine = build_engine(db, VirtualClock())
        prepare_database(engine, demo=True, templates_dir=None, automation_dir=None)
        save(engine, "main", AUTOMATION)
        latency(engine, args.deals)
        scheduling(engine, args.robots, args.batch)
        db.dispose()


if __name__ == "__main__":
    main()
