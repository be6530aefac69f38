"""Playing one public BPMN file the way a designer would try it: deploy, start, drive to a rest.

Shared by tests/engine/test_interop.py (which compares with the manifest) and
tests/engine/interop/counts.py (which prints the counts and can record today's outcomes).
An outcome is one short line, so the manifest stays one line per file:

    refused: <the first problem's text>      deploy said 422 (InvalidProcess)
    start refused: <text>                    deployed, but the start was refused
    ended: <end event ids>                   the instance completed; the end events it reached
    waits: <element ids>                     still running after the rounds: where it rests
    incident: <element id>: <message>        an incident was opened there
    crash: <exception type>: <text>          anything else: what the API would answer with a 500
    hang                                     the wall-time guard fired
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import yaml
from sqlalchemy import select

from crm.clock import VirtualClock
from crm.db import Database
from crm.models import Task
from dsl.base_error import DealflowError
from engine.engine import Engine
from engine.errors import InvalidProcess, StartRefused
from engine.models import HistoryEntry, Incident, ProcessInstance, ProcessVersion
from engine.virtual_time import advance_to_next_job
from tests.support.world import TEST_CAUSE, demo_engine, make_deal
from triggers.messages import deliver_message

HERE = Path(__file__).resolve().parent.parent / "engine" / "interop"
MANIFEST = HERE / "manifest.yaml"
FILES = HERE / "files"
REPEATS = 3  # completions of one element's task before the driver stops answering it
ROUNDS = 12  # task completions or clock jumps before the instance is taken to rest where it is
WALL_SECONDS = 20.0
REASON_CHARS = 90


def load_manifest() -> list[dict[str, object]]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8")) or []


class Hang(BaseException):
    """A BaseException so that no `except Exception` in the engine swallows it."""


@contextmanager
def wall_guard(seconds: float) -> Iterator[None]:
    """The engine's step budget bounds a transaction; this bounds anything else (a parse that
    never ends), so one file cannot hang the run."""
    def fire(signum: int, frame: FrameType | None) -> None:
        raise Hang()

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _short(text: str) -> str:
    """One line, without the addresses a Python repr carries, cut to a length a manifest line holds."""
    return re.sub(r"0x[0-9a-fA-F]+", "0x?", " ".join(str(text).split()))[:REASON_CHARS]


def _reason(err: InvalidProcess) -> str:
    details = err.details
    if isinstance(details, list) and details and isinstance(details[0], dict) and details[0].get("message"):
        return _short(details[0]["message"])
    return _short(str(err))


def observe(database: Database, bpmn: Path) -> str:
    """Today's outcome of `bpmn` on a fresh demo world in `database`."""
    started = time.monotonic()
    try:
        with wall_guard(WALL_SECONDS):
            return _play(database, bpmn)
    except Hang:
        return f"hang after {time.monotonic() - started:.0f}s"


def _play(database: Database, bpmn: Path) -> str:
    clock = VirtualClock()
    engine = demo_engine(database, clock)
    try:
        version = engine.deploy(bpmn.read_bytes())
    except InvalidProcess as err:
        return f"refused: {_reason(err)}"
    except Exception as err:  # what the API would answer with a 500
        return f"crash: {type(err).__name__}: {_short(str(err))}"
    deal_id = make_deal(engine)
    try:
        try:
            instance_id = engine.start(version.key, deal_id, {}, cause=TEST_CAUSE).id
        except StartRefused as err:
            if not err.details.get("start_events"):
                raise
            instance_id = _start_by_messages(engine, version.id, deal_id)
        return _drive(engine, clock, deal_id, instance_id)
    except StartRefused as err:
        return f"start refused: {_short(str(err))}"
    except Exception as err:
        return f"crash: {type(err).__name__}: {_short(str(err))}"


def _start_by_messages(engine: Engine, version_id: int, deal_id: int) -> int:
    """A process that starts only on messages is started the way a designer would: by sending
    its start messages for the deal (POST /api/v1/messages), the first one starting it and the
    others reaching it (a parallel multiple start waits for them all)."""
    with engine.unit() as rt:
        names = list(rt.session.get_one(ProcessVersion, version_id).start_messages)
    if not names:
        raise StartRefused("the process starts on no message the harness can send", {})
    with engine.unit() as rt:
        started = deliver_message(rt, names[0], deal_id, {}, cause=TEST_CAUSE).started
    if not started:
        raise StartRefused(f"message {names[0]!r} started nothing", {})
    for name in names[1:]:
        with engine.unit() as rt:
            rt.send_message(deal_id, name, {}, cause=TEST_CAUSE)
    return started[0]


def _drive(engine: Engine, clock: VirtualClock, deal_id: int, instance_id: int) -> str:
    """Completes open tasks with empty data and jumps the clock to the next job, a bounded
    number of times; then says where the instance is. A task that keeps coming back (a loop
    that asks again while the answer is empty) is left open after REPEATS completions, so the
    clock moves on and the timer meant to end such a loop gets its turn."""
    completed: Counter[str | None] = Counter()
    for _ in range(ROUNDS):
        with engine.unit() as rt:
            if rt.session.get_one(ProcessInstance, instance_id).status != "running":
                break
            open_tasks = [(t.id, t.element_id) for t in rt.session.scalars(
                select(Task).where(Task.deal_id == deal_id, Task.status == "open").order_by(Task.id))]
        to_complete = [(i, e) for i, e in open_tasks if completed[e] < REPEATS]
        if to_complete:
            for task_id, element in to_complete:
                try:
                    with engine.unit() as rt:
                        task = rt.session.get_one(Task, task_id)
                        if task.status == "open":  # an earlier completion may have closed it
                            rt.crm.complete_task(task, cause=TEST_CAUSE, result={})
                            completed[element] += 1
                except DealflowError as err:
                    return f"task refused: {_short(str(err))}"
            continue
        if advance_to_next_job(engine, clock) is None:
            break
    return _where(engine, instance_id)


def _where(engine: Engine, instance_id: int) -> str:
    with engine.unit() as rt:
        instance = rt.session.get_one(ProcessInstance, instance_id)
        if instance.status == "completed":
            ends = sorted({h.element_id for h in rt.session.scalars(select(HistoryEntry).where(
                HistoryEntry.instance_id == instance_id, HistoryEntry.outcome == "completed",
                HistoryEntry.element_type.like("%EndEvent")))})
            return f"ended: {','.join(ends) or '-'}"
        if instance.status == "incident":
            incident = rt.session.scalars(select(Incident).where(Incident.instance_id == instance_id)
                                          .order_by(Incident.id.desc()).limit(1)).first()
            if incident is None:
                return "incident: -"
            return f"incident: {incident.element_id or '-'}: {_short(incident.message)}"
        if instance.status == "running":
            return f"waits: {','.join(rt.active_elements(instance)) or '-'}"
        return instance.status


def matches(expected: str, actual: str) -> bool:
    """Refusal and crash texts are compared by their start, so a reworded tail of a long message
    does not fail the case; every other outcome is compared whole."""
    if expected.startswith(("refused:", "start refused:", "crash:", "task refused:", "incident:")):
        return actual.startswith(expected.rstrip())
    return expected == actual
