"""Chaos: real `dealflow worker` processes on PostgreSQL, killed at random, must lose and double nothing.

The harness builds a world in a PostgreSQL schema of its own (demo users, an automation with
immediate and delayed robots, a BPMN process with a message and a timer, webhooks to a slow
receiver in this process), starts several `dealflow worker` processes on it, and feeds store
orders, payments, bank decisions and stage moves through the domain intake while:

* a killer SIGKILLs a random worker every so often, at whatever it is doing;
* `chaos_pause` (tests/chaos/actions.py) kills its own worker in the middle of an action;
* the receiver kills the worker that is sending to it, in the middle of an outbox delivery;

and every dead worker is restarted. When the feed is done the killing stops, the workers
finish, and `check` lists every broken promise:

* every accepted event was applied once (one deal per order, one payment note, one bank step);
* every due robot and timer fired once (one log outcome per done job, one effect per run;
  no job left due), every outbox message was delivered at least once, always with the same
  idempotency key and body;
* no process instance is stuck (running with nothing to wait for) without an open incident;
* each deal's timeline agrees with its state (last stage move = its stage; payment field).

Randomness comes from one seed, printed and in the report, so a failing schedule can be
replayed (`DEALFLOW_CHAOS_SEED`); process timing still varies from run to run.

    python -m tests.chaos.harness --rounds 30 --seed 1234
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from crm.db import Database
from crm.events import Cause
from crm.models import Deal, Notification, Task, TimelineEntry
from engine.models import HistoryEntry, Incident, Job, MessageWait, ProcessInstance
from robots.actions.tables import OutboxMessage
from robots.models import AutomationLogEntry
from triggers.models import Event

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("DEALFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
STORE = Cause("system", "store", "chaos store")
BANK = Cause("system", "bank", "chaos bank")
PERSON = Cause("user", None, "chaos manager")
FIRED = ("ran", "skipped", "cancelled", "failed", "stopped")


@dataclass
class Config:
    seed: int
    rounds: int = 8  # store orders fed, each with a payment, a bank decision and a stage move
    workers: int = 3
    lease: float = 2.0  # seconds before a dead worker's claims are taken over
    kill_every: tuple[float, float] = (0.4, 1.2)
    forced_crashes: int = 2  # in the middle of an action, for certain
    crash_probability: float = 0.08
    forced_delivery_kills: int = 2  # in the middle of an outbox delivery, for certain
    delivery_kill_probability: float = 0.08
    settle_seconds: float = 90.0


@dataclass
class Report:
    seed: int
    problems: list[str] = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)

    def describe(self) -> str:
        lines = [f"chaos seed {self.seed}: {dict(self.stats)}"]
        lines += [f"  - {p}" for p in self.problems[:40]]
        if len(self.problems) > 40:
            lines.append(f"  ... and {len(self.problems) - 40} more")
        return "\n".join(lines)


# ---------------------------------------------------------------------- the world


def automation_texts(port: int) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    return {
        "global": 'global "Chaos intake"\n\ntrigger "new order" on order.created:\n'
                  '  create_deal_from_order("main.in_processing")\n',
        "main": f'''pipeline main "Sales"

stage in_processing:
  robot "open credit" immediately:
    start_process("chaos_credit")
  robot "tell the store" after 1s:
    chaos_pause()
    webhook("{base}/store")
  then after 1s:
    chaos_pause()
    notify("head.north", "Store told about {{deal.title}}")

stage delivery:
  robot "courier" after 1s:
    chaos_pause()
    notify("head.north", "Courier for {{deal.title}}")
    webhook("{base}/courier")

trigger "order paid" on order.paid:
  set_field("payment_status", "paid")
  notify("head.north", "Order {{deal.order_id}} is paid")
''',
    }


def credit_process(port: int) -> str:
    from tests.support.bpmn import Bpmn

    return (Bpmn("chaos_credit", "Chaos credit").start().message_catch("bank", "bank.decision")
            .timer_catch("cool", duration="1s").service("pause", "chaos_pause")
            .service("tell", "webhook", url=f'"http://127.0.0.1:{port}/bank"')
            .service("done", "notify", to='"head.north"', text='"Credit done for " + deal.title').end()
            .chain("start", "bank", "cool", "pause", "tell", "done", "end").xml())


def build_world(url: str, port: int) -> Any:
    import tests.chaos.actions  # noqa: F401  (registers chaos_pause here too, for the automation check)
    from api.wiring import build_engine, catalog, prepare_database
    from robots.sources import save_automation

    engine = build_engine(Database(url))
    prepare_database(engine, demo=True, templates_dir=None, automation_dir=None)
    engine.deploy(credit_process(port))
    for scope, body in automation_texts(port).items():
        with engine.unit() as rt:
            save_automation(rt.session, rt.clock, scope, body, catalog(engine, rt.crm), "chaos")
    return engine


# ---------------------------------------------------------------------- the receiver


class Receiver:
    """A slow webhook receiver that sometimes kills the worker sending to it, mid-delivery."""

    def __init__(self, config: Config, workers: Workers) -> None:
        self.rng = random.Random(config.seed + 1)
        self.config = config
        self.workers = workers
        self.lock = threading.Lock()
        self.received: list[tuple[str, str, str]] = []  # (idempotency key, path, body)
        self.kills = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    receiver.received.append((key, self.path, body))
                    delay = receiver.rng.uniform(0.05, 0.4)
                    kill = receiver.kills < config.forced_delivery_kills or \
                        receiver.rng.random() < config.delivery_kill_probability
                time.sleep(delay)
                if kill and receiver.workers.kill_client(self.client_address[1]):
                    with receiver.lock:
                        receiver.kills += 1
                    return  # the sender is dead; nobody reads an answer
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------- the workers


class Workers:
    """`dealflow worker` processes (python -m api.cli worker), killed and restarted at will."""

    def __init__(self, config: Config, url: str, workdir: Path) -> None:
        self.config = config
        self.url = url
        self.workdir = workdir
        self.lock = threading.Lock()
        self.procs: list[subprocess.Popen | None] = [None] * config.workers
        self.starts = 0
        self.kills = 0

    def env(self, index: int) -> dict[str, str]:
        markers = self.workdir / "markers"
        markers.mkdir(exist_ok=True)
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DEALFLOW_DATABASE_URL": self.url,
            "DEALFLOW_SCHEDULER_INTERVAL": "0.2",
            "DEALFLOW_JOB_BATCH": "3",
            "DEALFLOW_JOB_LEASE": str(self.config.lease),
            "DEALFLOW_ACTION_MODULES": "tests.chaos.actions",
            "DEALFLOW_WEBHOOK_ALLOW": "127.0.0.1",
            "DEALFLOW_HTTP_TIMEOUT": "5",
            "DEALFLOW_MAILBOX_DIR": str(self.workdir / "mailbox"),
            "DEALFLOW_CHAOS_SEED": str(self.config.seed * 1000 + self.starts),
            "DEALFLOW_CHAOS_CRASH": f"{self.config.forced_crashes}:{self.config.crash_probability}:{markers}",
        }

    def start(self, index: int) -> None:
        with self.lock:
            log = (self.workdir / f"worker-{index}.log").open("ab")
            self.procs[index] = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "worker"], cwd=ROOT, env=self.env(index),
                stdout=log, stderr=subprocess.STDOUT,
            )
            log.close()
            self.starts += 1

    def start_all(self) -> None:
        for index in range(self.config.workers):
            self.start(index)

    def kill(self, index: int) -> None:
        with self.lock:
            proc = self.procs[index]
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                self.kills += 1

    def kill_client(self, port: int) -> bool:
        """SIGKILL the worker whose TCP connection comes from `port` (Linux /proc)."""
        pid = _pid_of_local_port(port, self.pids())
        if pid is None:
            return False
        with self.lock:
            for proc in self.procs:
                if proc is not None and proc.pid == pid and proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    self.kills += 1
                    return True
        return False

    def pids(self) -> list[int]:
        with self.lock:
            return [p.pid for p in self.procs if p is not None and p.poll() is None]

    def revive(self) -> int:
        """Restart every worker that died (killed, or crashed itself); returns how many."""
        dead = [i for i, p in enumerate(self.procs) if p is None or p.poll() is not None]
        for index in dead:
            self.start(index)
        return len(dead)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is not None:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _pid_of_local_port(port: int, pids: list[int]) -> int | None:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return pid
    return None


class Killer(threading.Thread):
    """Kills a random worker every so often and restarts whatever died."""

    def __init__(self, config: Config, workers: Workers) -> None:
        super().__init__(daemon=True)
        self.rng = random.Random(config.seed + 2)
        self.config = config
        self.workers = workers
        self.stopping = threading.Event()
        self.killing = threading.Event()
        self.killing.set()

    def run(self) -> None:
        next_kill = time.monotonic() + self.rng.uniform(*self.config.kill_every)
        while not self.stopping.wait(0.1):
            if self.killing.is_set() and time.monotonic() >= next_kill:
                self.workers.kill(self.rng.randrange(self.config.workers))
                next_kill = time.monotonic() + self.rng.uniform(*self.config.kill_every)
            self.workers.revive()


# ---------------------------------------------------------------------- feeding


@dataclass
class Fed:
    accepted: dict[str, int] = field(default_factory=dict)  # idempotency key -> event id
    repeats: int = 0
    moved: set[str] = field(default_factory=set)  # order ids whose deal a person moved
    orders: list[str] = field(default_factory=list)


def feed(engine: Any, config: Config, fed: Fed) -> None:
    """Every order's steps in its own order (created first), the orders interleaved at random."""
    rng = random.Random(config.seed)
    plans: list[list[tuple[str, str]]] = []
    for n in range(config.rounds):
        order_id = f"X{config.seed}-{n}"
        fed.orders.append(order_id)
        rest = ["paid", "bank", "move"]
        rng.shuffle(rest)
        plans.append([(order_id, step) for step in ["created", *rest]])
    while plans:
        plan = rng.choice(plans)
        order_id, step = plan.pop(0)
        if not plan:
            plans.remove(plan)
        _step(engine, fed, rng, order_id, step)
        time.sleep(rng.uniform(0, 0.25))


