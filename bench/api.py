"""API benchmark: store order → deal created → immediate robots done, over real HTTP.

A real `dealflow run` server process is started on a fresh database with the demo world and
the shipped automation (SQLite file in a temp dir; with --postgres also a fresh PostgreSQL
schema). The store's integration token (`dealflow tokens create store.integration`) posts
`order.created` events to /api/v1/events from 1, 8 and 32 concurrent clients, each order with
its own order id, client and idempotency key.

The shipped robots of main.in_processing that run "immediately" (route the order, tell the
manager, check for duplicates) are deferred work of the same transaction as the deal's
creation (Runtime.defer, drained before commit), so when the 202 comes back they have run.
This is checked after the load, not assumed: for a sample of the created deals the automation
log must show the immediate robots as "ran", logged before the client had its response.

Baselines at the same concurrency and in the same run: GET /api/v1/health (the bare HTTP
stack: gunicorn, Flask, JSON) and GET /api/v1/deals/{id} (plus token check and one read
transaction). The ratio order/baseline is the figure that travels between machines.

Issue 14 goal 2 (what the API adds to a start): one client starts a 10-element process
(bench/engine.py's) for a deal through POST /api/v1/processes/bench/start, and the bench
process starts the same one in-process on the same database (`Runtime.start` in a unit of
work, as the view does), interleaved in rounds with GET /api/v1/health on the same server.
The HTTP overhead is HTTP start minus in-process start (medians); goal: at most 2 ms. Statements
per request are counted (a cursor listener) on the same code path in-process, through the
app's test client, for the start and for a store order.

Issue 14 goal 4: store orders from 8 clients on PostgreSQL, p50 ≤ 15 ms and p99 ≤ 50 ms, both
closed loop (the order level with 8 clients) and open loop at --paced-rate orders/s.

    python bench/api.py [--orders 200] [--levels 1,8,32] [--starts 200] [--postgres URL] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from common import ROOT, latency_ms, machine, postgres_schema, write_json
from sqlalchemy import select

WAIT = 120.0  # a busy shared machine can take a while to import and migrate
SAMPLE = 20  # deals whose automation log is read back after the load
# robots/shipped/main.flow, stage in_processing; the unnamed `then immediately` step (notify the
# manager) of "route the order" is logged by its key.
IMMEDIATE_ROBOTS = ("route the order", "in_processing.1.2", "check for duplicates")

Request = Callable[[requests.Session, int], tuple[bool, Any]]

#: Issue 14's goals for this bench: what the API may add to a start, and the store order at 8 clients.
START_OVERHEAD_GOAL_MS = 2.0
ORDER_GOAL_CLIENTS, ORDER_GOAL_P50_MS, ORDER_GOAL_P99_MS = 8, 15.0, 50.0
START_ROUNDS = 5


def bench_process() -> str:
    """bench/engine.py's 10-element process (start, six scripts, a split and a join, end)."""
    from tests.support.bpmn import Bpmn

    return (
        Bpmn("bench").start().script("a", "x = 1").script("b", "y = x + 1").xor("split", default="flow_low")
        .script("high", "z = y * 2").script("low", "z = y").xor("join").script("c", "w = z + x")
        .script("d", "v = w - 1").end()
        .chain("start", "a", "b", "split").flow("split", "high", "y > 1").flow("split", "low", flow_id="flow_low")
        .chain("high", "join").chain("low", "join").chain("join", "c", "d", "end").xml()
    )


