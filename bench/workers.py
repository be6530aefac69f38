"""Workers benchmark: many delayed robots fired by 1, 2 and 4 `dealflow worker` processes on PostgreSQL.

For each worker count K the bench builds a fresh PostgreSQL schema (demo world, a pipeline
automation whose stage has the robot `after 1h: notify(...)`), leaves N robots waiting on it
as job rows (one deal each), starts K real `dealflow worker` processes on that schema, and then
brings the robots' due times forward to "now" — all at one moment (`--rate 0`, a backlog: this
measures throughput) or spread at `--rate` due jobs per second (this measures how late jobs
fire under a steady load). It reports, per K: seconds from the first due time until every job
is done, jobs per second, how late jobs fired behind their due time (median, p99, max), and the
throughput ratio against K=1 measured in the same run.

How the robots are scheduled: one deal is moved into the stage through the CRM, so the real
robot code (robots.runtime) writes its job row; the other N-1 rows are copies of that row for
deals inserted in bulk on the same stage (only the deal differs), because moving 100,000 deals
one by one would take longer than the measurement. The workers fire every row through the
real path (claim in batches, lock, robots.runtime.fire, notify, automation log). "Fired at"
is the time of the robot's "ran" line in the automation log, stamped once its actions ran
(before they commit with the rest of the job's chunk). Workers and bench share one machine and
its wall clock.

Before the worker runs, `--cost-jobs` robots (500) are fired in this process on one connection
to count what a job costs: statements and transactions (deterministic) and CPU time of this
process and of its PostgreSQL backend (little moved by other load, unlike jobs/s).

Sizes: the default, 5,000 jobs per worker count, takes a minute or two in all on a quiet
2-core machine (~10 s set-up per count) and several under heavy other load. Issue 6's size is
`--jobs 100000`: set-up is ~15 s, firing a few minutes per worker count. On a machine that
others share, `--repeat 3` runs the counts in interleaved rounds and keeps each one's best.

    python bench/workers.py [--jobs 5000] [--workers 1,2,4] [--rate 0] [--repeat 1] [--json PATH]
    python bench/workers.py --jobs 100000            # the full size named in issue 6
    python bench/workers.py --jobs 60000 --rate 1000 # lateness at 1,000 due jobs per second
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
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import machine, postgres_schema  # also puts the project root first on sys.path
from sqlalchemy import func, insert, select, text, update

from crm.db import Database
from crm.events import Cause
from crm.models import Deal, Notification
from engine.engine import Engine
from engine.models import Job
from robots.models import AutomationLogEntry
from robots.runtime import ROBOT_JOB

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FULL_SIZE = 100_000  # issue 6's size; the default is smaller so a default run stays within ~5 minutes
DEFAULT_JOBS = 5_000
STAGE = "product_agreement"
AUTOMATION = f'''pipeline main "Sales"

stage {STAGE}:
  robot "follow up" after 1h:
    notify(deal.responsible, "Follow up {{deal.title}}")
'''
CAUSE = Cause("user", None, "bench")
CHUNK = 5000
COST_JOBS = 500  # jobs of the in-process cost probe (statements and CPU per job)


# ---------------------------------------------------------------------- the waiting robots


def schedule_robots(engine: Engine, count: int) -> list[int]:
    """Leave `count` delayed robots waiting on `STAGE`, one deal each, as the job rows the robot
    scheduler itself writes; returns the deals' ids.

    The first deal is created and moved into the stage through the CRM, so robots.runtime
    schedules its robot; the other deals are inserted on the stage in bulk as if they had
    entered it at the same moment, each with a copy of that job row (kind, payload, due time),
    so the worker cannot tell them apart from robots scheduled one move at a time.
    """
    with engine.unit() as rt:
        deal = rt.crm.create_deal(title="waiting 0", pipeline="main", stage="main.new", amount=1000,
                                  responsible="manager.north1", cause=CAUSE)
        rt.crm.move_deal(deal, f"main.{STAGE}", cause=CAUSE)
        job = rt.session.scalars(select(Job).where(Job.deal_id == deal.id, Job.kind == ROBOT_JOB)).one()
        template = {"kind": job.kind, "status": job.status, "due_at": job.due_at, "element_id": job.element_id,
                    "payload": dict(job.payload), "created_at": job.created_at}
        entered = deal.stage_entered_at
        like = {"amount": deal.amount, "currency": deal.currency, "pipeline_id": deal.pipeline_id,
                "stage_id": deal.stage_id, "responsible_id": deal.responsible_id, "products": [], "fields": {},
                "created_at": entered, "updated_at": entered, "stage_entered_at": entered, "is_sandbox": False,
                "version": 1}
        deal_ids = [deal.id]
    with engine.unit() as rt:
        for start in range(1, count, CHUNK):
            rows = [{**like, "title": f"waiting {n}"} for n in range(start, min(count, start + CHUNK))]
            ids = list(rt.session.scalars(insert(Deal).returning(Deal.id, sort_by_parameter_order=True), rows))
            rt.session.execute(insert(Job), [{**template, "deal_id": deal_id} for deal_id in ids])
            deal_ids += ids
    return deal_ids


def build_world(url: str, jobs: int) -> None:
    """A migrated schema with the demo world, the bench automation and `jobs` waiting robots."""
    from api.wiring import build_engine, prepare_database
    from tests.support.automation import save

    db = Database(url)
    try:
        engine = build_engine(db)
        prepare_database(engine, demo=True, templates_dir=None, automation_dir=None)
        save(engine, "main", AUTOMATION)
        schedule_robots(engine, jobs)
    finally:
        db.dispose()


def bring_due(session: Any, first_due: datetime, rate: float) -> None:
    """Make the waiting robots due from `first_due` on: all at once (rate 0) or `rate` a second,
    in job id order (PostgreSQL)."""
    if rate <= 0:
        session.execute(update(Job).where(Job.status == "pending").values(due_at=first_due)
                        .execution_options(synchronize_session=False))
        return
    session.execute(text(
        "UPDATE jobs SET due_at = :first + make_interval(secs => ordered.n / :rate) "
        "FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM jobs WHERE status = 'pending') AS ordered "
        "WHERE jobs.id = ordered.id"
    ), {"first": first_due, "rate": float(rate)})


# ---------------------------------------------------------------------- cost per job, in-process


@dataclass
class Cost:
    """What one job costs, measured in this process on the real job path (`Engine.run_due_jobs`):
    statements sent (SQLAlchemy's before_cursor_execute, an executemany counting once; BEGIN and
    COMMIT are not cursor executions and are counted apart as transactions), and CPU time of
    this process and of its PostgreSQL backend. Statements and transactions are deterministic;
    CPU time depends far less on other load than wall time does."""

    jobs: int
    statements_per_job: float
    transactions_per_job: float
    cpu_ms_per_job: float
    postgres_cpu_ms_per_job: float
    statements: dict[str, float] = field(default_factory=dict)  # per job, by the statement's first words


def _backend_cpu_seconds(pid: int) -> float:
    """utime + stime of a local PostgreSQL backend (0 if it is not on this machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_cost(url: str, jobs: int, batch: int = 100) -> Cost:
    """Fire `jobs` due robots in this process, one connection, and count what each cost."""
    import re

    from sqlalchemy import event

    from api.wiring import build_engine

    with postgres_schema(url, "dealflow_bench_jobcost") as scoped:
        build_world(scoped, jobs)
        db = Database(scoped, pool_size=1, max_overflow=0)  # one backend, whose CPU time is read
        try:
            engine = build_engine(db)
            # Chunks of jobs end at their size, never at a time budget, so the counts do not depend on load.
            engine.chunk_seconds = float("inf")
            with db.transaction() as session:
                bring_due(session, datetime.now(UTC), 0)
                pid = session.scalar(text("SELECT pg_backend_pid()"))
            counted: dict[str, int] = {}
            transactions = [0]

            def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
                words = re.sub(r"sa_savepoint_\d+", "…", " ".join(statement.split()[:3]))
                counted[words] = counted.get(words, 0) + 1

            def began(_conn: Any) -> None:
                transactions[0] += 1

            event.listen(db.engine, "before_cursor_execute", count)
            event.listen(db.engine, "begin", began)
            cpu, backend = time.process_time(), _backend_cpu_seconds(pid)
            ran = 0
            while (n := engine.run_due_jobs(batch)) > 0:
                ran += n
            cpu, backend = time.process_time() - cpu, _backend_cpu_seconds(pid) - backend
            event.remove(db.engine, "before_cursor_execute", count)
            event.remove(db.engine, "begin", began)
        finally:
            db.dispose()
    if ran != jobs:
        raise RuntimeError(f"{ran} of {jobs} jobs ran in the cost probe")
    per_job = {words: n / jobs for words, n in sorted(counted.items(), key=lambda item: -item[1])}
    return Cost(jobs=jobs, statements_per_job=sum(counted.values()) / jobs, transactions_per_job=transactions[0] / jobs,
                cpu_ms_per_job=cpu * 1000 / jobs, postgres_cpu_ms_per_job=backend * 1000 / jobs, statements=per_job)


def print_cost(cost: Cost) -> None:
    print(f"\ncost per job, in this process on one connection ({cost.jobs} delayed robots, one per deal): "
          f"{cost.statements_per_job:.2f} statements, {cost.transactions_per_job:.3f} transactions, "
          f"{cost.cpu_ms_per_job:.2f} ms CPU here + {cost.postgres_cpu_ms_per_job:.2f} ms CPU in its PostgreSQL "
          "backend")
    for words, n in cost.statements.items():
        if n >= 0.01:
            print(f"  {n:6.2f}  {words}")
    budget = (os.cpu_count() or 1) * 1000 / 1000
    total = cost.cpu_ms_per_job + cost.postgres_cpu_ms_per_job
    print(f"  1,000 jobs/s on {os.cpu_count()} cores leaves {budget:.1f} ms CPU per job for worker and PostgreSQL "
          f"together; this path needs {total:.2f} ms")


# ---------------------------------------------------------------------- the worker processes


class Workers:
    """K `dealflow worker` processes (python -m api.cli worker) on one schema."""

    def __init__(self, count: int, url: str, logdir: Path, interval: float, batch: int | None) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "DEALFLOW_DATABASE_URL": url,
               "DEALFLOW_SCHEDULER_INTERVAL": str(interval)}
        env.pop("DEALFLOW_REDIS_URL", None)  # no live updates: nobody listens
        if batch is not None:
            env["DEALFLOW_JOB_BATCH"] = str(batch)
        self.logs = [logdir / f"worker-{n}.log" for n in range(count)]
        self.procs = []
        for log in self.logs:
            with log.open("wb") as out:
                self.procs.append(subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], cwd=ROOT, env=env,
                                                   stdout=out, stderr=subprocess.STDOUT))

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until every worker printed its start line (its job loop is about to tick)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if all("dealflow worker " in log.read_text(errors="replace") for log in self.logs):
                return
            time.sleep(0.05)
        raise RuntimeError(f"workers did not start within {timeout:.0f} s:\n{self.tails()}")

    def check_alive(self) -> None:
        dead = [n for n, proc in enumerate(self.procs) if proc.poll() is not None]
        if dead:
            raise RuntimeError(f"worker(s) {dead} exited:\n{self.tails()}")

    def peak_rss_mib(self) -> float:
        """The largest peak resident memory (VmHWM) of the workers, read before they stop."""
        peaks = []
        for proc in self.procs:
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
            except OSError:
                continue
            peaks += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")]
        return max(peaks, default=0.0)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the workers have used so far, together."""
        return sum(_backend_cpu_seconds(proc.pid) for proc in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def tails(self) -> str:
        return "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                         for log in self.logs)


# ---------------------------------------------------------------------- one measured run


@dataclass
class Result:
    workers: int
    jobs: int
    seconds: float
    jobs_per_second: float
    late_median_s: float
    late_p99_s: float
    late_max_s: float
    ran: int
    notifications: int
    worker_peak_rss_mib: float
    published_before_due_s: float
    load_average_1m: float  # at the end of the run: what else the machine was doing
    worker_cpu_ms_per_job: float  # the workers' CPU time from ready to done, over the jobs
    ratio_vs_1: float | None = None
    rounds_jobs_per_second: list[float] = field(default_factory=list)  # every round's figure, with --repeat


def run_once(url: str, workers: int, jobs: int, rate: float, interval: float, batch: int | None,
             lead: float, timeout: float, logdir: Path) -> Result:
    with postgres_schema(url, "dealflow_bench_workers") as scoped:
        build_world(scoped, jobs)
        return measure(scoped, workers, jobs, rate, interval, batch, lead, timeout, logdir)


def measure(url: str, workers: int, jobs: int, rate: float, interval: float, batch: int | None,
            lead: float, timeout: float, logdir: Path) -> Result:
    db = Database(url)
    procs = Workers(workers, url, logdir, interval, batch)
    try:
        procs.wait_ready()
        cpu_ready = procs.cpu_seconds()
        first_due = datetime.now(UTC) + timedelta(seconds=lead)
        with db.transaction() as session:
            bring_due(session, first_due, rate)
        published = (first_due - datetime.now(UTC)).total_seconds()
        deadline = time.monotonic() + lead + (jobs / rate if rate > 0 else 0) + timeout
        while True:
            with db.transaction() as session:
                pending = session.scalar(select(func.count()).select_from(Job).where(Job.status == "pending"))
            if pending == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{pending} of {jobs} jobs still pending after {timeout:.0f} s")
            procs.check_alive()
            time.sleep(0.1)
        seconds = (datetime.now(UTC) - first_due).total_seconds()
        peak = procs.peak_rss_mib()
        cpu_ms_per_job = (procs.cpu_seconds() - cpu_ready) * 1000 / jobs
        load = os.getloadavg()[0]
    finally:
        procs.stop()
    try:
        with db.transaction() as session:
            late = session.execute(text(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s), percentile_cont(0.99) WITHIN GROUP "
                "(ORDER BY s), max(s) FROM (SELECT extract(epoch FROM log.at - jobs.due_at) AS s FROM jobs "
                "JOIN automation_log AS log ON log.job_id = jobs.id AND log.outcome = 'ran' "
                "WHERE jobs.kind = :kind AND jobs.status = 'done') AS lateness"), {"kind": ROBOT_JOB}).one()
            ran = session.scalar(select(func.count()).select_from(AutomationLogEntry)
                                 .where(AutomationLogEntry.kind == "robot", AutomationLogEntry.outcome == "ran"))
            notified = session.scalar(select(func.count()).select_from(Notification)
                                      .where(Notification.text.like("Follow up %")))
    finally:
        db.dispose()
    return Result(workers=workers, jobs=jobs, seconds=seconds, jobs_per_second=jobs / seconds,
                  late_median_s=float(late[0]), late_p99_s=float(late[1]), late_max_s=float(late[2]),
                  ran=ran, notifications=notified, worker_peak_rss_mib=peak, published_before_due_s=published,
                  load_average_1m=load, worker_cpu_ms_per_job=cpu_ms_per_job)


# ---------------------------------------------------------------------- report


def print_table(results: list[Result], rate: float, info: dict[str, Any]) -> None:
    due = "all due at one moment (backlog)" if rate <= 0 else f"due at {rate:g} jobs per second"
    print(f"\ndelayed robots fired by `dealflow worker` processes on PostgreSQL {info['postgres']}; {due}")
    print(f"{'workers':>7} {'jobs':>8} {'seconds':>8} {'jobs/s':>8} {'vs 1':>6} {'late median s':>14} "
          f"{'late p99 s':>11} {'late max s':>11} {'CPU ms/job':>11} {'peak RSS MiB':>13} {'load':>5}")
    for r in results:
        ratio = f"{r.ratio_vs_1:.2f}x" if r.ratio_vs_1 is not None else "-"
        print(f"{r.workers:7d} {r.jobs:8d} {r.seconds:8.2f} {r.jobs_per_second:8.0f} {ratio:>6} "
              f"{r.late_median_s:14.3f} {r.late_p99_s:11.3f} {r.late_max_s:11.3f} {r.worker_cpu_ms_per_job:11.2f} "
              f"{r.worker_peak_rss_mib:13.1f} {r.load_average_1m:5.1f}")
    if any(len(r.rounds_jobs_per_second) > 1 for r in results):
        print("best of rounds; jobs/s of every round: "
              + "; ".join(f"{r.workers}: {', '.join(f'{x:.0f}' for x in r.rounds_jobs_per_second)}" for r in results))
    print(f"machine: {info['cores']} CPUs ({info['cpu']}), shared by the workers, "
          "PostgreSQL and this bench; 'load' is the 1-minute load average at the end of each run")
    print("lateness: the time of the robot's 'ran' automation-log line minus its job's due_at; "
          "CPU ms/job: the workers' CPU time (user + system) over the jobs; peak RSS: the largest worker's VmHWM")
    most = max(r.workers for r in results)
    if (info["cores"] or 1) <= most:
        print(f"  {most} workers on {info['cores']} cores, which PostgreSQL and this bench use too: throughput "
              "cannot grow linearly with workers here; the ratio shows where the CPU becomes the limit")
    print("goals (issue 6): jobs fire within 1 s of their due time up to 1,000 due jobs/s; "
          "throughput grows with workers until PostgreSQL is the limit")
    best = max(results, key=lambda r: r.jobs_per_second)
    if rate <= 0:
        print("  a backlog makes lateness grow with the queue (last job ≈ jobs / throughput); "
              "use --rate to measure lateness under a steady load")
        keeps_up = "can keep up with" if best.jobs_per_second >= 1000 else "falls further behind every second at"
        print(f"  best throughput {best.jobs_per_second:.0f} jobs/s ({best.workers} worker(s)): "
              f"this machine {keeps_up} 1,000 due jobs/s")
    else:
        print(f"  jobs/s cannot exceed the due rate here ({rate:g}/s) once the loop keeps up: compare lateness, "
              "and run with --rate 0 for throughput")
        for r in results:
            verdict = "within" if r.late_p99_s <= 1.0 else "NOT within"
            print(f"  {r.workers} worker(s) at {rate:g} due jobs/s: p99 lateness {r.late_p99_s:.2f} s, {verdict} 1 s")
    ratios = ", ".join(f"{r.workers}: {r.ratio_vs_1:.2f}x" for r in results if r.ratio_vs_1 is not None)
    if ratios and rate <= 0:
        print(f"  throughput vs 1 worker: {ratios}")
    if all(r.ran == r.jobs == r.notifications for r in results):
        print("checked: in every run each robot ran (automation log) and sent its notification, none left pending")
    for r in results:
        if r.ran != r.jobs or r.notifications != r.jobs:
            print(f"  WARNING: {r.workers} worker(s): {r.ran} robots ran, {r.notifications} notifications, "
                  f"for {r.jobs} jobs")
        if r.published_before_due_s < 0:
            print(f"  WARNING: {r.workers} worker(s): due times were published {-r.published_before_due_s:.2f} s "
                  "after the first was due (raise --lead)")


def best_round(runs: list[Result], rate: float) -> Result:
    """Other load on the machine only ever slows a round down, so the best round is the truest:
    the fastest for a backlog, the least late for a steady rate."""
    best = max(runs, key=lambda r: r.jobs_per_second) if rate <= 0 else min(runs, key=lambda r: r.late_p99_s)
    best.rounds_jobs_per_second = [round(r.jobs_per_second, 1) for r in runs]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL URL (a fresh schema per worker count)")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                        help=f"delayed robots per run (default {DEFAULT_JOBS}; issue 6's full size is {FULL_SIZE})")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="due jobs per second, spread in job order; 0 = all due at one moment")
    parser.add_argument("--interval", type=float, default=0.1, help="DEALFLOW_SCHEDULER_INTERVAL of the workers")
    parser.add_argument("--batch", type=int, help="DEALFLOW_JOB_BATCH of the workers (default: theirs)")
    parser.add_argument("--lead", type=float,
                        help="seconds between making the jobs due (one UPDATE of every row) and the first "
                             "due time (default: 2 + jobs / 25,000)")
    parser.add_argument("--timeout", type=float,
                        help="seconds a run may take before it fails (default: 600 + jobs / 10)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds over every worker count (interleaved, so a busy spell on the machine "
                             "hits them all); each count keeps its best round")
    parser.add_argument("--cost-jobs", type=int, default=COST_JOBS,
                        help=f"jobs fired in-process first to count statements and CPU per job (default {COST_JOBS}; "
                             "0 skips it)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    counts = [int(k) for k in args.workers.split(",")]
    timeout = args.timeout if args.timeout is not None else 600 + args.jobs / 10
    lead = args.lead if args.lead is not None else 2 + args.jobs / 25_000
    if args.jobs < 1 or not counts or min(counts) < 1 or args.repeat < 1:
        parser.error("--jobs, --workers and --repeat must be positive")

    info = machine(args.url)
    cost = measure_cost(args.url, args.cost_jobs) if args.cost_jobs > 0 else None
    if cost is not None:
        print_cost(cost)
    rounds: dict[int, list[Result]] = {k: [] for k in counts}
    with tempfile.TemporaryDirectory() as logdir:
        for round_ in range(1, args.repeat + 1):
            for k in counts:
                print(f"round {round_}/{args.repeat}, {k} worker(s): building {args.jobs} waiting robots ...",
                      flush=True)
                result = run_once(args.url, k, args.jobs, args.rate, args.interval, args.batch, lead,
                                  timeout, Path(logdir))
                print(f"  done in {result.seconds:.2f} s ({result.jobs_per_second:.0f} jobs/s)", flush=True)
                rounds[k].append(result)
    results = [best_round(rounds[k], args.rate) for k in counts]
    base = next((r for r in results if r.workers == 1), None)
    for r in results:
        r.ratio_vs_1 = r.jobs_per_second / base.jobs_per_second if base else None
    print_table(results, args.rate, info)
    if cost is not None:
        print_cost(cost)
    if args.json:
        payload = {"bench": "workers", "workers": [asdict(r) for r in results], "machine": info,
                   "cost_per_job": asdict(cost) if cost is not None else None,
                   "settings": {"jobs": args.jobs, "rate": args.rate, "scheduler_interval": args.interval,
                                "job_batch": args.batch, "lead_s": lead, "repeat": args.repeat}}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
