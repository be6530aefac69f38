"""Collaborations: every executable pool of a file deployed, and messages between pools correlated.

A file of several executable pools (`bpmn:collaboration` with participants) deploys each pool's
process under its own key, each a version of its own, from the one upload. A message one
instance throws that nothing inside it catches — the message flow to another pool — starts the
processes whose message start event waits for it, for the same deal, and reaches the deal's
instances waiting for it.

Correlation: within a deal, messages go by name. When the message has a correlation key
(`bpmn:correlationKey` over `bpmn:correlationProperty`s with a retrieval expression per
message, a dsl expression over the message's payload, checked at deploy), the key's value tells
two conversations of the same deal apart: a waiting instance whose key already has a value (the
first message of the conversation, thrown or caught, set it; or
`spiffworkflow:processVariableCorrelation` from its own variables) only gets messages of that
value. The value is kept on the wait row (`message_waits.correlation`) so the API can deliver by
it too (`POST /api/v1/messages` with `correlation_key`). SpiffWorkflow evaluates the retrieval
expressions (through `DslEnvironment`, never Python); dealflow decides which instance gets the
message, and hands Spiff the correlations it decided on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select

from crm.events import Cause
from dsl import DslError
from engine import calls
from engine.bpmn import check_texts, describe, parse_processes, xml_text
from engine.dmn.store import missing_decisions
from engine.errors import InvalidProcess, StartRefused
from engine.models import MessageWait, ProcessInstance, ProcessVersion
from engine.scripting import to_json_safe
from engine.timers import spec_event_definitions

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn import BpmnWorkflow

    from engine.runtime import Runtime

log = logging.getLogger(__name__)


def deploy_file(rt: Runtime, xml: str | bytes) -> list[ProcessVersion]:
    """A new immutable version of every executable process in `xml` (the one a plain start runs
    first); a process whose text is unchanged keeps its version. Nothing is stored when any
    process of the file is refused."""
    text = xml_text(xml)  # bytes in the encoding the file declares
    parsed_all, root = parse_processes(text)
    problems = check_texts(root, rt.engine.actions.knows, text) + missing_decisions(rt.session, root, text)
    problems += calls.prepare(parsed_all, root, rt.session, lambda el: describe(el, text))
    if problems:
        raise InvalidProcess(f"{len(problems)} problem(s) in the diagram", problems)
    checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()
    versions = []
    for parsed in parsed_all:
        latest = rt.latest_version(parsed.key, required=False)
        if latest is not None and latest.checksum == checksum:
            versions.append(latest)
            continue
        version = ProcessVersion(
            key=parsed.key,
            version=(latest.version + 1) if latest else 1,
            name=parsed.name,
            xml=text,
            checksum=checksum,
            spec=rt.engine.serializer.spec_to_dict(parsed.spec, parsed.subprocess_specs),
            parameters=[p.as_dict() for p in parsed.parameters],
            required_fields=parsed.required_fields,
            messages=parsed.messages,
            start_messages=parsed.start_messages,
            created_at=rt.clock.now(),
        )
        rt.session.add(version)
        versions.append(version)
    rt.session.flush()
    for parsed in parsed_all:
        rt.engine.forget_latest(parsed.key)  # the next start here reads the new version
    return versions


#: Per database engine: the newest process version seen (id, checksum) and, for every message,
#: the keys of the processes whose latest version starts on it.
_STARTS: weakref.WeakKeyDictionary[Any, tuple[tuple[int, str] | None, dict[str, list[str]]]] = (
    weakref.WeakKeyDictionary())


def processes_started_by(session: Any, message: str) -> list[str]:
    """Keys of processes whose latest version has a message start event for `message` (or a
    signal start event, asked by `signal_wait(name)`).

    Every event and every message between pools asks; reading every version of every process
    (their start messages) each time grew with each deploy. Versions are only ever added, never
    changed, so the answer stands as long as the newest version row is the same one: one indexed
    read of it per ask, and the full read again after a deploy by any process (a deploy rolled
    back and another one given the same id on SQLite differs in its checksum)."""
    newest_row = session.execute(select(ProcessVersion.id, ProcessVersion.checksum)
                                 .order_by(ProcessVersion.id.desc()).limit(1)).first()
    newest = (newest_row[0], newest_row[1]) if newest_row is not None else None
    bind = session.get_bind()
    owner = getattr(bind, "engine", bind)
    known = _STARTS.get(owner)
    if known is None or known[0] != newest:
        latest: dict[str, tuple[int, list[Any]]] = {}
        for key, version, starts in session.execute(
            select(ProcessVersion.key, ProcessVersion.version, ProcessVersion.start_messages)
        ):
            if key not in latest or version > latest[key][0]:
                latest[key] = (version, starts or [])
        by_message: dict[str, list[str]] = {}
        for key, (_, starts) in sorted(latest.items()):
            for name in dict.fromkeys(starts):
                by_message.setdefault(name, []).append(key)
        for key, version, spec in session.execute(  # signal starts, read from the few that have one
            select(ProcessVersion.key, ProcessVersion.version, ProcessVersion.spec)
            .where(ProcessVersion.xml.contains("signalEventDefinition")).order_by(ProcessVersion.key)
        ):
            if latest.get(key, (None,))[0] == version:
                for name in _start_signals(spec):
                    by_message.setdefault(signal_wait(name), []).append(key)
        known = (newest, by_message)
        _STARTS[owner] = known
    return list(known[1].get(message, ()))


#: A signal's wait row and start entry are kept under this prefix beside the messages', so the
#: same rows, queries and cache find the instances and processes a signal reaches.
SIGNAL_PREFIX = "signal:"


def signal_wait(name: str) -> str:
    """The name a wait for signal `name` is recorded under (`message_waits.message`)."""
    return f"{SIGNAL_PREFIX}{name}"


def _start_signals(spec: Mapping[str, Any]) -> list[str]:
    """The signals a serialized process spec's start events wait for (a multiple start's too)."""
    tasks = (spec.get("spec") or {}).get("task_specs") or {}
    out: list[str] = []
    for task in tasks.values():
        if task.get("typename") != "StartEvent":
            continue
        definition = task.get("event_definition") or {}
        for one in definition.get("event_definitions") or [definition]:
            if one.get("typename") == "SignalEventDefinition" and one.get("name"):
                out.append(str(one["name"]))
    return sorted(set(out))


# ---------------------------------------------------------------------- correlation values

def correlation_text(value: Mapping[str, Any]) -> str:
    """A correlation key's value as one string, as the API is given it: the property's value for
    a key of one property (`"A-42"`, `42`), else a JSON object of the properties."""
    plain = to_json_safe(dict(value))
    if len(plain) == 1:
        only = next(iter(plain.values()))
        return only if isinstance(only, str) else json.dumps(only, sort_keys=True)
    return json.dumps(plain, sort_keys=True)


def _keys(definition: Any) -> list[str]:
    return sorted({k for prop in getattr(definition, "correlation_properties", None) or []
                   for k in prop.correlation_keys})


def wait_correlation(task: Any, definition: Any) -> str | None:
    """The value a waiting message event is correlated by, once its key has one; else None (it
    takes the first message of its deal)."""
    known = task.workflow.correlations or {}
    for key in _keys(definition):
        if known.get(key):
            return correlation_text(known[key])
    return None


def _event_correlations(task: Any, definition: Any, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The correlations handed to Spiff with a message dealflow has routed to this task: the
    thrower's (`given`), completed with the values the waiting workflow already holds, so
    Spiff's own check (`MessageEventDefinition.catches`) agrees with the routing."""
    known = task.workflow.correlations or {}
    out = {key: known[key] for key in _keys(definition) if known.get(key)}
    out.update(given or {})
    return out