class Server:
    """One `dealflow run` process on `database_url`, its output in a log file."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.log = workdir / f"server-{time.monotonic_ns()}.log"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, "DEALFLOW_DATABASE_URL": database_url, "DEALFLOW_HOST": "127.0.0.1",
                    "DEALFLOW_PORT": str(port), "DEALFLOW_DEMO": "1"}
        self.env.pop("DEALFLOW_REDIS_URL", None)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        out = self.log.open("wb")
        self.process = subprocess.Popen(self._command("run"), cwd=ROOT, env=self.env, stdout=out,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if requests.get(f"{self.base}/api/v1/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"server not ready in {WAIT}s:\n{self.log.read_text()}")

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def token(self, login: str) -> str:
        """A token made the way an operator makes one: `dealflow tokens create`."""
        done = subprocess.run(self._command("tokens", "create", login, "--name", "bench"), cwd=ROOT, env=self.env,
                              capture_output=True, text=True, check=True, timeout=WAIT)
        return done.stdout.strip().splitlines()[-1]

    @staticmethod
    def _command(*args: str) -> list[str]:
        return [sys.executable, "-c", "from api.cli import main; main()", *args]


def order_payload(order_id: str, n: int) -> dict[str, Any]:
    """An order as the store sends it (tests/scenarios/test_store_automation.py `order`), with a
    client of its own so that duplicate checks look at a realistic number of deals."""
    amount = 5000 + (n * 7919) % 200_000
    return {
        "order_id": order_id, "status": "new", "amount": str(amount), "currency": "RUB", "paid": False,
        "shipped": False, "customer": {"name": f"Client {order_id}", "phone": f"+7 9{n % 10**9:09d}"},
        "address": "Tverskaya 1, Moscow", "preferred_time": "after 18:00", "department": "store_north",
        "items": [{"name": "Dishwasher Bosch", "qty": 1, "price": str(amount), "category": "kitchen"}],
    }


def created_deals(result: dict[str, Any]) -> list[int]:
    """The deals the order's triggers created (the shipped "new order" trigger makes one)."""
    return list(result.get("created_deal_ids", []))


def drive(concurrency: int, count: int, request: Request) -> dict[str, Any]:
    """`count` requests from `concurrency` clients (threads, one keep-alive session each)."""
    local = threading.local()
    results: list[tuple[float, bool, Any]] = []

    def one(n: int) -> tuple[float, bool, Any]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        start = time.perf_counter()
        try:
            ok, info = request(session, n)
        except requests.RequestException as err:
            ok, info = False, repr(err)
        return time.perf_counter() - start, ok, info

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, range(count)))
    wall = time.perf_counter() - start
    ok = [r for r in results if r[1]]
    errors = [r[2] for r in results if not r[1]]
    return {"clients": concurrency, "requests": count, "seconds": wall, "rps": len(ok) / wall,
            **latency_ms([r[0] for r in ok] or [0.0]), "errors": len(errors), "first_errors": errors[:3],
            "infos": [r[2] for r in ok]}


def drive_paced(concurrency: int, count: int, rate: float, request: Request) -> dict[str, Any]:
    """`count` requests sent on a fixed schedule, `rate` a second in all, by `concurrency` clients
    (an open loop: request n is due at n / rate whatever the others are doing). Latency is
    counted from when a request was due, so a server that falls behind is not flattered by
    clients that wait for it (coordinated omission)."""
    sessions = [requests.Session() for _ in range(concurrency)]
    results: list[tuple[float, bool, Any]] = []
    lock = threading.Lock()
    began = time.perf_counter() + 0.05

    def client(index: int) -> None:
        for n in range(index, count, concurrency):
            due = began + n / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            try:
                ok, info = request(sessions[index], n)
            except requests.RequestException as err:
                ok, info = False, repr(err)
            with lock:
                results.append((time.perf_counter() - due, ok, info))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    ok = [r for r in results if r[1]]
    errors = [r[2] for r in results if not r[1]]
    return {"clients": concurrency, "requests": count, "rate": rate, "seconds": wall, "rps": len(ok) / wall,
            **latency_ms([r[0] for r in ok] or [0.0]), "errors": len(errors), "first_errors": errors[:3],
            "infos": [r[2] for r in ok]}


