"""Replaying process test cases: given a deal, events and clock jumps, expect a path and a state.

A case file (`<process>.cases.yaml`) sits next to its `.bpmn`. Each case runs on a fresh
database with a virtual clock, so cases are independent and fast, and the same files serve
the CLI (`dealflow test-processes`), CI, and runs saved from the designer's test bench.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from crm.clock import VirtualClock
from crm.events import Cause
from crm.models import Deal, Notification, Task, User
from dsl import parse_duration
from engine.engine import Engine
from engine.errors import StartRefused
from engine.models import HistoryEntry, Incident, MessageWait, ProcessInstance
from engine.runtime import Runtime
from engine.virtual_time import advance

EngineFactory = Callable[[Path], tuple[Engine, VirtualClock]]
CAUSE = Cause("user", None, "test case")


@dataclass
class CaseResult:
    file: Path
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


class CaseFailure(Exception):
    pass


def find_case_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(path.rglob("*.cases.yaml"))


def run_case_files(paths: Iterable[Path], factory: EngineFactory) -> list[CaseResult]:
    results = []
    for case_file in paths:
        document = yaml.safe_load(case_file.read_text(encoding="utf-8")) or {}
        bpmn_file = case_file.with_name(f"{document['process']}.bpmn")
        for case in document.get("cases", []):
            results.append(run_case(case_file, bpmn_file, case, factory))
    return results


def run_case(case_file: Path, bpmn_file: Path, case: dict[str, Any], factory: EngineFactory) -> CaseResult:
    result = CaseResult(case_file, case.get("name", "unnamed"))
    with tempfile.TemporaryDirectory() as tmp:
        engine, clock = factory(Path(tmp))
        try:
            _play(engine, clock, bpmn_file, case, result)
        except CaseFailure as failure:
            result.failures.append(str(failure))
        except Exception as err:  # a case that crashes is a failed case, with the reason shown
            details = getattr(err, "details", None)
            problems = [d["message"] for d in details if isinstance(d, dict) and d.get("message")] \
                if isinstance(details, list) else []
            result.failures.append(f"{type(err).__name__}: {err}" + "".join(f"\n  {p}" for p in problems))
        finally:
            engine.db.dispose()
    return result


def _play(engine: Engine, clock: VirtualClock, bpmn_file: Path, case: dict[str, Any], result: CaseResult) -> None:
    if case.get("clock") is not None:
        _set_clock(clock, case["clock"])
    for dmn_file in sorted(bpmn_file.parent.glob("*.dmn")):  # the decisions its business rule tasks call
        engine.deploy_decisions(dmn_file.read_text(encoding="utf-8"))
    version = engine.deploy(bpmn_file.read_text(encoding="utf-8"))
    with engine.unit() as rt:
        deal_id = create_deal_from_spec(rt, case.get("deal") or {})
    expect = case.get("expect") or {}
    try:
        instance = engine.start(version.key, deal_id, case.get("start") or {}, cause=CAUSE)
    except StartRefused as refused:
        if "refused" not in expect:
            raise CaseFailure(f"start refused: {refused}") from refused
        _check_refused(expect["refused"], refused, result)
        return
    if "refused" in expect:
        raise CaseFailure("expected the start to be refused, but it started")
    for number, step in enumerate(case.get("steps") or [], 1):
        _step(engine, clock, deal_id, instance.id, step, number, result)
    _check(engine, deal_id, instance.id, expect, "at the end", result)


def _set_clock(clock: VirtualClock, moment: Any) -> None:
    """A case saved from the test bench starts when its run started, so that absolute dates in
    it (a ready date, a deadline) are as far ahead of "now" as they were in the run."""
    when = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
    if when.tzinfo is None:
        raise CaseFailure(f"clock {moment!r} needs a timezone")
    if when < clock.now():
        raise CaseFailure(f"clock {when.isoformat()} is before the runner's start {clock.now().isoformat()}")
    clock.set(when)


def create_deal_from_spec(rt: Runtime, spec: dict[str, Any]) -> int:
    """The deal a case describes; also how the test bench makes a sandbox deal from a form, so
    a saved run's deal is made the same way when it is replayed."""
    crm = rt.crm
    stage_ref = spec.get("stage", "main.new")
    pipeline = crm.pipeline(stage_ref.split(".")[0]) if "." in stage_ref else crm.pipeline("main")
    contact = None
    if spec.get("contact"):
        c = spec["contact"]
        contact = crm.find_or_create_contact(name=c.get("name", "Client"), phone=c.get("phone"),
                                             email=c.get("email"), cause=CAUSE)
    deal = crm.create_deal(
        title=spec.get("title", "Test deal"), pipeline=pipeline.code, stage=crm.stage(stage_ref, pipeline),
        amount=spec.get("amount", 0), responsible=crm.user(spec["responsible"]) if spec.get("responsible") else None,
        contact=contact, department=spec.get("department"), products=spec.get("products", []),
        fields=spec.get("fields") or {}, cause=CAUSE,
    )
    return deal.id


