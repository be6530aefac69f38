"""No process text is ever run as Python (docs/processes.md, "Where process text is evaluated").

Every BPMN file of the test suite — the shipped templates, the hostile fixtures with one file
per place SpiffWorkflow evaluates text, the loop fixtures — is deployed and then *run* with
`eval`, `exec` and `compile` guarded (tests/support/no_python.py). The hostile files are also
installed the way code before the deploy checks stored them, so the run walks each evaluation
point (the message is delivered, the ad-hoc subprocess runs, the timers and retries fall due)
and proves that the text reaches the dsl, not Python.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from lxml import etree
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from sqlalchemy import select

from crm.models import Task
from dsl import DslError
from engine.bpmn import parse_process
from engine.errors import EngineError, InvalidProcess
from engine.models import HistoryEntry, Incident, MessageWait, ProcessInstance, ProcessVersion
from engine.scripting import UNBOUND, DslEnvironment
from engine.testcases import run_case
from engine.virtual_time import advance
from tests.support.interop import FILES as INTEROP_FILES
from tests.support.interop import load_manifest
from tests.support.no_python import no_python_eval
from tests.support.world import TEST_CAUSE, demo_engine, make_deal

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = Path(__file__).resolve().parent / "hostile"
BPMN_FILES = sorted(ROOT.glob("bpmn/*.bpmn")) + sorted((ROOT / "tests").rglob("*.bpmn"))
HOSTILE_FILES = sorted(HOSTILE.glob("*.bpmn"))
#: Public files of other modelers (tests/engine/interop) that deploy refuses: refused, still without Python.
REFUSED_INTEROP = {INTEROP_FILES / str(e["file"]) for e in load_manifest() if str(e["outcome"]).startswith("refused")}
RUNNABLE = [p for p in BPMN_FILES if p.parent not in (HOSTILE, ROOT / "bpmn") and p not in REFUSED_INTEROP]
SHIPPED_CASES = [
    pytest.param(case_file, case_file.with_name(f"{doc['process']}.bpmn"), case,
                 id=f"{case_file.stem}:{case.get('name')}")
    for case_file in sorted((ROOT / "bpmn").glob("*.cases.yaml"))
    for doc in [yaml.safe_load(case_file.read_text(encoding="utf-8"))]
    for case in doc["cases"]
]
#: What the dsl says about `__import__(...)`: seeing it proves the text reached the dsl.
DSL_REFUSAL = "names cannot start with '_'"
PAYLOAD = {"approved": True, "order_id": "A-1"}


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def evil_elements(xml: bytes) -> set[str]:
    """The ids the hostile text belongs to; deploy must name every one."""
    return {el.get("id") for el in etree.fromstring(xml).iter() if (el.get("id") or "").startswith("evil_")}


def install_unchecked(engine, xml: bytes) -> str:
    """Store a version the way dealflow stored them before deploy checked these texts, so the
    run-time path is walked too: such versions may still sit in a database."""
    parsed, _ = parse_process(xml)
    with engine.unit() as rt:
        rt.session.add(ProcessVersion(
            key=parsed.key, version=1, name=parsed.name, xml=xml.decode(), checksum=hashlib.sha256(xml).hexdigest(),
            spec=engine.serializer.spec_to_dict(parsed.spec, parsed.subprocess_specs), parameters=[],
            required_fields=[], messages=parsed.messages, start_messages=parsed.start_messages,
            created_at=engine.clock.now(),
        ))
    return parsed.key


def walk(engine, clock, key: str) -> list[str]:
    """Drive an instance down every path it offers: deliver every message it waits for,
    complete its user tasks, let timers and retries fall due. Returns the errors it met."""
    deal_id = make_deal(engine)
    try:
        instance_id = engine.start(key, deal_id, cause=TEST_CAUSE).id
    except (DslError, EngineError) as err:
        return [str(err)]
    errors: list[str] = []
    for _ in range(4):
        with engine.unit() as rt:
            waits = sorted({w.message for w in rt.session.scalars(
                select(MessageWait).where(MessageWait.instance_id == instance_id))})
        for message in waits:
            engine.send_message(deal_id, message, PAYLOAD, cause=TEST_CAUSE)
        try:
            with engine.unit() as rt:
                for task in list(rt.session.scalars(select(Task).where(
                        Task.process_instance_id == instance_id, Task.status == "open"))):
                    if task.status == "open":  # completing one may close others (a multi-instance's)
                        rt.crm.complete_task(task, cause=TEST_CAUSE)
        except (DslError, EngineError) as err:
            errors.append(str(err))
        advance(engine, clock, timedelta(days=40))
    with engine.unit() as rt:
        errors += [i.message for i in rt.session.scalars(select(Incident).where(Incident.instance_id == instance_id))]
        errors += [json.dumps(h.detail) for h in rt.session.scalars(select(HistoryEntry).where(
            HistoryEntry.instance_id == instance_id, HistoryEntry.outcome == "error"))]
    return errors


# ---------------------------------------------------------------------- the mechanism


def test_the_guard_catches_spiffs_python_environment():
    """The guard itself: Spiff's own environment evaluating text fails it."""
    with no_python_eval() as calls, pytest.raises(AssertionError):
        TaskDataEnvironment().evaluate("1 + 1", {})
    assert calls and "SpiffWorkflow" in calls[0]