def run_on(label: str, database_url: str, levels: list[int], orders: int, warmup: int, workdir: Path,
           starts: int = 0, paced_rate: float = 0.0) -> dict:
    with Server(database_url, workdir) as server:
        store, admin = server.token("store.integration"), server.token("admin")
        events, health = f"{server.base}/api/v1/events", f"{server.base}/api/v1/health"
        store_auth, admin_auth = {"Authorization": f"Bearer {store}"}, {"Authorization": f"Bearer {admin}"}

        def post_order(tag: str) -> Request:
            def send(session: requests.Session, n: int) -> tuple[bool, Any]:
                order_id = f"{tag}-{n}"
                reply = session.post(events, headers=store_auth, timeout=120, json={
                    "type": "order.created", "source": "store", "idempotency_key": f"bench-{order_id}",
                    "payload": order_payload(order_id, zlib.crc32(order_id.encode()))})
                answered = datetime.now(UTC)
                created = created_deals(reply.json()) if reply.status_code == 202 else []
                if len(created) != 1:
                    return False, f"{reply.status_code} {reply.text[:200]}"
                return True, (created[0], answered)
            return send

        def get(url: str, headers: dict[str, str]) -> Request:
            def send(session: requests.Session, _n: int) -> tuple[bool, Any]:
                reply = session.get(url, headers=headers, timeout=120)
                return reply.status_code == 200, None if reply.status_code == 200 else reply.status_code
            return send

        warm = drive(4, warmup, post_order(f"{label}-warm"))
        if warm["errors"]:
            raise RuntimeError(f"warm-up orders failed: {warm['first_errors']}")
        deal_url = f"{server.base}/api/v1/deals/{warm['infos'][0][0]}"
        drive(4, warmup, get(health, {}))
        drive(4, warmup, get(deal_url, admin_auth))

        rows = []
        created: list[tuple[int, datetime]] = []
        for clients in levels:
            row: dict[str, Any] = {"clients": clients}
            for name, request in (("health", get(health, {})), ("get_deal", get(deal_url, admin_auth)),
                                  ("order", post_order(f"{label}-c{clients}"))):
                result = drive(clients, orders, request)
                if name == "order":
                    created += [info for info in result["infos"] if info]
                result.pop("infos")
                row[name] = result
            rows.append(row)
        paced = None
        if paced_rate:
            paced = drive_paced(ORDER_GOAL_CLIENTS, orders, paced_rate, post_order(f"{label}-paced"))
            created += [info for info in paced.pop("infos") if info]
        check = verify_robots(server.base, admin_auth, created)
        overhead = start_overhead(server, admin_auth, starts, warmup) if starts else None
    statements = count_statements(database_url) if starts else None
    return {"database": label, "levels": rows, "paced": paced, "robots": check, "start": overhead,
            "statements": statements}


def _in_process_engine(database_url: str) -> Any:
    from api.settings import Settings
    from api.wiring import build_engine
    from crm.db import Database

    return build_engine(Database(database_url), settings=Settings.from_env({"DEALFLOW_DATABASE_URL": database_url}))


def start_overhead(server: Server, admin_auth: dict[str, str], starts: int, warmup: int) -> dict[str, Any]:
    """Issue 14 goal 2: a start over HTTP against the same start in-process, one at a time, with
    GET /health as the bare server's cost; rounds interleave the three so drift hits them alike."""
    from crm.events import Cause
    from crm.models import Deal, User

    health = f"{server.base}/api/v1/health"
    session = requests.Session()
    deployed = session.post(f"{server.base}/api/v1/processes", headers=admin_auth, timeout=120,
                            json={"xml": bench_process()})
    deployed.raise_for_status()
    engine = _in_process_engine(server.database_url)
    with engine.unit() as rt:
        deal_id = rt.session.scalar(select(Deal.id).order_by(Deal.id).limit(1))
        admin = rt.session.scalar(select(User).where(User.login == "admin"))
        cause = Cause.user(admin.id, admin.login)
    start_url, body = f"{server.base}/api/v1/processes/bench/start", {"deal_id": deal_id}

    def http_start() -> None:
        reply = session.post(start_url, headers=admin_auth, json=body, timeout=120)
        if reply.status_code != 201 or reply.json()["status"] != "completed":
            raise RuntimeError(f"start over HTTP failed: {reply.status_code} {reply.text[:300]}")

    def local_start() -> None:
        with engine.unit() as rt:
            instance = rt.start("bench", deal_id, {}, cause=cause)
            if instance.status != "completed":
                raise RuntimeError(f"in-process start ended {instance.status}")

    def get_health() -> None:
        session.get(health, timeout=120).raise_for_status()

    kinds = {"health": get_health, "http_start": http_start, "in_process_start": local_start}
    for fn in kinds.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in kinds}
    per_round = max(1, starts // START_ROUNDS)
    for _ in range(START_ROUNDS):
        for name, fn in kinds.items():
            for _ in range(per_round):
                began = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - began)
    engine.db.dispose()
    result: dict[str, Any] = {name: latency_ms(values) for name, values in samples.items()}
    result["per_kind"] = per_round * START_ROUNDS
    result["overhead_ms"] = result["http_start"]["median_ms"] - result["in_process_start"]["median_ms"]
    result["overhead_beyond_health_ms"] = result["overhead_ms"] - result["health"]["median_ms"]
    result["met"] = result["overhead_ms"] <= START_OVERHEAD_GOAL_MS
    return result