def _fill_payload(task: Any, definition: Any, payload: dict[str, Any], value: str | None) -> dict[str, Any]:
    """When the message was sent with a correlation key value and its payload lacks the name
    a retrieval expression reads (`order_id`), the value goes there: Spiff evaluates the
    expression over the payload when it catches, and the sender need not repeat the key."""
    if value is None:
        return payload
    env = task.workflow.script_engine.environment
    for prop in getattr(definition, "correlation_properties", None) or []:
        expression = str(prop.retrieval_expression or "").strip()
        try:
            env.evaluate(expression, payload)
        except DslError:
            if expression.isidentifier():
                payload = {**payload, expression: value}
    return payload


def catch_message(rt: Runtime, message: str, payload: dict[str, Any], *, correlations: Mapping[str, Any] | None = None,
                  value: str | None = None) -> Callable[[BpmnWorkflow], None]:
    """The signal that hands `message` to the first task of the workflow waiting for it."""
    from engine.runtime import _rearm_message_boundaries, _waiting_message_definition

    def apply(workflow: BpmnWorkflow) -> None:
        waiting = _waiting_message_definition(workflow, message)
        if waiting is None:
            return
        task, definition = waiting
        rt._current = task
        body = _fill_payload(task, definition, payload, value)
        workflow.catch(BpmnEvent(definition, body, _event_correlations(task, definition, correlations)))
        _rearm_message_boundaries(workflow)
    return apply


