"""Engine benchmark: dealflow against the physical limit of a durable SpiffWorkflow executor.

Three ways to run the same BPMN, side by side in one run:

- raw SpiffWorkflow in memory, with its own Python script engine and no storage;
- the **physical limit** of a durable executor built on it: raw SpiffWorkflow, its JSON
  serializer (`BpmnWorkflowSerializer`) and one INSERT and commit of the serialized state per
  transaction, on the bare DB-API driver (SQLite in WAL with synchronous=NORMAL, as dealflow
  runs it; psycopg on PostgreSQL);
- dealflow: the dsl evaluator, one committed transaction per step with the instance, its
  history and its derived rows (CRM task of a user task).

Two processes: a 10-element one (start, six scripts, a split and a join gateway, end) that runs
in one transaction, and start → user task → script → end, which needs two (start to the user
task; completion to the end; the limit re-reads and restores the state in the second one, as a
durable executor serving the completion in another request must).

Rounds are interleaved (every variant once per round, in turn) and the figure per variant is
the median over rounds, so a busy machine weighs on both sides alike. Statements per instance
are counted too (a SQLAlchemy `before_cursor_execute` listener for dealflow, the statements
issued for the limit): they do not depend on the machine's load at all.

    python bench/engine.py [--instances 200] [--rounds 8] [--postgres URL] [--json PATH]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import machine, postgres_schema, write_json
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from api.migrations import upgrade
from crm.clock import VirtualClock
from crm.db import Database
from crm.events import Cause
from engine.engine import Engine
from robots.actions import registry
from tests.support.bpmn import Bpmn
from tests.support.statements import statements_sent

# Ten elements: start, six scripts, a split and a join gateway, end. The texts are valid
# both as Python (for raw Spiff) and as dsl (for dealflow).
PROCESS = (
    Bpmn("bench").start().script("a", "x = 1").script("b", "y = x + 1").xor("split", default="flow_low")
    .script("high", "z = y * 2").script("low", "z = y").xor("join").script("c", "w = z + x")
    .script("d", "v = w - 1").end()
    .chain("start", "a", "b", "split").flow("split", "high", "y > 1").flow("split", "low", flow_id="flow_low")
    .chain("high", "join").chain("low", "join").chain("join", "c", "d", "end").xml()
)
# A person's step between two transactions: start → user task → script → end.
USER_PROCESS = (
    Bpmn("bench_user").start().user("approve").script("after", "done = 1").end()
    .chain("start", "approve", "after", "end").xml()
)
PROCESSES = {"10-element": ("bench", PROCESS), "user task": ("bench_user", USER_PROCESS)}

#: Issue 14, goal 1: dealflow / limit per database and process.
GOALS = {("SQLite", "10-element"): 1.3, ("SQLite", "user task"): 2.0,
         ("PostgreSQL", "10-element"): 1.5, ("PostgreSQL", "user task"): 2.5}


def _specs(key: str, xml: str) -> tuple[Any, dict[str, Any]]:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml.encode())
    return parser.get_spec(key), parser.get_subprocess_specs(key)


# ---------------------------------------------------------------------------------------------- variants


class Variant:
    """One way of running `n` instances of one process; `run` returns seconds."""

    name = ""
    database = ""
    process = ""

    def run(self, n: int) -> float:
        raise NotImplementedError

    def statements(self) -> float | None:
        """Statements one instance costs, counted over a short run (None: no database)."""
        return None

    def close(self) -> None:
        pass


class RawSpiff(Variant):
    database = "memory"

    def __init__(self, process: str) -> None:
        self.process = process
        self.name = f"raw SpiffWorkflow, in memory ({process})"
        self.spec, self.subs = _specs(*PROCESSES[process])

    def run(self, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            workflow = BpmnWorkflow(self.spec, self.subs)
            workflow.do_engine_steps()
            if self.process == "user task":
                _complete_user_task(workflow)
            assert workflow.is_completed()
        return time.perf_counter() - start


def _complete_user_task(workflow: BpmnWorkflow) -> None:
    task = next(t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual)
    task.run()
    workflow.do_engine_steps()


class Limit(Variant):
    """Raw SpiffWorkflow + BpmnWorkflowSerializer + one INSERT (or SELECT and UPDATE for the
    second transaction of the user task) and a commit, on the bare driver."""

    def __init__(self, process: str, database: str, connect: Callable[[], Any]) -> None:
        self.process, self.database = process, database
        self.name = f"physical limit on {database} ({process})"
        self.key, xml = PROCESSES[process]
        self.spec, self.subs = _specs(self.key, xml)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        self.conn = connect()
        self.sqlite = isinstance(self.conn, sqlite3.Connection)
        self.begin = "BEGIN IMMEDIATE" if self.sqlite else None  # psycopg begins on its own
        self.mark = "?" if self.sqlite else "%s"
        self.counted = 0
        cur = self.conn.cursor()
        cur.execute("CREATE TABLE IF NOT EXISTS limit_instances (id INTEGER PRIMARY KEY, state TEXT NOT NULL)"
                    if self.sqlite else
                    "CREATE TABLE IF NOT EXISTS limit_instances (id BIGSERIAL PRIMARY KEY, state TEXT NOT NULL)")
        self.conn.commit()

    def _execute(self, cur: Any, sql: str, params: tuple[Any, ...] = ()) -> None:
        self.counted += 1
        cur.execute(sql, params)

    def _transaction(self) -> Any:
        cur = self.conn.cursor()
        if self.begin:
            self._execute(cur, self.begin)
        return cur

    def one(self) -> None:
        workflow = BpmnWorkflow(self.spec, self.subs)
        workflow.do_engine_steps()
        cur = self._transaction()
        if self.sqlite:
            self._execute(cur, "INSERT INTO limit_instances (state) VALUES (?)",
                          (self.serializer.serialize_json(workflow),))
            instance_id = cur.lastrowid
        else:
            self._execute(cur, "INSERT INTO limit_instances (state) VALUES (%s) RETURNING id",
                          (self.serializer.serialize_json(workflow),))
            instance_id = cur.fetchone()[0]
        self.conn.commit()
        if self.process != "user task":
            assert workflow.is_completed()
            return
        cur = self._transaction()
        self._execute(cur, f"SELECT state FROM limit_instances WHERE id = {self.mark}", (instance_id,))
        workflow = self.serializer.deserialize_json(cur.fetchone()[0])
        _complete_user_task(workflow)
        assert workflow.is_completed()
        self._execute(cur, f"UPDATE limit_instances SET state = {self.mark} WHERE id = {self.mark}",
                      (self.serializer.serialize_json(workflow), instance_id))
        self.conn.commit()

    def run(self, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            self.one()
        return time.perf_counter() - start

    def statements(self) -> float:
        before = self.counted
        for _ in range(10):
            self.one()
        return (self.counted - before) / 10

    def close(self) -> None:
        self.conn.close()


class Dealflow(Variant):
    def __init__(self, process: str, database: str, db: Database, engine: Engine) -> None:
        self.process, self.database = process, database
        self.name = f"dealflow on {database} ({process})"
        self.key, _ = PROCESSES[process]
        self.db, self.engine = db, engine
        self.cause = Cause.system("bench")
        self.one()  # warm the caches and the pool

    def one(self) -> None:
        instance = self.engine.start(self.key, None)
        if self.process != "user task":
            assert instance.status == "completed"
            return
        # The completion arrives as a person completes the CRM task by its id (the tasks API).
        (task_id,) = instance.derived["tasks"].values()
        with self.engine.unit() as rt:
            rt.crm.complete_task(rt.crm.task(task_id), cause=self.cause)
        self.last = instance.id

    def run(self, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            self.one()
        return time.perf_counter() - start

    def statements(self) -> float:
        with statements_sent(self.db.engine) as count:
            for _ in range(10):
                self.one()
        if self.process == "user task":  # checked here, outside the timed runs
            with self.engine.unit() as rt:
                assert rt.instance(self.last).status == "completed"
        return len(count) / 10


def dealflow_engine(db: Database) -> Engine:
    upgrade(db)
    engine = Engine(db, VirtualClock(), registry)
    for _key, xml in PROCESSES.values():
        engine.deploy(xml)
    return engine


# ---------------------------------------------------------------------------------------------- databases


def _sqlite_connect(path: Path) -> Callable[[], sqlite3.Connection]:
    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn
    return connect


def _postgres_connect(url: str) -> Callable[[], Any]:
    def connect() -> Any:
        import psycopg

        return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))
    return connect


@contextmanager
def variants(postgres: str | None, only: str | None = None) -> Iterator[list[Variant]]:
    built: list[Variant] = [RawSpiff(p) for p in PROCESSES if only in (None, p)]
    with tempfile.TemporaryDirectory() as tmp:
        databases: list[tuple[str, Database, Callable[[], Any]]] = []
        db = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        databases.append(("SQLite", db, _sqlite_connect(Path(tmp) / "limit.sqlite3")))
        with _maybe_schema(postgres) as schema_url:
            if schema_url:
                databases.append(("PostgreSQL", Database(schema_url), _postgres_connect(schema_url)))
            try:
                for name, database, connect in databases:
                    engine = dealflow_engine(database)
                    for process in PROCESSES:
                        if only in (None, process):
                            built.append(Limit(process, name, connect))
                            built.append(Dealflow(process, name, database, engine))
                yield built
            finally:
                for variant in built:
                    variant.close()
                for _, database, _ in databases:
                    database.dispose()


@contextmanager
def _maybe_schema(url: str | None) -> Iterator[str | None]:
    if url is None:
        yield None
        return
    with postgres_schema(url, "dealflow_bench_engine") as schema_url:
        yield schema_url


# ---------------------------------------------------------------------------------------------- measuring


def measure(n: int, rounds: int, postgres: str | None, only: str | None = None) -> dict[str, Any]:
    """Per-instance milliseconds, median over interleaved rounds, per variant; the goal ratios."""
    with variants(postgres, only) as built:
        statements = {v.name: v.statements() for v in built}
        samples: dict[str, list[float]] = {v.name: [] for v in built}
        for _ in range(rounds):
            for variant in built:
                samples[variant.name].append(variant.run(n) / n * 1000)
        rows = [{"name": v.name, "database": v.database, "process": v.process,
                 "per_instance_ms": statistics.median(samples[v.name]), "samples_ms": samples[v.name],
                 "statements_per_instance": statements[v.name]} for v in built]
    by = {(r["database"], r["process"], r["name"].split(" ")[0]): r for r in rows}
    for row in rows:
        raw = by[("memory", row["process"], "raw")]["per_instance_ms"]
        row["ratio"] = row["per_instance_ms"] / raw  # to raw SpiffWorkflow in memory
        row["instances_per_s"] = 1000 / row["per_instance_ms"]
    goals = []
    for (database, process), limit in GOALS.items():
        if (database, process, "dealflow") not in by:
            continue
        ours, theirs = by[(database, process, "dealflow")], by[(database, process, "physical")]
        ratio = ours["per_instance_ms"] / theirs["per_instance_ms"]
        goals.append({"database": database, "process": process, "dealflow_ms": ours["per_instance_ms"],
                      "limit_ms": theirs["per_instance_ms"], "ratio": ratio, "goal": limit, "met": ratio <= limit,
                      "dealflow_statements": ours["statements_per_instance"],
                      "limit_statements": theirs["statements_per_instance"]})
    return {"bench": "engine", "instances": n, "rounds": rounds, "variants": rows, "goals": goals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200, help="instances per variant and round")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (a scratch schema is used)")
    parser.add_argument("--process", choices=sorted(PROCESSES), help="only this process")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    results = measure(args.instances, args.rounds, args.postgres, args.process)
    print(f"{args.instances} instances per variant and round, {args.rounds} interleaved rounds, medians")
    print(f"{'variant':52} {'ms/instance':>12} {'inst/s':>8} {'to raw':>7} {'statements':>11}")
    for row in results["variants"]:
        stmts = "" if row["statements_per_instance"] is None else f"{row['statements_per_instance']:.1f}"
        print(f"{row['name']:52} {row['per_instance_ms']:12.3f} {row['instances_per_s']:8.0f} "
              f"{row['ratio']:6.2f}x {stmts:>11}")
    print("\nissue 14, goal 1: dealflow / physical limit")
    for goal in results["goals"]:
        print(f"  {goal['database']:10} {goal['process']:10} {goal['ratio']:5.2f}x (goal ≤ {goal['goal']}x) "
              f"{'met' if goal['met'] else 'NOT MET'}; statements {goal['dealflow_statements']:.1f} "
              f"against {goal['limit_statements']:.1f}")
    results["machine"] = machine(args.postgres)
    write_json(args.json, results)


if __name__ == "__main__":
    main()