def count_statements(database_url: str) -> dict[str, Any]:
    """Statements one request sends to the database, on the server's own code path (the app
    built in this process, driven through Flask's test client, a cursor listener counting):
    a start of the bench process and a store order, each with a token."""
    from sqlalchemy import event

    from api.app import create_app
    from api.settings import Settings
    from crm.auth import issue
    from crm.models import Deal, User

    engine = _in_process_engine(database_url)
    app = create_app(engine, Settings.from_env({"DEALFLOW_DATABASE_URL": database_url}))
    with engine.unit() as rt:
        users = {login: rt.session.scalar(select(User).where(User.login == login))
                 for login in ("admin", "store.integration")}
        tokens = {login: issue(rt.session, user, rt.clock, kind="token", name="bench statements")[1]
                  for login, user in users.items()}
        deal_id = rt.session.scalar(select(Deal.id).order_by(Deal.id).limit(1))
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper() if statement.strip() else "")

    client = app.test_client()
    requests_ = {
        "http_start": ("/api/v1/processes/bench/start", "admin", lambda _n: {"deal_id": deal_id}),
        "order": ("/api/v1/events", "store.integration", lambda n: {
            "type": "order.created", "source": "store", "idempotency_key": f"bench-statements-{n}",
            "payload": order_payload(f"statements-{n}", n)}),
    }
    result: dict[str, Any] = {}
    with app.app_context():
        for name, (url, login, body) in requests_.items():
            headers = {"Authorization": f"Bearer {tokens[login]}"}
            client.post(url, headers=headers, json=body(0))  # warm caches
            event.listen(engine.db.engine, "before_cursor_execute", count)
            try:
                seen.clear()
                reply = client.post(url, headers=headers, json=body(1))
                if reply.status_code not in (201, 202):
                    raise RuntimeError(f"{url}: {reply.status_code} {reply.get_data(as_text=True)[:300]}")
            finally:
                event.remove(engine.db.engine, "before_cursor_execute", count)
            kinds: dict[str, int] = {}
            for verb in seen:
                kinds[verb] = kinds.get(verb, 0) + 1
            result[name] = {"statements": len(seen), "by_kind": kinds}
    engine.db.dispose()
    return result