def waiting_instances(rt: Runtime, message: str, deal_id: int | None, value: str | None, *,
                      any_deal: bool = False, values: list[str] | None = None,
                      exclude: int | None = None) -> list[int]:
    """Instances waiting for `message`: of the deal (unless `any_deal`), and when a correlation
    `value` is given, only those correlated by it; `values` (a thrown message's) admits waits of
    those values and waits not correlated yet."""
    query = select(MessageWait.instance_id).where(MessageWait.message == message)
    if not any_deal:
        query = query.where(MessageWait.deal_id == deal_id)
    if value is not None:
        query = query.where(MessageWait.correlation == value)
    if values:
        query = query.where(or_(MessageWait.correlation.is_(None), MessageWait.correlation.in_(values)))
    if exclude is not None:
        query = query.where(MessageWait.instance_id != exclude)
    return sorted(set(rt.session.scalars(query).all()))


def pass_on_thrown_messages(rt: Runtime, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """A message the instance threw that nothing in it catches (a message flow to another pool)
    reaches the same deal's instances waiting for it, correlated by its key when it has one, and
    starts the processes whose message start event waits for it. Both are queued — signals and
    deferred starts — not run here: the drain runs them after this step, so two pools answering
    each other forever meet the step budget and end in an incident instead of recursing."""
    events = [event for event in workflow.get_events() if isinstance(event.event_definition, MessageEventDefinition)]
    if not events:
        return
    rt.ensure_id(instance)  # the instances it reaches are told who started or answered them
    cause = Cause("process", str(instance.id), instance.key)
    for event in events:
        definition = event.event_definition
        if not isinstance(definition, MessageEventDefinition) or not definition.name:
            continue
        payload = event.payload if event.payload is not None else {}
        name = str(definition.name)
        body = to_json_safe(dict(payload) if isinstance(payload, Mapping) else {"value": payload})
        thrown = dict(event.correlations or {})
        values = [correlation_text(v) for v in thrown.values() if v]
        for instance_id in waiting_instances(rt, name, instance.deal_id, None, values=values, exclude=instance.id):
            rt.signal(instance_id, f"message {name}", catch_message(rt, name, body, correlations=thrown), cause)
        for key in processes_started_by(rt.session, name):
            if key != instance.key:
                rt.defer(_start_by_message(rt, key, instance, name, body, thrown, cause))


def _start_by_message(rt: Runtime, key: str, thrower: ProcessInstance, name: str, body: dict[str, Any],
                      correlations: dict[str, Any], cause: Cause) -> Callable[[], None]:
    return _start_for(rt, key, thrower.deal_id, thrower.is_sandbox, f"message {name}", name,
                      catch_message(rt, name, body, correlations=correlations), cause)


def _start_for(rt: Runtime, key: str, deal_id: int | None, is_sandbox: bool, label: str, name: str,
               catch: Callable[[BpmnWorkflow], None], cause: Cause,
               started_ids: list[int] | None = None) -> Callable[[], None]:
    def start() -> None:
        try:
            started = rt.start(key, deal_id, {}, cause=cause, is_sandbox=is_sandbox, on_event=name)
        except StartRefused as refusal:  # a deal field it requires is empty: the sender goes on regardless
            log.info("%s (%s) did not start %s: %s", label, cause.ref, key, refusal)
            return
        rt.signal(started.id, label, catch, cause)
        if started_ids is not None:
            rt.ensure_id(started)
            started_ids.append(int(started.id))
    return start


# ---------------------------------------------------------------------- signals

def catch_signal(name: str, payload: dict[str, Any]) -> Callable[[BpmnWorkflow], None]:
    """The signal (of the queue) that hands BPMN signal `name` to every task of the workflow
    waiting for it: its catch and boundary events, and its start event when it was just started
    for it."""
    def apply(workflow: BpmnWorkflow) -> None:
        # Spiff matches a definition by its class as well as its name: the waiting task's own
        definition = next((d for task in workflow.event_manager.tasks.values()
                           for d in spec_event_definitions(task.task_spec)
                           if isinstance(d, SignalEventDefinition) and d.name == name), None)
        if definition is not None:
            # not internal: a signal nobody here catches is not this instance's to pass on again
            workflow.event_manager.catch(BpmnEvent(definition, payload), internal=False)
    return apply


def thrown_signals(workflow: BpmnWorkflow, before: set[Any]) -> list[str]:
    """Names of the signals the tasks completed since `before` threw (throw and end events)."""
    from engine.runtime import all_tasks  # runtime imports this module

    names: list[str] = []
    for task in all_tasks(workflow):
        if task.id in before or task.state != TaskState.COMPLETED or \
                type(task.task_spec).__name__ not in ("IntermediateThrowEvent", "EndEvent"):
            continue
        names += [str(d.name) for d in spec_event_definitions(task.task_spec)
                  if isinstance(d, SignalEventDefinition) and d.name]
    return names


def broadcast_signals(rt: Runtime, deal_id: int | None, names: list[str], *, cause: Cause,
                      thrower: ProcessInstance | None = None,
                      payload: Mapping[str, Any] | None = None,
                      started_ids: list[int] | None = None) -> list[int]:
    """A signal reaches every instance of the deal waiting for it and starts, for the deal, the
    processes whose signal start event waits for it (BPMN broadcasts a signal, Camunda to every
    instance; dealflow keeps it within the deal, as it does messages). A thrower's own catches
    got it from Spiff already, and its own process is not started again by it. Queued like a
    thrown message — signals and deferred starts — so two processes signalling each other
    forever meet the step budget. Returns the waiting instances it reaches; the instances it
    starts, once the queue is drained, are added to `started_ids`."""
    body = to_json_safe(dict(payload or {}))
    reached: list[int] = []
    for name in dict.fromkeys(names):
        wait = signal_wait(name)
        exclude = thrower.id if thrower is not None else None
        for instance_id in waiting_instances(rt, wait, deal_id, None, exclude=exclude):
            rt.signal(instance_id, f"signal {name}", catch_signal(name, body), cause)
            reached.append(instance_id)
        for key in processes_started_by(rt.session, wait):
            if thrower is None or key != thrower.key:
                rt.defer(_start_for(rt, key, deal_id, thrower.is_sandbox if thrower is not None else False,
                                    f"signal {name}", name, catch_signal(name, body), cause, started_ids))
    return reached


def pass_on_thrown_signals(rt: Runtime, instance: ProcessInstance, workflow: BpmnWorkflow, before: set[Any]) -> None:
    """The signals the step threw reach the deal's other instances and signal-start processes."""
    names = thrown_signals(workflow, before)
    if names:
        rt.ensure_id(instance)  # the instances it reaches are told who signalled them
        broadcast_signals(rt, instance.deal_id, names, thrower=instance,
                          cause=Cause("process", str(instance.id), instance.key))
