"""Call activities to other deployed processes: resolved by key when called, variables mapped by the dsl.

A `bpmn:callActivity` whose `calledElement` is a process of its own file runs that process as
SpiffWorkflow always has. One whose `calledElement` names no process of the file calls the
*deployed* process of that key: its latest version when the call starts, or the version pinned
with `dealflow:calledVersion="3"` on the element. A key that is not deployed (or a pinned version
that does not exist) is refused at deploy naming the call activity.

Spiff runs a call activity from `workflow.subprocess_specs[calledElement]`, so the specs of the
called versions are added to an instance's subprocess specs whenever it is loaded: a call that
starts in this step finds the latest version. Once an instance has called a key, it keeps that
version of it (`instance.derived["calls"]`): a running called process must be restored with the
spec it started on, and Spiff keys subprocess specs by name. A pinned call is keyed
`<key>@<version>` so it never shares a spec with a call to the latest.

Variables: with no mapping, the call activity hands all its variables to the called process and
takes all of the called process's variables back (Spiff's and Camunda's default). With
`<dealflow:in source="expr" target="name"/>` in its extension elements only the mapped variables
go in; with `<dealflow:out source="expr" target="name"/>` the caller keeps its own variables and
gets only the mapped ones back. Every `source` is a dsl expression, checked at deploy, evaluated
over the caller's variables (in) or the called process's (out).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from copy import deepcopy
from typing import TYPE_CHECKING, Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.spiff.specs.defaults import CallActivity as SpiffCallActivity
from sqlalchemy import select

from dsl import DslError, compile_expression
from engine.models import ProcessVersion

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from engine.bpmn import ParsedProcess
    from engine.engine import Engine

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DEALFLOW_NS = "https://dealflow.dev/schema/bpmn"
CALLED_VERSION = f"{{{DEALFLOW_NS}}}calledVersion"
MAPPINGS = "dealflow_mappings"


class CallActivity(SpiffCallActivity):  # type: ignore[misc]  # Spiff ships no types
    """Spiff's call activity, with dealflow's in/out variable mappings (none: all variables)."""

    def _mappings(self, direction: str) -> list[tuple[str, str]]:
        found = (getattr(self, "extensions", None) or {}).get(MAPPINGS, {}).get(direction, [])
        return [(str(source), str(target)) for source, target in found]

    def copy_data(self, my_task: Any, subworkflow: Any) -> None:
        mappings = self._mappings("in")
        if not mappings:
            super().copy_data(my_task, subworkflow)
            return
        start = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True, spec_name="Start")
        engine = my_task.workflow.script_engine
        start.set_data(**{target: deepcopy(engine.evaluate(my_task, source)) for source, target in mappings})

    def update_data(self, my_task: Any, subworkflow: Any) -> None:
        mappings = self._mappings("out")
        if not mappings:
            super().update_data(my_task, subworkflow)
            return
        done = subworkflow.last_task
        engine = my_task.workflow.script_engine
        values = {target: deepcopy(engine.evaluate(done, source)) for source, target in mappings}
        my_task.data = {**my_task.data, **values}


def read_mappings(root: etree._Element) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """The `dealflow:in`/`dealflow:out` mappings of every call activity by element id, as
    written (`mapping_problems` says what is wrong with them, at deploy)."""
    mappings: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for call in root.iter(f"{{{BPMN_NS}}}callActivity"):
        for direction in ("in", "out"):
            for el in call.iterfind(f"{{{BPMN_NS}}}extensionElements/{{{DEALFLOW_NS}}}{direction}"):
                source, target = (el.get("source") or "").strip(), (el.get("target") or "").strip()
                mappings.setdefault(call.get("id") or "?", {}).setdefault(direction, []).append((source, target))
    return mappings


def mapping_problems(root: etree._Element) -> list[dict[str, Any]]:
    """A mapping whose target is not a variable name or whose source is no dsl expression."""
    problems: list[dict[str, Any]] = []
    for element, directions in read_mappings(root).items():
        for direction, pairs in directions.items():
            for source, target in pairs:
                if not target.isidentifier():
                    problems.append({"element": element, "message":
                                     f"dealflow:{direction} target {target!r} must be a variable name"})
                    continue
                try:
                    compile_expression(source)
                except DslError as err:
                    problems.append({"element": element, "message": f"dealflow:{direction} source: {err}"})
    return problems


def attach_mappings(specs: Iterable[Any], mappings: Mapping[str, Any]) -> None:
    """Keep each call activity's mappings in its spec's extensions, which Spiff stores."""
    for task_spec in _call_specs(specs):
        if task_spec.bpmn_id in mappings:
            task_spec.extensions = {**(getattr(task_spec, "extensions", None) or {}),
                                    MAPPINGS: mappings[task_spec.bpmn_id]}


def _call_specs(specs: Iterable[Any]) -> list[Any]:
    return [t for spec in specs for t in spec.task_specs.values() if isinstance(t, SubWorkflowTask)
            and type(t).__name__ == "CallActivity"]


def prepare(parsed_all: list[ParsedProcess], root: etree._Element, session: Session,
            describe: Any) -> list[dict[str, Any]]:
    """Check the calls of the parsed processes to deployed processes and their variable
    mappings, and key pinned calls `<key>@<version>`; returns the problems found."""
    problems = mapping_problems(root)
    elements = {el.get("id"): el for el in root.iter(f"{{{BPMN_NS}}}callActivity")}
    seen: set[int] = set()
    for parsed in parsed_all:
        for task_spec in _call_specs([parsed.spec, *parsed.subprocess_specs.values()]):
            if id(task_spec) in seen:
                continue
            seen.add(id(task_spec))
            el = elements.get(task_spec.bpmn_id)
            if task_spec.spec not in parsed.called or el is None:
                continue  # a process of this file: Spiff's own call
            problem = _pin(task_spec, el, session, describe(el))
            if problem:
                problems.append({"element": task_spec.bpmn_id, "message": problem})
    return problems


def _pin(task_spec: Any, el: etree._Element, session: Session, where: str) -> str | None:
    """Check a call to a deployed process; a pinned one is keyed `<key>@<version>`."""
    key = str(task_spec.spec)
    pinned_text = (el.get(CALLED_VERSION) or "").strip()
    versions = sorted(session.scalars(select(ProcessVersion.version).where(ProcessVersion.key == key)).all())
    if pinned_text:
        if not pinned_text.isdigit() or int(pinned_text) < 1:
            return f"{where}: dealflow:calledVersion {pinned_text!r} must be a version number"
        if int(pinned_text) not in versions:
            deployed = f"deployed: {', '.join(map(str, versions))}" if versions else "it is not deployed"
            return f"{where}: calls version {pinned_text} of process {key!r}, which has no such version ({deployed})"
        task_spec.spec = f"{key}@{int(pinned_text)}"
        return None
    if not versions:
        return (f"{where}: calls process {key!r}, which is not deployed: deploy it first "
                f"(calledElement is the key of a deployed process or of a process in this file)")
    return None


def external_names(spec: Any, subs: Mapping[str, Any]) -> list[str]:
    """The called names no spec at hand answers: calls to deployed processes."""
    return sorted({t.spec for t in _call_specs([spec, *subs.values()]) if t.spec not in subs})


def resolve(engine: Engine, session: Session, spec: Any, subs: Mapping[str, Any],
            kept: Mapping[str, int]) -> tuple[dict[str, Any], dict[str, int]]:
    """The subprocess specs an instance runs with: its own, plus the called deployed versions
    (those it already called as it called them, `kept`; the others latest or pinned), and what
    those call in turn. Returns the specs and the version id behind each called name."""
    merged = dict(subs)
    used: dict[str, int] = {}
    todo = external_names(spec, merged)
    while todo:
        name = todo.pop()
        if name in merged:
            continue
        version_id = kept.get(name) or _version_id(session, name)
        if version_id is None:
            continue  # not deployed (any more): Spiff's own "called process not found" error at the call
        called_spec, called_subs = engine.spec_for(session, version_id)
        merged[name] = called_spec
        used[name] = version_id
        for sub_name, sub in called_subs.items():
            merged.setdefault(sub_name, sub)
        todo.extend(n for n in external_names(called_spec, merged) if n not in merged)
    return merged, used


def _version_id(session: Session, name: str) -> int | None:
    key, _, pinned = name.partition("@")
    query = select(ProcessVersion.id).where(ProcessVersion.key == key)
    if pinned:
        query = query.where(ProcessVersion.version == int(pinned))
    else:
        query = query.order_by(ProcessVersion.version.desc()).limit(1)
    return session.scalar(query)


def called_now(workflow: Any, used: Mapping[str, int], kept: Mapping[str, int]) -> dict[str, int]:
    """`kept` plus the called names this workflow now has a subprocess of, with their version."""
    out = dict(kept)
    for task_id in workflow.subprocesses:
        task = workflow.get_task_from_id(task_id)
        name = str(getattr(task.task_spec, "spec", "")) if task is not None else ""
        if name in used and name not in out:
            out[name] = used[name]
    return out


def call_detail(session: Session, task: Any, versions: Mapping[str, int]) -> dict[str, Any]:
    """What the history says of a finished call activity: the process and version it called."""
    name = getattr(task.task_spec, "spec", None)
    if name is None or type(task.task_spec).__name__ != "CallActivity":
        return {}
    version_id = versions.get(name)
    if version_id is None:
        return {"called": {"key": str(name).partition("@")[0]}}
    row = session.get(ProcessVersion, version_id)
    return {"called": {"key": row.key, "version": row.version, "name": row.name}} if row is not None else {}