def test_workflows_are_built_and_restored_without_spiffs_python_engine(engine):
    """Spiff makes a Python engine for any workflow built without one; ours never are."""
    key = install_unchecked(engine, (HOSTILE / "correlation_message_path.bpmn").read_bytes())
    instance_id = engine.start(key, make_deal(engine), cause=TEST_CAUSE).id
    with engine.unit() as rt:
        workflow = rt._load(rt.instance(instance_id))
        assert workflow.script_engine is UNBOUND
        with pytest.raises(Exception, match="before the instance was bound"):
            workflow.script_engine.environment.evaluate("1", {})
        rt._bind(rt.instance(instance_id), workflow, TEST_CAUSE)
        assert isinstance(workflow.script_engine.environment, DslEnvironment)
        assert not isinstance(workflow.script_engine.environment, TaskDataEnvironment)


def test_a_state_whose_migration_would_eval_is_refused(engine):
    """Spiff migrates serializer versions 1.0 and 1.1 by eval-ing timer expressions."""
    with pytest.raises(ValueError, match="as Python"):
        engine.serializer.loads(json.dumps({"serializer_version": "1.1"}), None, {})


# ---------------------------------------------------------------------- every file, deployed and run


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_every_bpmn_file_deploys_without_python(engine, path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    xml = path.read_bytes()
    with no_python_eval() as calls:
        if path.parent == HOSTILE:
            with pytest.raises(InvalidProcess) as refused:
                engine.deploy(xml)
            named = {d["element"] for d in refused.value.details or []}
            assert evil_elements(xml) <= named | {None} and named, refused.value.details
        elif path in REFUSED_INTEROP:
            with pytest.raises(InvalidProcess):
                engine.deploy(xml)
        else:
            engine.deploy(xml)
    assert calls == []
    assert not (tmp_path / "marker").exists()


@pytest.mark.parametrize("path", HOSTILE_FILES, ids=_ids(HOSTILE_FILES))
def test_every_hostile_text_reaches_the_dsl_at_run_time_never_python(engine, clock, path, tmp_path, monkeypatch):
    """Installed without the deploy checks and driven through: the hostile text is evaluated,
    and it is the dsl that refuses it."""
    monkeypatch.chdir(tmp_path)
    with no_python_eval() as calls:
        try:
            key = install_unchecked(engine, path.read_bytes())
        except InvalidProcess as refused:  # Spiff itself cannot build it (a DMN task without DMN)
            assert refused.details, refused
            return
        errors = walk(engine, clock, key)
    assert calls == []
    assert not (tmp_path / "marker").exists()
    assert any(DSL_REFUSAL in e for e in errors), errors


@pytest.mark.parametrize("path", RUNNABLE, ids=_ids(RUNNABLE))
def test_every_other_test_file_runs_without_python(engine, clock, path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with no_python_eval() as calls:
        walk(engine, clock, engine.deploy(path.read_bytes()).key)
    assert calls == []


@pytest.mark.parametrize(("case_file", "bpmn_file", "case"), SHIPPED_CASES)
def test_the_shipped_templates_run_their_cases_without_python(sqlite_database, clock, case_file, bpmn_file, case):
    with no_python_eval() as calls:
        result = run_case(case_file, bpmn_file, case, lambda _tmp: (demo_engine(sqlite_database, clock), clock))
    assert calls == []
    assert result.failures == []


# ---------------------------------------------------------------------- the two reported payloads


def _instance(engine, instance_id: int) -> tuple[str, list[tuple[str | None, str]]]:
    with engine.unit() as rt:
        incidents = rt.session.scalars(select(Incident).where(Incident.instance_id == instance_id))
        return rt.session.get(ProcessInstance, instance_id).status, [(i.element_id, i.message) for i in incidents]


def test_a_python_correlation_expression_is_not_run_when_the_message_arrives(engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    key = install_unchecked(engine, (HOSTILE / "correlation_message_path.bpmn").read_bytes())
    deal_id = make_deal(engine)
    instance_id = engine.start(key, deal_id, cause=TEST_CAUSE).id
    assert engine.send_message(deal_id, "bank.answer", PAYLOAD, cause=TEST_CAUSE) == [instance_id]
    assert not (tmp_path / "marker").exists()
    status, incidents = _instance(engine, instance_id)
    assert status == "incident"
    assert [(element, DSL_REFUSAL in message) for element, message in incidents] == [("wait_answer", True)]


def test_a_python_adhoc_completion_condition_is_not_run(engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    key = install_unchecked(engine, (HOSTILE / "adhoc_completion_condition.bpmn").read_bytes())
    instance_id = engine.start(key, make_deal(engine), cause=TEST_CAUSE).id
    assert not (tmp_path / "marker").exists()
    status, incidents = _instance(engine, instance_id)
    assert status == "incident"
    assert [(element, DSL_REFUSAL in message) for element, message in incidents] == [("note", True)]


def test_an_adhoc_subprocess_with_a_dsl_completion_condition_runs(engine):
    """The ad-hoc path is supported, not only refused: its condition is dsl over the variables."""
    xml = (HOSTILE / "adhoc_completion_condition.bpmn").read_bytes().replace(
        b"__import__('pathlib').Path('marker').touch()", b"noted == true").replace(b"hostile_adhoc", b"adhoc")
    engine.deploy(xml)
    instance_id = engine.start("adhoc", make_deal(engine), cause=TEST_CAUSE).id
    assert _instance(engine, instance_id) == ("completed", [])