def _step(engine: Any, fed: Fed, rng: random.Random, order_id: str, step: str) -> None:
    from triggers.intake import accept_event

    if step == "move":
        def move(rt: Any) -> None:
            deal = rt.crm.deal(_deal_id(rt, order_id), for_update=True)
            if not deal.fields.get("delivery_address"):  # the stage gate of delivery (crm/demo_board.py)
                rt.crm.set_fields(deal, {"delivery_address": f"Address of {order_id}"}, cause=PERSON)
            rt.crm.move_deal(deal, "main.delivery", cause=PERSON)
        engine.retrying(move)
        fed.moved.add(order_id)
        return
    if step == "created":
        number = int(order_id.split("-")[1])
        payload: dict[str, Any] = {
            "order_id": order_id, "amount": str(1000 + number), "currency": "RUB", "department": "store_north",
            "customer": {"name": f"Client {order_id}", "phone": f"+7 900 {number:03d}-{rng.randrange(100):02d}-00"},
        }
        event, source, cause = "order.created", "store", STORE
    elif step == "paid":
        payload, event, source, cause = {"order_id": order_id, "paid": True}, "order.paid", "store", STORE
    else:
        with engine.unit() as rt:
            deal_id = _deal_id(rt, order_id)
        payload = {"deal_id": deal_id, "approved": rng.random() < 0.7, "comment": f"bank on {order_id}"}
        event, source, cause = "bank.decision", "bank", BANK
    key = f"{step}-{order_id}"
    for _ in range(2 if rng.random() < 0.3 else 1):  # the sender retries now and then
        result = engine.retrying(lambda rt: accept_event(rt, event, payload, idempotency_key=key, source=source,
                                                         cause=cause))
        if result.duplicate:
            fed.repeats += 1
            if fed.accepted.get(key) != result.event_id:
                raise AssertionError(f"repeat of {key} answered with event {result.event_id}")
        else:
            fed.accepted[key] = result.event_id