def verify_robots(base: str, headers: dict[str, str], created: list[tuple[int, datetime]]) -> dict[str, Any]:
    """Read back the automation log of a sample of deals: which robots ran, and whether each
    had run before the client got its 202 (same transaction as the deal's creation)."""
    step = max(1, len(created) // SAMPLE)
    sample = created[::step][:SAMPLE]
    ran_per_deal, late, names = [], 0, set()
    for deal_id, answered in sample:
        reply = requests.get(f"{base}/api/v1/deals/{deal_id}/automation-log", headers=headers,
                             params={"per_page": 100}, timeout=60)
        reply.raise_for_status()
        ran = [e for e in reply.json() if e["kind"] == "robot" and e["outcome"] == "ran"]
        ran_per_deal.append(len(ran))
        names.update(e.get("name") or e["key"] for e in ran)
        late += sum(1 for e in ran if datetime.fromisoformat(e["at"]) > answered)
    missing = [name for name in IMMEDIATE_ROBOTS if name not in names]
    return {"sampled_deals": len(sample), "robots_ran_per_order": sorted(set(ran_per_deal)),
            "robot_names": sorted(names), "ran_after_response": late, "missing": missing}


def print_table(result: dict[str, Any]) -> None:
    print(f"\n{result['database']}: store order → deal created → immediate robots done")
    print(f"{'clients':>7} {'what':28} {'req/s':>8} {'median ms':>10} {'p99 ms':>9} {'errors':>7}")
    labels = {"health": "GET health (baseline)", "get_deal": "GET deal (baseline)", "order": "POST order.created"}
    for row in result["levels"]:
        for name, label in labels.items():
            r = row[name]
            print(f"{row['clients']:7d} {label:28} {r['rps']:8.1f} {r['median_ms']:10.1f} {r['p99_ms']:9.1f} "
                  f"{r['errors']:7d}")
            if r["first_errors"]:
                print(f"{'':8}first errors: {r['first_errors']}")
        print(f"{'':8}order / health median: {row['order']['median_ms'] / row['health']['median_ms']:.1f}x, "
              f"order / GET deal median: {row['order']['median_ms'] / row['get_deal']['median_ms']:.1f}x")
    check = result["robots"]
    print(f"automation log of {check['sampled_deals']} sampled deals: robots ran per order "
          f"{check['robots_ran_per_order']} ({', '.join(check['robot_names'])}); "
          f"ran after the response: {check['ran_after_response']}; missing: {check['missing'] or 'none'}")
    for goal in order_goals(result):
        print(f"issue 14 goal 4, store order, {goal['load']}: p50 {goal['median_ms']:.1f} ms "
              f"(goal ≤ {ORDER_GOAL_P50_MS:.0f}), p99 {goal['p99_ms']:.1f} ms (goal ≤ {ORDER_GOAL_P99_MS:.0f}), "
              f"{goal['rps']:.1f} orders/s, {goal['errors']} errors: {'met' if goal['met'] else 'NOT MET'}")
    start = result.get("start")
    if start:
        print(f"issue 14 goal 2, start over HTTP vs in-process ({start['per_kind']} each, one client, medians):")
        for key, label in (("health", "GET health"), ("http_start", "POST start over HTTP"),
                           ("in_process_start", "start in-process")):
            print(f"{'':8}{label:24} median {start[key]['median_ms']:7.2f} ms   p99 {start[key]['p99_ms']:7.2f} ms")
        print(f"{'':8}HTTP overhead {start['overhead_ms']:.2f} ms (goal ≤ {START_OVERHEAD_GOAL_MS:.0f} ms: "
              f"{'met' if start['met'] else 'NOT MET'}); beyond GET health {start['overhead_beyond_health_ms']:.2f} ms")
    statements = result.get("statements")
    if statements:
        print("statements per request: " + "; ".join(
            f"{name} {row['statements']} ({', '.join(f'{k} {v}' for k, v in row['by_kind'].items())})"
            for name, row in statements.items()))


def order_goals(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 14 goal 4's figures on PostgreSQL: 8 clients sending as fast as answered (closed
    loop, so the median is about 8 / throughput), and 8 clients sending on a schedule (open loop)
    at the rate given with --paced-rate (the issue's "today" figure was taken at 24 requests/s)."""
    if result["database"] != "PostgreSQL":
        return []
    found = [(f"{ORDER_GOAL_CLIENTS} clients, closed loop", row["order"]) for row in result["levels"]
             if row["clients"] == ORDER_GOAL_CLIENTS]
    if result.get("paced"):
        paced = result["paced"]
        found.append((f"{ORDER_GOAL_CLIENTS} clients, open loop at {paced['rate']:g} orders/s", paced))
    return [{"load": load, "median_ms": r["median_ms"], "p99_ms": r["p99_ms"], "rps": r["rps"], "errors": r["errors"],
             "met": r["median_ms"] <= ORDER_GOAL_P50_MS and r["p99_ms"] <= ORDER_GOAL_P99_MS and not r["errors"]}
            for load, r in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="requests per kind and concurrency level")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients, comma separated")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--paced-rate", type=float, default=24.0,
                        help="orders/s for the open-loop order run with 8 clients (issue 14 goal 4); 0 skips")
    parser.add_argument("--starts", type=int, default=200,
                        help="process starts per kind (HTTP, in-process, health) for issue 14 goal 2; 0 skips")
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (a fresh schema is used)")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    results: dict[str, Any] = {"bench": "api", "orders_per_level": args.orders, "levels": levels, "runs": [],
                               "starts": args.starts}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if not args.no_sqlite:
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            results["runs"].append(run_on("SQLite", url, levels, args.orders, args.warmup, workdir,
                                          args.starts, args.paced_rate))
            print_table(results["runs"][-1])
        if args.postgres:
            with postgres_schema(args.postgres, "dealflow_bench_api") as url:
                results["runs"].append(run_on("PostgreSQL", url, levels, args.orders, args.warmup, workdir,
                                                  args.starts, args.paced_rate))
            print_table(results["runs"][-1])
    results["machine"] = machine(args.postgres)
    write_json(args.json, results)


if __name__ == "__main__":
    main()
