"""The test bench: sandbox runs of a process or of a pipeline's robots, on a virtual clock.

A designer wants to see what a process or a robot would do to a deal without doing it: send
the bank's answer, jump three days ahead, look at the diagram, the board and the log. Each
run is therefore a world of its own — its own SQLite file with a copy of the reference data
(pipelines and stages, departments, users, custom fields, the deployed processes and decisions, the saved
robots and triggers) and a copy of one deal — driven by an engine built exactly like the
production one (`api.wiring.build_engine`: same actions, robots, triggers) on a
`VirtualClock`. Nothing a run does can reach a real deal: it holds no connection to the real
database after the copy, and its outbox is never delivered (the messages that would have been
sent are listed in the run's state instead).

A run is two files in the bench directory: `<id>.sqlite3` (the world) and `<id>.json` (what
the run is, its clock and the steps taken, for saving it as a test case). Any server process
sharing the directory can serve any run; an exclusive lock on `<id>.lock` orders the
operations on one run across threads and processes. Runs untouched for `ttl` are deleted.

It lives in `api` because it needs the whole wiring (the one place that knows every
package); it imports no Flask.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

import api.migrations.models  # noqa: F401  (every table on Base.metadata)
from api.wiring import build_engine
from crm import json_codec
from crm.clock import Clock, VirtualClock
from crm.db import Base, Database
from crm.errors import NotFound
from crm.events import Cause
from crm.models import (
    Contact,
    ContactChannel,
    Deal,
    Department,
    FieldDef,
    Notification,
    Pipeline,
    Stage,
    Task,
    TimelineEntry,
    User,
)
from crm.timeline_params import timeline_params
from dsl import DslError, parse_duration
from engine.broadcast import Broadcast, broadcaster_for
from engine.engine import Engine
from engine.errors import EngineError, StartRefused
from engine.models import DecisionVersion, HistoryEntry, Incident, Job, MessageWait, ProcessInstance, ProcessVersion
from engine.testcases import create_deal_from_spec
from engine.virtual_time import advance, advance_to_next_job
from robots.actions.tables import OutboxMessage
from robots.log import broadcast_of, for_deal
from robots.models import AutomationLogEntry, AutomationSource
from robots.runtime import apply_to_deals_on_stage
from triggers.intake import accept_event
from triggers.schemas import SCHEMAS

log = logging.getLogger(__name__)

KINDS = ("process", "robots")
DEFAULT_TTL = timedelta(hours=24)
MAX_OPEN = 8
MAX_STEPS = 500
MAX_ADVANCE = timedelta(days=3653)
LAST_MOMENT = datetime(9000, 1, 1, tzinfo=UTC)  # far from datetime's end, where adding a delay overflows
BENCH_SOURCE = "test-bench"
#: Tables copied whole: what every automation may look up (business rule tasks and
#: assign_responsible the decision tables). Users lose their password hashes.
REFERENCE_TABLES = (Department, User, Pipeline, Stage, FieldDef, ProcessVersion, DecisionVersion)
SCRUBBED = {"users": {"password_hash": None}}

Announce = Callable[[Broadcast], None]
EngineBuilder = Callable[[Database, Clock], Engine]


class BenchError(EngineError):
    """Something the caller asked of the bench that cannot be done; nothing was changed."""

    code = "test_run_error"
    status = 422

    def __init__(self, message: str, details: Any = None, *, code: str | None = None) -> None:
        super().__init__(message, details)
        if code is not None:
            self.code = code


class UnknownRun(BenchError):
    code = "test_run_not_found"
    status = 404


class InvalidRunInput(BenchError):
    code = "invalid_test_run"


class RunConflict(BenchError):
    code = "test_run_conflict"
    status = 409


def run_room(run_id: int) -> str:
    return f"test-run:{run_id}"


def default_directory(database_url: str, configured: Path | None = None) -> Path:
    """Where runs live: `configured` (DEALFLOW_SANDBOX_DIR, api.settings), else beside a SQLite
    database file, else the system's temporary directory (shared by every server process on the machine)."""
    if configured is not None:
        return configured
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        return Path(database_url.removeprefix("sqlite:///")).parent / "sandboxes"
    return Path(tempfile.gettempdir()) / "dealflow-sandboxes"


@dataclass
class RunInfo:
    """What a run is; stored as `<id>.json` beside its database."""

    id: int
    kind: str
    clock: str
    started_at: str
    deal_id: int
    deal_spec: dict[str, Any]
    source_deal_id: int | None = None
    process: str | None = None
    process_version: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    pipeline: str | None = None
    robots: bool = True
    instance_id: int | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    events_sent: int = 0
    owner: str | None = None  # the Cause ref of who made it: a user's id
    #: What the person did to the run, each with its virtual time: the bench's own rows of the log
    #: (the steps above are the case file's, which carry no time).
    story: list[dict[str, Any]] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return datetime.fromisoformat(self.clock)