def _deal_id(rt: Any, order_id: str) -> int:
    (deal,) = rt.crm.deals_with_field("order_id", order_id)
    return deal.id


# ---------------------------------------------------------------------- settling and checking


def settle(engine: Any, seconds: float) -> bool:
    """Wait until no job is due or claimed and no message waits to be sent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with engine.db.transaction() as session:
            now = engine.clock.now()
            jobs = session.scalar(select(func.count()).select_from(Job).where(
                Job.status == "pending", Job.due_at <= now + timedelta(seconds=1)))
            outbox = session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == "pending"))
        if not jobs and not outbox:
            return True
        time.sleep(0.3)
    return False


def check(engine: Any, fed: Fed, receiver: Receiver, report: Report) -> None:
    """Every promise of the issue, checked against the rows (and the receiver's log)."""
    with engine.db.transaction() as session:
        now = engine.clock.now()
        deals = _check_events(session, fed, report)
        texts = Counter(session.scalars(select(Notification.text)))
        _check_payments(deals, texts, report)
        _check_robots(session, fed, deals, texts, now, report)
        _check_processes(session, deals, texts, report)
        _check_outbox(session, receiver, report)
        _check_timelines(session, deals, report)


def _check_events(session: Any, fed: Fed, report: Report) -> dict[str, Deal]:
    """Every accepted event stored once and applied; one deal per order."""
    events = {e.id: e for e in session.scalars(select(Event))}
    for key, event_id in fed.accepted.items():
        event = events.get(event_id)
        if event is None or event.processed_at is None:
            report.problems.append(f"event {key} ({event_id}) was accepted but is not applied")
    if len(events) != len(fed.accepted):
        report.problems.append(f"{len(events)} events stored for {len(fed.accepted)} accepted")
    report.stats["events"] = len(events)
    deals: dict[str, Deal] = {}
    for order_id in fed.orders:
        found = session.scalars(select(Deal).where(Deal.fields["order_id"].as_string() == order_id)).all()
        if len(found) != 1:
            report.problems.append(f"order {order_id} has {len(found)} deals, not 1")
            continue
        deals[order_id] = found[0]
    return deals


def _check_payments(deals: dict[str, Deal], texts: Counter, report: Report) -> None:
    for order_id, deal in deals.items():
        if texts[f"Order {order_id} is paid"] != 1:
            report.problems.append(f"order {order_id}: payment applied {texts[f'Order {order_id} is paid']} times")
        if deal.fields.get("payment_status") != "paid":
            report.problems.append(f"deal {deal.id}: payment_status is {deal.fields.get('payment_status')!r}")


def _check_robots(session: Any, fed: Fed, deals: dict[str, Deal], texts: Counter, now: Any,
                  report: Report) -> None:
    """One outcome per robot job that ran, its effect at most once, nothing left due or failed."""
    problems = report.problems
    outcomes = Counter(session.scalars(select(AutomationLogEntry.job_id).where(
        AutomationLogEntry.outcome.in_(FIRED), AutomationLogEntry.job_id.is_not(None))))
    for job in session.scalars(select(Job).where(Job.kind == "robot", Job.status == "done")):
        if outcomes[job.id] != 1:
            problems.append(f"robot job {job.id} ({job.element_id}) fired {outcomes[job.id]} times")
    for order_id, deal in deals.items():
        for note in ("Store told about", "Courier for"):
            if texts[f"{note} {deal.title}"] > 1:
                problems.append(f"deal {deal.id}: '{note}' ran {texts[f'{note} {deal.title}']} times")
        if order_id in fed.moved and deal.stage.code == "delivery" and texts[f"Courier for {deal.title}"] != 1:
            problems.append(f"deal {deal.id}: the courier robot ran {texts[f'Courier for {deal.title}']} times")
    for job in session.scalars(select(Job).where(Job.status == "pending", Job.due_at <= now)):
        problems.append(f"job {job.id} ({job.kind} {job.element_id}) is still due since {job.due_at}")
    for job in session.scalars(select(Job).where(Job.status == "failed")):
        problems.append(f"job {job.id} ({job.kind}) failed: {job.last_error}")
    report.stats["jobs_done"] = session.scalar(select(func.count()).select_from(Job).where(Job.status == "done"))


def _check_processes(session: Any, deals: dict[str, Deal], texts: Counter, report: Report) -> None:
    """One credit process per deal; its message and timer once each; nobody stuck."""
    problems = report.problems
    instances = session.scalars(select(ProcessInstance).where(ProcessInstance.key == "chaos_credit")).all()
    by_deal = Counter(i.deal_id for i in instances)
    history = Counter(session.execute(select(HistoryEntry.instance_id, HistoryEntry.element_id).where(
        HistoryEntry.outcome == "completed")).all())
    for deal in deals.values():
        if by_deal[deal.id] != 1:
            problems.append(f"deal {deal.id}: {by_deal[deal.id]} credit processes, not 1")
        if texts[f"Credit done for {deal.title}"] > 1:
            problems.append(f"deal {deal.id}: the credit process finished {texts[f'Credit done for {deal.title}']}"
                            " times")
    open_incidents = set(session.scalars(select(Incident.instance_id).where(Incident.status == "open")))
    waits = set(session.scalars(select(MessageWait.instance_id)))
    timers = set(session.scalars(select(Job.instance_id).where(Job.status.in_(("pending", "waiting")))))
    tasks = set(session.scalars(select(Task.process_instance_id).where(Task.status == "open")))
    for instance in instances:
        for element in ("bank", "cool", "tell"):
            if history[(instance.id, element)] > 1:
                problems.append(f"instance {instance.id}: {element} completed {history[(instance.id, element)]} times")
        if instance.status == "completed":
            if history[(instance.id, "cool")] != 1:
                problems.append(f"instance {instance.id} completed without its timer firing once")
        elif instance.status == "incident":
            if instance.id not in open_incidents:
                problems.append(f"instance {instance.id} is in incident with no open incident")
        elif instance.status == "running" and instance.id not in waits | timers | tasks:
            problems.append(f"instance {instance.id} is stuck: running, waiting for nothing, no incident")
        elif instance.status == "running":
            problems.append(f"instance {instance.id} still waits after every event was fed")
    report.stats["instances_completed"] = sum(i.status == "completed" for i in instances)


def _check_outbox(session: Any, receiver: Receiver, report: Report) -> None:
    """Everything sent, at least once, with one key and one body per message."""
    problems = report.problems
    messages = session.scalars(select(OutboxMessage)).all()
    for message in messages:
        if message.status != "sent":
            problems.append(f"outbox {message.id} is {message.status}: {message.last_error}")
    bodies: dict[str, set[str]] = defaultdict(set)
    for key, path, body in receiver.received:
        bodies[key].add(f"{path} {json.dumps(json.loads(body), sort_keys=True)}")
    keys = {m.idempotency_key for m in messages}
    for message in messages:
        if message.idempotency_key not in bodies:
            problems.append(f"outbox {message.id} was never received")
    for key, seen in bodies.items():
        if key not in keys:
            problems.append(f"the receiver got a message no outbox row holds: {key}")
        if len(seen) != 1:
            problems.append(f"message {key} arrived with {len(seen)} different bodies")
    per_key = Counter(key for key, _, _ in receiver.received)
    report.stats["outbox_messages"] = len(messages)
    report.stats["redelivered"] = sum(1 for n in per_key.values() if n > 1)


def _check_timelines(session: Any, deals: dict[str, Deal], report: Report) -> None:
    """Replaying a deal's timeline gives its stage and its payment field."""
    for deal in deals.values():
        stage = paid = None
        for entry in session.scalars(select(TimelineEntry).where(TimelineEntry.deal_id == deal.id)
                                     .order_by(TimelineEntry.id)):
            if entry.kind == "created":
                stage = entry.data.get("stage")
            elif entry.kind == "stage_moved":
                stage = entry.data.get("to_stage")
            elif entry.kind == "field_changed" and entry.data.get("field") == "payment_status":
                paid = entry.data.get("new")
        if stage != deal.stage.code:
            report.problems.append(f"deal {deal.id}: the timeline says stage {stage}, the deal is on {deal.stage.code}")
        if paid != deal.fields.get("payment_status"):
            report.problems.append(f"deal {deal.id}: the timeline says payment {paid!r}, the deal has "
                                   f"{deal.fields.get('payment_status')!r}")


# ---------------------------------------------------------------------- one run


def run(config: Config, workdir: Path, postgres_url: str = POSTGRES_URL) -> Report:
    """Build the world in a fresh schema, run the chaos, check, drop the schema."""
    report = Report(config.seed)
    schema = f"dealflow_chaos_{uuid.uuid4().hex[:10]}"
    admin = Database(postgres_url)
    with admin.transaction() as session:
        session.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{postgres_url}{'&' if '?' in postgres_url else '?'}options=-csearch_path%3D{schema}"
    workers = Workers(config, url, workdir)
    receiver = Receiver(config, workers)
    killer = Killer(config, workers)
    engine = None
    try:
        receiver.start()
        engine = build_world(url, receiver.port)
        workers.start_all()
        killer.start()
        fed = Fed()
        feed(engine, config, fed)
        time.sleep(config.lease * 2)  # a little more chaos while the last jobs fall due
        killer.killing.clear()
        time.sleep(0.3)
        workers.revive()
        if not settle(engine, config.settle_seconds):
            report.problems.append(f"work still due after {config.settle_seconds}s of calm")
        check(engine, fed, receiver, report)
        crashes_log = workdir / "markers" / "crashes.log"
        report.stats.update({
            "orders": config.rounds, "repeats": fed.repeats, "worker_starts": workers.starts,
            "kills": workers.kills, "kills_mid_delivery": receiver.kills,
            "crashes_mid_action": len(crashes_log.read_text().split()) if crashes_log.exists() else 0,
        })
        if report.stats["crashes_mid_action"] < config.forced_crashes:
            report.problems.append("fewer workers crashed in the middle of an action than forced")
        if receiver.kills < config.forced_delivery_kills:
            report.problems.append("fewer workers were killed in the middle of a delivery than forced")
    finally:
        killer.stopping.set()
        killer.join(timeout=5)
        workers.stop_all()
        receiver.stop()
        if engine is not None:
            engine.db.dispose()
        with admin.transaction() as session:
            session.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("DEALFLOW_CHAOS_ROUNDS", "30")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("DEALFLOW_CHAOS_SEED")
                                                        or random.SystemRandom().randrange(1 << 30)))
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    import tempfile

    print(f"chaos seed {args.seed}", flush=True)
    with tempfile.TemporaryDirectory(prefix="dealflow-chaos-") as tmp:
        report = run(Config(seed=args.seed, rounds=args.rounds, workers=args.workers), Path(tmp))
    print(report.describe())
    sys.exit(1 if report.problems else 0)


if __name__ == "__main__":
    main()