def _step(engine: Engine, clock: VirtualClock, deal_id: int, instance_id: int, step: dict[str, Any],
          number: int, result: CaseResult) -> None:
    (kind, arg), = step.items()
    where = f"step {number} ({kind})"
    if kind == "expect":
        _check(engine, deal_id, instance_id, arg, where, result)
    elif kind == "advance":
        advance(engine, clock, parse_duration(str(arg)))
    elif kind == "event":
        engine.send_message(deal_id, arg["message"], arg.get("payload") or {}, cause=CAUSE)
    elif kind in ("complete_task", "move_task"):
        with engine.unit() as rt:
            task = _find_task(rt, deal_id, arg, where)
            if kind == "complete_task":
                rt.crm.complete_task(task, cause=CAUSE, result=arg.get("result"))
            else:
                rt.crm.move_task(task, arg["column"], cause=CAUSE)
    elif kind == "move":
        with engine.unit() as rt:
            rt.crm.move_deal(rt.crm.deal(deal_id), str(arg), cause=CAUSE)
    elif kind == "set_fields":
        with engine.unit() as rt:
            rt.crm.set_fields(rt.crm.deal(deal_id), arg, cause=CAUSE)
    else:
        raise CaseFailure(f"{where}: unknown step kind {kind!r}")


def _find_task(rt: Runtime, deal_id: int, match: dict[str, Any], where: str) -> Task:
    tasks = rt.session.scalars(select(Task).where(Task.deal_id == deal_id, Task.status == "open")).all()
    criteria = {k: v for k, v in match.items() if k not in ("column", "result")}
    found = [t for t in tasks if _task_matches(rt, t, criteria)]
    if not found:
        raise CaseFailure(f"{where}: no open task matches {match}; open tasks: {[t.title for t in tasks]}")
    return found[0]


def _task_matches(rt: Runtime, task: Task, match: dict[str, Any]) -> bool:
    if "title_contains" in match and match["title_contains"].lower() not in task.title.lower():
        return False
    if "group" in match and task.group != match["group"]:
        return False
    if "assignee" in match:
        assignee = rt.session.get(User, task.assignee_id) if task.assignee_id else None
        if (assignee.login if assignee else None) != match["assignee"]:
            return False
    if "status" in match and task.status != match["status"]:
        return False
    return not ("column" in match and task.column != match["column"])


def _check_refused(expected: dict[str, Any], refused: StartRefused, result: CaseResult) -> None:
    details = refused.details or {}
    missing = sorted(details.get("missing_fields", []))
    if "missing_fields" in expected and missing != sorted(expected["missing_fields"]):
        result.failures.append(f"refusal: missing fields {missing} != {sorted(expected['missing_fields'])}")
    if "invalid_parameters" in expected:
        got = sorted(details.get("invalid_parameters", {}))
        if got != sorted(expected["invalid_parameters"]):
            result.failures.append(f"refusal: invalid parameters {got} != {expected['invalid_parameters']}")


def _check(engine: Engine, deal_id: int, instance_id: int, expect: dict[str, Any], where: str,
           result: CaseResult) -> None:
    with engine.unit() as rt:
        session = rt.session
        deal = session.get_one(Deal, deal_id)
        instance = session.get_one(ProcessInstance, instance_id)
        fail = result.failures.append
        if "stage" in expect:
            actual = f"{deal.pipeline.code}.{deal.stage.code}"
            if actual != expect["stage"]:
                fail(f"{where}: deal is at {actual}, expected {expect['stage']}")
        if "status" in expect and instance.status != expect["status"]:
            incidents = [i.message for i in session.scalars(
                select(Incident).where(Incident.instance_id == instance_id))]
            fail(f"{where}: instance is {instance.status}, expected {expect['status']} {incidents or ''}".rstrip())
        if "waiting_for" in expect:
            waits = sorted({w.message for w in session.scalars(
                select(MessageWait).where(MessageWait.instance_id == instance_id))})
            if waits != sorted(expect["waiting_for"]):
                fail(f"{where}: waiting for {waits}, expected {sorted(expect['waiting_for'])}")
        if "fields" in expect:
            for code, value in expect["fields"].items():
                actual = rt.crm.record(deal).dsl_get(code)
                if str(actual) != str(value):
                    fail(f"{where}: field {code} is {actual!r}, expected {value!r}")
        path = [h.element_id for h in session.scalars(
            select(HistoryEntry).where(HistoryEntry.instance_id == instance_id, HistoryEntry.outcome == "completed")
            .order_by(HistoryEntry.id))]
        if "path" in expect and not _in_order(expect["path"], path):
            fail(f"{where}: path {path} does not contain {expect['path']} in order")
        for element in expect.get("not_path", []):
            if element in path:
                fail(f"{where}: {element} ran but should not have")
        if "tasks" in expect:
            tasks = session.scalars(select(Task).where(Task.deal_id == deal_id)).all()
            for match in expect["tasks"]:
                wanted = {"status": "open", **match}
                if not any(_task_matches(rt, t, wanted) for t in tasks):
                    fail(f"{where}: no task matches {match}; tasks: {[(t.title, t.status, t.column) for t in tasks]}")
        if "notifications" in expect:
            notes = session.scalars(select(Notification).where(Notification.deal_id == deal_id)).all()
            for match in expect["notifications"]:
                if not any(_notification_matches(session, n, match) for n in notes):
                    fail(f"{where}: no notification matches {match}; notifications: {[n.text for n in notes]}")


def _notification_matches(session: Any, note: Notification, match: dict[str, Any]) -> bool:
    if "text_contains" in match and match["text_contains"].lower() not in note.text.lower():
        return False
    if "user" in match:
        user = session.get(User, note.user_id)
        return user is not None and user.login == match["user"]
    return True


def _in_order(expected: list[str], actual: list[str]) -> bool:
    position = 0
    for element in expected:
        try:
            position = actual.index(element, position) + 1
        except ValueError:
            return False
    return True