@dataclass
class _Open:
    """A run's engine, kept per server process between requests."""

    engine: Engine
    clock: VirtualClock


class TestBench:
    """Creates, drives, reads and deletes sandbox runs in one directory.

    `source` is the real engine: it is only read from (reference data and the chosen deal).
    `announce` receives every committed change of a run, addressed to room `test-run:<id>`.
    """

    __test__ = False  # not a pytest class, whatever its name says

    def __init__(self, source: Engine, directory: Path, *, announce: Announce | None = None,
                 ttl: timedelta = DEFAULT_TTL, builder: EngineBuilder = build_engine,
                 real_clock: Clock | None = None) -> None:
        self.source = source
        self.directory = Path(directory)
        self.announce = announce
        self.ttl = ttl
        self.builder = builder
        # A run starts at the real engine's now: the wall clock in production, a test's own clock in tests.
        self.real_clock = real_clock or source.clock
        self._open: OrderedDict[int, _Open] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ create and delete

    def create(self, *, kind: str, cause: Cause, process: str | None = None, version: int | None = None,
               params: Mapping[str, Any] | None = None, pipeline: str | None = None,
               deal_id: int | None = None, deal: Mapping[str, Any] | None = None,
               robots: bool = True, start: datetime | None = None) -> dict[str, Any]:
        """A new run on a copy of real deal `deal_id` or of a deal described by `deal` (the
        test-case deal format); returns its state. Refused with every problem, leaving nothing."""
        self.expire()
        if kind not in KINDS:
            raise InvalidRunInput("unknown kind of run", {"kind": f"must be one of {', '.join(KINDS)}"})
        if (deal_id is None) == (deal is None):
            raise InvalidRunInput("give either deal_id or deal", {"deal_id": "give a deal id or a deal form"})
        moment = start or self.real_clock.now()
        if moment.tzinfo is None:
            raise InvalidRunInput("the start needs a timezone", {"start": "needs a timezone"})
        self.directory.mkdir(parents=True, exist_ok=True)
        run_id = self._new_id()
        try:
            info = self._build(run_id, kind=kind, cause=cause, process=process, version=version,
                               params=dict(params or {}), pipeline=pipeline, deal_id=deal_id,
                               deal=dict(deal) if deal is not None else None, robots=robots or kind == "robots",
                               start=moment.astimezone(UTC))
        except BaseException:
            self._discard(run_id)
            raise
        with self._run(run_id) as (_, opened):
            return self._state(info, opened)

    def owner(self, run_id: int) -> str | None:
        """Who made the run (a user id as text), for the API to keep runs to their makers."""
        return self._load(run_id).owner

    def delete(self, run_id: int) -> None:
        if not self._path(run_id, "json").exists():
            raise UnknownRun(f"no test run {run_id}")
        with self._exclusive(run_id) as locked:
            assert locked
            self._discard(run_id)

    def expire(self) -> list[int]:
        """Delete the runs nobody touched for `ttl`; returns their ids."""
        if not self.directory.exists():
            return []
        limit = time.time() - self.ttl.total_seconds()
        gone = []
        for path in self.directory.glob("*.json"):
            try:
                if not path.stem.isdigit() or path.stat().st_mtime >= limit:
                    continue
            except FileNotFoundError:
                continue
            with self._exclusive(int(path.stem), wait=False) as locked:
                if locked:  # a run in use right now is not expired
                    self._discard(int(path.stem))
                    gone.append(int(path.stem))
        return gone

    # ------------------------------------------------------------------ driving a run

    def state(self, run_id: int) -> dict[str, Any]:
        with self._run(run_id) as (info, opened):
            return self._state(info, opened)

    def send_event(self, run_id: int, event_type: str, payload: Mapping[str, Any], *,
                   source: str = BENCH_SOURCE) -> dict[str, Any]:
        """A CRM event, as POST /api/v1/events takes it, applied in the sandbox. A payload that
        names no deal but could is about the run's deal."""
        with self._run(run_id, write=True) as (info, opened):
            body = dict(payload)
            schema = SCHEMAS.get(event_type)
            if schema is not None and "deal_id" in schema.fields and "deal_id" not in body:
                body["deal_id"] = info.deal_id
            info.events_sent += 1
            mark = _mark(opened)
            with opened.engine.unit() as rt:
                result = accept_event(rt, event_type, body, idempotency_key=f"bench-{run_id}-{info.events_sent}",
                                      source=source, cause=Cause("system", source, "test bench"))
            payload = {k: v for k, v in json_codec.plain(body).items() if k != "deal_id"}
            _tell(info, mark, "event_sent", {"event": event_type, "payload": payload})
            self._step(info, {"event": {"message": event_type, "payload": payload}}, opened)
            return {"event": result.as_dict(), "state": self._state(info, opened)}

    def complete_task(self, run_id: int, task_id: int, result: Mapping[str, Any] | None = None) -> dict[str, Any]:
        with self._run(run_id, write=True) as (info, opened):
            mark = _mark(opened)
            with opened.engine.unit() as rt:
                task = self._task(rt.session, info, task_id)
                title = task.title
                rt.crm.complete_task(task, cause=_person(), result=dict(result or {}))
            _tell(info, mark, "task_completed", {"title": title})
            step: dict[str, Any] = {"title_contains": title}
            if result:
                step["result"] = json_codec.plain(dict(result))
            self._step(info, {"complete_task": step}, opened)
            return self._state(info, opened)

    def move_task(self, run_id: int, task_id: int, column: str) -> dict[str, Any]:
        with self._run(run_id, write=True) as (info, opened):
            mark = _mark(opened)
            with opened.engine.unit() as rt:
                task = self._task(rt.session, info, task_id)
                title = task.title
                rt.crm.move_task(task, column, cause=_person())
            _tell(info, mark, "task_moved", {"title": title, "column": column})
            self._step(info, {"move_task": {"title_contains": title, "column": column}}, opened)
            return self._state(info, opened)

    def move(self, run_id: int, stage: str) -> dict[str, Any]:
        """Move the sandbox deal, as a manager dragging its card would."""
        with self._run(run_id, write=True) as (info, opened):
            mark = _mark(opened)
            with opened.engine.unit() as rt:
                deal = rt.crm.deal(info.deal_id, for_update=True)
                rt.crm.move_deal(deal, stage, cause=_person())
                ref = deal.stage.ref
            _tell(info, mark, "deal_moved", {"stage": ref})
            self._step(info, {"move": ref}, opened)
            return self._state(info, opened)

    def advance(self, run_id: int, *, by: str | None = None, to_next_job: bool = False) -> dict[str, Any]:
        """Move the clock by a duration (`2d 4h`, `P2D`) or to the next due job, running every
        job that falls due on the way at its own due time."""
        if (by is None) == (not to_next_job):
            raise InvalidRunInput("give either a duration or next_job", {"by": "give a duration, or to: next_job"})
        delta = None
        if by is not None:
            try:
                delta = parse_duration(by)
            except DslError as err:
                raise InvalidRunInput(str(err), {"by": str(err)}) from None
            if delta > MAX_ADVANCE:
                raise InvalidRunInput("the clock moves at most 10 years at a time", {"by": "is longer than 10 years"})
        with self._run(run_id, write=True) as (info, opened):
            before = opened.clock.now()
            mark = _mark(opened)
            if delta is not None and before + delta > LAST_MOMENT:
                raise InvalidRunInput("the run's clock cannot go that far", {"by": "goes past the year 9000"})
            if delta is not None:
                ran = advance(opened.engine, opened.clock, delta)
            else:
                due = advance_to_next_job(opened.engine, opened.clock)
                if due is None:
                    raise RunConflict("no job is due in this run", code="no_job_due")
                ran = None
            moved = opened.clock.now() - before
            info.clock = opened.clock.now().isoformat()
            # At the moment the jump began: the jobs it ran come after it, each at its own due time.
            _tell(info, mark, "clock_moved", {"by": format_duration(moved), "to": info.clock,
                                              "next_job": to_next_job, "jobs_run": ran})
            self._step(info, {"advance": format_duration(moved)}, opened)
            self._emit(info.id, Broadcast("test-run.clock", (run_room(info.id),),
                                          {"run_id": info.id, "now": info.clock, "moved_by": format_duration(moved),
                                           "jobs_run": ran}))
            return self._state(info, opened)

    # ------------------------------------------------------------------ reading

    def log(self, run_id: int) -> list[dict[str, Any]]:
        """Every robot, trigger, process step and deal change of the run, by time, with its reason."""
        with self._run(run_id) as (info, opened), opened.engine.db.sessions() as session:
            return run_log(session, info.deal_id, info.story)

    def case(self, run_id: int, name: str | None = None) -> dict[str, Any]:
        """The run as a test case `dealflow test-processes` replays: the YAML of the case file
        and the BPMN it needs beside it (`<process>.bpmn`)."""
        with self._run(run_id) as (info, opened):
            if info.kind != "process" or info.instance_id is None:
                raise RunConflict("only a process run can be saved as a test case", code="not_a_process_run")
            with opened.engine.db.sessions() as session:
                expect = _expectations(session, info.deal_id, info.instance_id)
                xml = session.scalar(select(ProcessVersion.xml).join(
                    ProcessInstance, ProcessInstance.version_id == ProcessVersion.id).where(
                    ProcessInstance.id == info.instance_id))
            case: dict[str, Any] = {"name": name or f"test bench run {info.id}", "clock": info.started_at,
                                    "deal": info.deal_spec, "start": info.params, "steps": info.steps,
                                    "expect": expect}
            header = (f"# Saved from test bench run {info.id} on {info.started_at}; replay with "
                      f"`dealflow test-processes <this file>` ({info.process}.bpmn must sit beside it).\n")
            if info.robots:
                header += ("# The run had the pipelines' robots and triggers on; a replay runs the process alone,\n"
                           "# so a step a robot took in the run is not taken in the replay.\n")
            document = {"process": info.process, "cases": [case]}
            return {"file_name": f"{info.process}.cases.yaml", "process": info.process,
                    "bpmn_file_name": f"{info.process}.bpmn", "bpmn": xml,
                    "yaml": header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)}

    # ------------------------------------------------------------------ building a run

    def _build(self, run_id: int, *, kind: str, cause: Cause, process: str | None, version: int | None,
               params: dict[str, Any], pipeline: str | None, deal_id: int | None, deal: dict[str, Any] | None,
               robots: bool, start: datetime) -> RunInfo:
        with self.source.db.sessions() as real:
            original, spec = _checked(real, kind=kind, process=process, pipeline=pipeline, deal_id=deal_id,
                                      deal=deal)
            db = Database(f"sqlite:///{self._path(run_id, 'sqlite3')}")
            try:
                Base.metadata.create_all(db.engine)
                with db.transaction() as copy:
                    copy.execute(text("PRAGMA defer_foreign_keys = ON"))
                    copy_reference_data(real, copy, robots=robots)
                    if original is not None:
                        copy_deal(real, copy, original)
            finally:
                db.dispose()
        clock = VirtualClock(start)
        info = RunInfo(id=run_id, kind=kind, clock=start.isoformat(), started_at=start.isoformat(), deal_id=0,
                       deal_spec=json_codec.plain(spec), source_deal_id=deal_id, process=process,
                       params=json_codec.plain(params), pipeline=pipeline, robots=robots,
                       owner=cause.ref if cause.kind == "user" else None,
                       story=[{"at": start.isoformat(), "after": {}, "kind": "run_started",
                               "params": {"run": kind, "pipeline": pipeline, "copied_deal": deal_id,
                                          "title": spec.get("title")}}])
        opened = self._open_engine(run_id, clock)
        engine = opened.engine
        with engine.unit() as rt:
            if original is not None:
                info.deal_id = original.id
                copied = rt.crm.deal(original.id)
                # A copied deal is already on its stage: its robots are planned as if it just arrived.
                apply_to_deals_on_stage(rt, copied.pipeline.code, copied.stage.code, cause)
            else:
                try:
                    info.deal_id = create_deal_from_spec(rt, spec)
                except NotFound as err:
                    raise InvalidRunInput(f"the deal form is not valid: {err}", {"deal": str(err)}) from None
                except (KeyError, TypeError, ValueError, AttributeError) as err:
                    raise InvalidRunInput(f"the deal form is not valid: {err!r}", {"deal": repr(err)}) from None
            if kind == "process":
                assert process is not None
                # Told before the start, so the log has the deal made first and the steps after it.
                info.story.append({"at": start.isoformat(), "after": _marks(rt.session), "kind": "process_started",
                                   "params": {"process": process}})
                try:
                    instance = rt.start(process, info.deal_id, params, cause=cause, version=version,
                                        is_sandbox=True)
                except StartRefused as refused:
                    raise InvalidRunInput(refused.message, refused.details, code="start_refused") from None
                except NotFound as err:
                    raise InvalidRunInput(err.message, {"version": err.message}) from None
                info.instance_id = instance.id
                info.process_version = rt.session.get_one(ProcessVersion, instance.version_id).version
        self._save(info)
        return info

    # ------------------------------------------------------------------ files, locks, engines

    def _path(self, run_id: int, suffix: str) -> Path:
        return self.directory / f"{run_id}.{suffix}"

    def _new_id(self) -> int:
        """A random id fit for the room name `test-run:<id>`, claimed by creating its file."""
        for _ in range(100):
            run_id = 10**11 + secrets.randbelow(9 * 10**11)
            try:
                os.close(os.open(self._path(run_id, "json"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue
            return run_id
        raise RuntimeError("could not find a free test run id")

    @contextmanager
    def _run(self, run_id: int, *, write: bool = False) -> Iterator[tuple[RunInfo, _Open]]:
        """The run, locked against every other thread and process for the block; what a write
        changed in the run's description is saved at its end (also when the block failed after
        committing, so the clock never goes back)."""
        if not self._path(run_id, "json").exists():
            raise UnknownRun(f"no test run {run_id}")
        with self._exclusive(run_id):
            info = self._load(run_id)
            os.utime(self._path(run_id, "json"))  # in use: not to be expired
            opened = self._open_engine(run_id, VirtualClock(info.now))
            if opened.clock.now() < info.now:
                opened.clock.set(info.now)
            try:
                yield info, opened
            finally:
                if write:
                    info.clock = opened.clock.now().isoformat()
                    self._save(info)

    @contextmanager
    def _exclusive(self, run_id: int, *, wait: bool = True) -> Iterator[bool]:
        """The run's lock, held for the block; without `wait`, False when someone else holds it."""
        with open(self._path(run_id, "lock"), "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _load(self, run_id: int) -> RunInfo:
        try:
            raw = json_codec.loads(self._path(run_id, "json").read_text(encoding="utf-8") or "null")
        except FileNotFoundError:
            raw = None
        if not raw:
            raise UnknownRun(f"no test run {run_id}")
        return RunInfo(**raw)

    def _save(self, info: RunInfo) -> None:
        target = self._path(info.id, "json")
        partial = target.with_suffix(".json.part")
        partial.write_text(json_codec.dumps(asdict(info), ensure_ascii=False), encoding="utf-8")
        os.replace(partial, target)

    def _open_engine(self, run_id: int, clock: VirtualClock) -> _Open:
        with self._lock:
            opened = self._open.get(run_id)
            if opened is not None:
                self._open.move_to_end(run_id)
                return opened
            db = Database(f"sqlite:///{self._path(run_id, 'sqlite3')}")
            engine = self.builder(db, clock)
            broadcaster = broadcaster_for(engine)
            broadcaster.on_row(AutomationLogEntry, broadcast_of)
            broadcaster.add_sink(lambda item: self._emit(run_id, item))
            opened = _Open(engine, clock)
            self._open[run_id] = opened
            while len(self._open) > MAX_OPEN:
                _, evicted = self._open.popitem(last=False)
                evicted.engine.db.dispose()
            return opened

    def _emit(self, run_id: int, item: Broadcast) -> None:
        """Everything of a run goes to the run's room only: its deal and instance ids are the
        sandbox's, and must never reach the real deal's watchers."""
        if self.announce is None:
            return
        self.announce(Broadcast(item.event, (run_room(run_id),), {**item.payload, "run_id": run_id}))

    def _discard(self, run_id: int) -> None:
        with self._lock:
            opened = self._open.pop(run_id, None)
        if opened is not None:
            opened.engine.db.dispose()
        for suffix in ("json", "sqlite3", "sqlite3-wal", "sqlite3-shm", "json.part", "lock"):
            self._path(run_id, suffix).unlink(missing_ok=True)

    def _step(self, info: RunInfo, step: dict[str, Any], opened: _Open) -> None:
        """Record a step for the saved test case, with what the run looked like after it."""
        if len(info.steps) + 2 > MAX_STEPS:
            return
        info.steps.append(step)
        if info.instance_id is not None:
            with opened.engine.db.sessions() as session:
                seen = _expectations(session, info.deal_id, info.instance_id)
            info.steps.append({"expect": {k: v for k, v in seen.items() if k != "path"}})

    @staticmethod
    def _task(session: Session, info: RunInfo, task_id: int) -> Task:
        task = session.get(Task, task_id)
        if task is None or task.deal_id != info.deal_id:
            raise UnknownRun(f"test run {info.id} has no task {task_id}", code="task_not_found")
        return task

    def _state(self, info: RunInfo, opened: _Open) -> dict[str, Any]:
        with opened.engine.unit() as rt:
            return run_state(rt, info)


# ---------------------------------------------------------------------- copying the real world


def _checked(real: Session, *, kind: str, process: str | None, pipeline: str | None, deal_id: int | None,
             deal: dict[str, Any] | None) -> tuple[Deal | None, dict[str, Any]]:
    """The real deal to copy (if any) and the deal in test-case form, or every problem at once."""
    errors: dict[str, str] = {}
    if kind == "process":
        if not process:
            errors["process"] = "a process run needs the process key"
        elif real.scalar(select(func.count()).select_from(ProcessVersion).where(ProcessVersion.key == process)) == 0:
            errors["process"] = f"no process {process!r} is deployed"
    elif not pipeline:
        errors["pipeline"] = "a robots run needs the pipeline code"
    elif real.scalar(select(Pipeline.id).where(Pipeline.code == pipeline)) is None:
        errors["pipeline"] = f"no pipeline {pipeline!r}"
    original = real.get(Deal, deal_id) if deal_id is not None else None
    if deal_id is not None and original is None:
        errors["deal_id"] = f"deal {deal_id} does not exist"
    if original is not None and kind == "robots" and pipeline and original.pipeline.code != pipeline:
        errors["deal_id"] = f"deal {deal_id} is in pipeline {original.pipeline.code!r}, not {pipeline!r}"
    spec = deal_spec(real, original) if original is not None else dict(deal or {})
    if kind == "robots" and original is None and not errors:
        stage = str(spec.get("stage") or _start_stage(real, pipeline))
        spec["stage"] = stage if "." in stage else f"{pipeline}.{stage}"
        if not spec["stage"].startswith(f"{pipeline}."):
            errors["deal"] = f"the deal's stage {stage!r} is not in pipeline {pipeline!r}"
    if errors:
        raise InvalidRunInput("the test run cannot be made: " + "; ".join(errors.values()), errors)
    return original, spec


def copy_reference_data(real: Session, copy: Session, *, robots: bool) -> None:
    """The tables every automation may look up, row for row (ids kept, so a payload naming a
    stage or a user means the same in the sandbox); the newest automation text of each scope
    when the run has robots."""
    for model in REFERENCE_TABLES:
        table = model.__table__
        scrub = SCRUBBED.get(table.name, {})
        rows = [{**dict(row), **scrub} for row in real.execute(select(table).order_by(*table.primary_key)).mappings()]
        if rows:
            copy.execute(insert(table), rows)
    if robots:
        newest = (select(AutomationSource.scope, func.max(AutomationSource.version).label("version"))
                  .group_by(AutomationSource.scope).subquery())
        table = AutomationSource.__table__
        rows = [dict(row) for row in real.execute(
            select(table).join(newest, (AutomationSource.scope == newest.c.scope)
                               & (AutomationSource.version == newest.c.version))).mappings()]
        if rows:
            copy.execute(insert(table), rows)


def copy_deal(real: Session, copy: Session, deal: Deal) -> None:
    """The deal with the same id (events naming it work unchanged), marked as a sandbox deal,
    and its contact; none of its history, tasks or running processes."""
    if deal.contact_id is not None:
        for model, column in ((Contact, Contact.id), (ContactChannel, ContactChannel.contact_id)):
            rows = [dict(r) for r in real.execute(select(model.__table__).where(column == deal.contact_id)).mappings()]
            if rows:
                copy.execute(insert(model.__table__), rows)
    row = dict(real.execute(select(Deal.__table__).where(Deal.id == deal.id)).mappings().one())
    copy.execute(insert(Deal.__table__), [{**row, "is_sandbox": True}])


def deal_spec(session: Session, deal: Deal) -> dict[str, Any]:
    """A real deal in the test-case format, so a saved run makes the same deal when replayed."""
    spec: dict[str, Any] = {"title": deal.title, "stage": deal.stage.ref, "amount": json_codec.plain(deal.amount)}
    if deal.responsible_id is not None:
        spec["responsible"] = session.get_one(User, deal.responsible_id).login
    if deal.department_id is not None:
        spec["department"] = session.get_one(Department, deal.department_id).code
    if deal.contact is not None:
        contact = deal.contact
        spec["contact"] = {"name": contact.name, "phone": (contact.phones or [None])[0],
                           "email": (contact.emails or [None])[0]}
    if deal.products:
        spec["products"] = json_codec.plain(list(deal.products))
    if deal.fields:
        spec["fields"] = json_codec.plain(dict(deal.fields))
    return spec


def _start_stage(session: Session, pipeline: str | None) -> str:
    stage = session.scalars(select(Stage).join(Pipeline).where(Pipeline.code == pipeline)
                            .order_by(Stage.is_start.desc(), Stage.sort, Stage.id).limit(1)).first()
    return stage.ref if stage is not None else f"{pipeline}.new"


def _person() -> Cause:
    return Cause("user", None, "test bench")


#: The tables the log is read from, by the name a story row's `after` marks them with.
LOGGED = {"timeline": TimelineEntry.id, "automation": AutomationLogEntry.id, "history": HistoryEntry.id}


def _mark(opened: _Open) -> dict[str, Any]:
    """Where the run stands before a person's act: its clock and the last row of each logged
    table, so the log puts the act after what came before it and before what it caused, even
    when all of it happened in the same virtual second."""
    with opened.engine.db.sessions() as session:
        return {"at": opened.clock.now().isoformat(), "after": _marks(session)}


def _marks(session: Session) -> dict[str, int]:
    """The last row of each logged table the session sees (its own unflushed rows flushed first)."""
    session.flush()
    return {name: session.scalar(select(func.max(column))) or 0 for name, column in LOGGED.items()}


def _tell(info: RunInfo, mark: Mapping[str, Any], kind: str, params: dict[str, Any]) -> None:
    """A row of the run's story: what the person did, once it was done (a refused act tells nothing)."""
    if len(info.story) < MAX_STEPS:  # a run's file stays small however long it is driven
        info.story.append({**mark, "kind": kind, "params": json_codec.plain(params)})


# ---------------------------------------------------------------------- reading a run


def run_state(rt: Any, info: RunInfo) -> dict[str, Any]:
    """Where the run stands: clock, deal, instances with active and completed elements, the
    jobs waiting with their due times, tasks, notifications and the messages not sent."""
    session = rt.session
    deal = rt.crm.deal(info.deal_id)
    instances = []
    for instance in session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)):
        completed = session.scalars(select(HistoryEntry.element_id).where(
            HistoryEntry.instance_id == instance.id, HistoryEntry.outcome == "completed").order_by(HistoryEntry.id))
        instances.append({
            "id": instance.id, "key": instance.key, "status": instance.status, "deal_id": instance.deal_id,
            "active_elements": rt.active_elements(instance) if instance.status in ("running", "incident") else [],
            "completed_elements": list(dict.fromkeys(completed)),
            "waiting_for": sorted({w.message for w in session.scalars(
                select(MessageWait).where(MessageWait.instance_id == instance.id))}),
            "incidents": [{"id": i.id, "element_id": i.element_id, "message": i.message, "status": i.status}
                          for i in session.scalars(select(Incident).where(Incident.instance_id == instance.id))],
        })
    jobs = [{"id": j.id, "kind": j.kind, "due_at": j.due_at, "instance_id": j.instance_id, "deal_id": j.deal_id,
             "element_id": j.element_id, "robot": (j.payload or {}).get("key") or (j.payload or {}).get("name")}
            for j in session.scalars(select(Job).where(Job.status == "pending").order_by(Job.due_at, Job.id))]
    tasks = [{"id": t.id, "title": t.title, "assignee": t.assignee.login if t.assignee else None,
              "group": t.group, "column": t.column, "status": t.status, "deadline": t.deadline,
              "process_instance_id": t.process_instance_id, "element_id": t.element_id}
             for t in session.scalars(select(Task).where(Task.deal_id == deal.id).order_by(Task.id))]
    notifications = [{"id": n.id, "user": n.user.login, "text": n.text, "created_at": n.created_at}
                     for n in session.scalars(select(Notification).where(Notification.deal_id == deal.id)
                                              .order_by(Notification.id))]
    outbox = [{"id": m.id, "kind": m.kind, "payload": m.payload, "created_at": m.created_at}
              for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    main = next((i for i in instances if i["id"] == info.instance_id), None)
    return {
        "id": info.id, "kind": info.kind, "process": info.process, "process_version": info.process_version,
        "pipeline": info.pipeline, "robots": info.robots, "source_deal_id": info.source_deal_id,
        "started_at": datetime.fromisoformat(info.started_at), "now": rt.clock.now(),
        "deal": {"id": deal.id, "title": deal.title, "pipeline": deal.pipeline.code, "stage": deal.stage.code,
                 "stage_ref": deal.stage.ref, "stage_name": deal.stage.name, "amount": deal.amount,
                 "responsible": deal.responsible.login if deal.responsible else None,
                 "fields": dict(deal.fields or {}), "stage_entered_at": deal.stage_entered_at},
        "instance": main, "instances": instances, "jobs": jobs, "tasks": tasks,
        "notifications": notifications, "outbox": outbox, "steps": len(info.steps),
    }


#: Among the rows one act wrote in one instant: the process step first, then the deal changes
#: it made, last the robots and triggers reacting to them.
SOURCE_ORDER = {"process": 1, "deal": 2}


def run_log(session: Session, deal_id: int, story: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """One story of the run, by virtual time: what the person did (events sent, clock moved,
    tasks completed), the timeline, the automation log and the instance history merged. Each row
    keeps its `kind` and `detail` (its parameters) so a client says it in the reader's words.

    Within one virtual second the order is the order of writing: a person's act sits after the
    rows written before it (its `after` marks) and before those it caused; among the rows of
    one act, a process step comes before the deal changes it made and the robots reacting."""
    rows: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    marks = [s.get("after") or {} for s in story]

    def act_of(table: str, row_id: int) -> int:
        """How many of the person's acts were done before this row was written."""
        return sum(1 for m in marks if row_id > m.get(table, 0))

    for number, s in enumerate(story):
        at = datetime.fromisoformat(s["at"])
        rows.append(((_utc(at), number, 0, 0), {
            "at": at, "source": "bench", "kind": s["kind"], "text": _bench_text(s["kind"], s["params"]),
            "reason": "test bench", "detail": s["params"]}))

    def add(table: str, row_id: int, entry: dict[str, Any]) -> None:
        rows.append(((_utc(entry["at"]), act_of(table, row_id) - 1, 1, SOURCE_ORDER.get(entry["source"], 3), row_id),
                     entry))

    for t in session.scalars(select(TimelineEntry).where(TimelineEntry.deal_id == deal_id)
                             .order_by(TimelineEntry.id)):
        add("timeline", t.id, {"at": t.at, "source": "deal", "kind": t.kind, "text": t.text,
                               "reason": t.cause_label or t.cause_kind, "detail": t.data or {},
                               "params": timeline_params(session, t)})
    for a in for_deal(session, deal_id):
        add("automation", a.id, {"at": a.at, "source": a.kind, "kind": a.outcome, "text": a.name or a.key,
                                 "reason": a.reason, "detail": {"scope": a.scope, "stage": a.stage, "key": a.key,
                                                                **(a.detail or {})}})
    names = {i.id: i.key for i in session.scalars(select(ProcessInstance).where(ProcessInstance.deal_id == deal_id))}
    for h in session.scalars(select(HistoryEntry).where(HistoryEntry.instance_id.in_(names))
                             .order_by(HistoryEntry.id)):
        add("history", h.id, {"at": h.at, "source": "process", "kind": h.outcome,
                              "text": f"{names[h.instance_id]}: {h.element_name or h.element_id}",
                              "reason": _history_reason(h), "detail": {"instance_id": h.instance_id,
                                                                        "process": names[h.instance_id],
                                                                        "element_id": h.element_id,
                                                                        "element_name": h.element_name,
                                                                        "element_type": h.element_type,
                                                                        **(h.detail or {})}})
    rows.sort(key=lambda row: row[0])
    return [_json_safe_entry(entry) for _, entry in rows]


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes; the story's are aware: one order for both."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _bench_text(kind: str, params: Mapping[str, Any]) -> str:
    """The row in English, for a reader without the catalogs (the API's own consumers)."""
    if kind == "event_sent":
        return f"event {params.get('event')} sent"
    if kind == "clock_moved":
        return f"clock moved by {params.get('by')}"
    if kind == "task_completed":
        return f"task {params.get('title')} completed"
    if kind == "task_moved":
        return f"task {params.get('title')} moved to {params.get('column')}"
    if kind == "deal_moved":
        return f"deal moved to {params.get('stage')}"
    if kind == "process_started":
        return f"process {params.get('process')} started"
    return "run started"


def _json_safe_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "detail": json_codec.plain(entry["detail"])}


def _history_reason(entry: HistoryEntry) -> str:
    detail = entry.detail or {}
    label = detail.get("label") or detail.get("reason") or detail.get("message")
    kind = f"{entry.element_type} {entry.outcome}"
    return f"{kind}: {label}" if label else kind


def _expectations(session: Session, deal_id: int, instance_id: int) -> dict[str, Any]:
    """What the run ended with, as the case runner checks it."""
    deal = session.get_one(Deal, deal_id)
    instance = session.get_one(ProcessInstance, instance_id)
    path = list(session.scalars(select(HistoryEntry.element_id).where(
        HistoryEntry.instance_id == instance_id, HistoryEntry.outcome == "completed").order_by(HistoryEntry.id)))
    expect: dict[str, Any] = {"status": instance.status, "stage": deal.stage.ref, "path": path}
    if instance.status == "running":
        expect["waiting_for"] = sorted({w.message for w in session.scalars(
            select(MessageWait).where(MessageWait.instance_id == instance_id))})
    return expect


def format_duration(delta: timedelta) -> str:
    """`2d 4h 30m` (whole seconds), the way robots are written; `0s` for no time at all."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"


__all__ = ["BenchError", "InvalidRunInput", "RunConflict", "TestBench", "UnknownRun", "default_directory",
           "format_duration", "run_room"]
