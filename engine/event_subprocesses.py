"""Event subprocesses, run as BPMN means them: while their scope runs, their start event listens;
an interrupting one stops the scope's work and ends the scope when it is done, a non-interrupting
one runs beside it (every time its message comes, for a message).

SpiffWorkflow 3.2 runs a timer or none event subprocess as a parallel branch from the start
(the scope then waits for the timer before it may end, and nothing is ever interrupted) and
starts a message one only for messages of other pools. An event subprocess is the same as a
boundary event on the scope's content, which Spiff and dealflow's message and timer machinery
(message waits, timer jobs, re-armed message boundaries) run fully. So before Spiff reads the
diagram, each scope (process or subprocess) that has event subprocesses is rewritten:

    start -> [body: the scope's own flow] -> end
                 |  boundary event (the start event's trigger, cancelActivity = isInterrupting)
                 +--> the event subprocess (now a plain subprocess) -> end

The elements keep their ids and names, so the history reads as drawn; the body is named after
the scope. The handler starts with the variables the scope had when its body started (not
those the body set since: it runs outside the body), which is what a designer can rely on.
Message, timer, signal, error, escalation and conditional start events are supported; a start
event without a trigger, or with several, is refused at deploy naming the element.
"""

from __future__ import annotations

from copy import deepcopy

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS}
#: The drawn element a made one stands for (engine.bpmn.OWNER; not imported: bpmn imports this module).
OWNER = "{https://dealflow.dev/schema/bpmn}owner"
#: Children of a scope that stay with it rather than move into its body.
_STAYS = {"extensionElements", "documentation", "ioSpecification", "property", "laneSet", "incoming", "outgoing",
          "multiInstanceLoopCharacteristics", "standardLoopCharacteristics", "ioBinding", "auditing", "monitoring",
          "dataObject", "dataObjectReference", "dataStoreReference", "completionCondition"}
TRIGGERS = ("messageEventDefinition", "timerEventDefinition", "signalEventDefinition", "errorEventDefinition",
            "escalationEventDefinition", "conditionalEventDefinition")
SCOPES = ("process", "subProcess", "transaction")


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _is_event_subprocess(el: etree._Element) -> bool:
    return _local(el) == "subProcess" and (el.get("triggeredByEvent") or "").lower() == "true"


def wrap(root: etree._Element) -> list[tuple[etree._Element, str]]:
    """Rewrite every scope with event subprocesses (innermost first); the problems, by element."""
    scopes = [s for tag in SCOPES for s in root.iter(_q(tag))
              if any(_is_event_subprocess(c) for c in s)]
    scopes.sort(key=lambda s: -len(list(s.iterancestors())))
    problems: list[tuple[etree._Element, str]] = []
    for scope in scopes:
        problems += _check(scope)
    if problems:
        return problems
    for scope in scopes:
        _wrap_scope(scope)
    return []


def _check(scope: etree._Element) -> list[tuple[etree._Element, str]]:
    problems: list[tuple[etree._Element, str]] = []
    for handler in (c for c in scope if _is_event_subprocess(c)):
        starts = handler.findall("bpmn:startEvent", NS)
        if len(starts) != 1:
            problems.append((handler, f"an event subprocess needs exactly one start event, this one has {len(starts)}"))
            continue
        triggers = [c for c in starts[0] if _local(c) in TRIGGERS]
        others = [c for c in starts[0] if _local(c).endswith("EventDefinition") and _local(c) not in TRIGGERS]
        if others:
            problems.append((starts[0], f"an event subprocess started by a {_local(others[0])} is not supported; "
                                        f"use a message, timer, signal, error, escalation or conditional start"))
        elif len(triggers) != 1:
            problems.append((starts[0], "the start event of an event subprocess needs one trigger (message, timer, "
                                        "signal, error, escalation or conditional)"
                                        + ("; several are not supported" if triggers else "")))
    own_starts = [c for c in scope if _local(c) == "startEvent"]
    if len(own_starts) > 1:
        problems.append((own_starts[1], "a process or subprocess with event subprocesses may have one start event"))
    return problems


def _wrap_scope(scope: etree._Element) -> None:
    scope_id = scope.get("id") or "scope"
    handlers = [c for c in scope if _is_event_subprocess(c)]
    body = etree.Element(_q("subProcess"), {"id": f"{scope_id}__body", "name": scope.get("name") or scope_id})
    for child in list(scope):
        if isinstance(child.tag, str) and _local(child) not in _STAYS and child not in handlers:
            body.append(child)  # moves it
    scope.append(body)
    start = body.find("bpmn:startEvent", NS)
    if start is not None and any(_local(c).endswith("EventDefinition") for c in start):
        # A message or timer start of the process starts it, as before; the body begins after it.
        scope.insert(list(scope).index(body), start)
        for stale in start.findall("bpmn:outgoing", NS):
            start.remove(stale)
        begin = etree.SubElement(body, _q("startEvent"), {"id": f"{start.get('id')}__begin"})
        for flow in body.iterfind("bpmn:sequenceFlow", NS):
            if flow.get("sourceRef") == start.get("id"):
                flow.set("sourceRef", begin.get("id") or "")
        entry = start
    else:
        entry = etree.SubElement(scope, _q("startEvent"), {"id": f"{scope_id}__start"})
    end = etree.SubElement(scope, _q("endEvent"), {"id": f"{scope_id}__end"})
    _flow(scope, entry, body)
    _flow(scope, body, end)
    for handler in handlers:
        _attach(scope, body, handler)


def _attach(scope: etree._Element, body: etree._Element, handler: etree._Element) -> None:
    handler_id = handler.get("id") or "handler"
    start = handler.find("bpmn:startEvent", NS)
    assert start is not None  # checked in _check
    trigger = next(c for c in start if _local(c) in TRIGGERS)
    interrupting = (start.get("isInterrupting") or "true").lower() != "false" \
        or _local(trigger) == "errorEventDefinition"
    boundary = etree.SubElement(scope, _q("boundaryEvent"), {
        "id": f"{handler_id}__trigger", "name": start.get("name") or handler.get("name") or handler_id,
        "attachedToRef": body.get("id") or "", "cancelActivity": "true" if interrupting else "false",
        OWNER: start.get("id") or handler_id})  # deploy errors in the trigger name the start event
    boundary.append(deepcopy(trigger))
    start.remove(trigger)
    start.attrib.pop("isInterrupting", None)
    handler.attrib.pop("triggeredByEvent", None)
    end = etree.SubElement(scope, _q("endEvent"), {"id": f"{handler_id}__end"})
    _flow(scope, boundary, handler)
    _flow(scope, handler, end)


def _flow(scope: etree._Element, source: etree._Element, target: etree._Element) -> None:
    flow_id = f"{source.get('id')}__to__{target.get('id')}"
    flow = etree.SubElement(scope, _q("sequenceFlow"))
    flow.set("id", flow_id)
    flow.set("sourceRef", source.get("id") or "")
    flow.set("targetRef", target.get("id") or "")
    for el, tag in ((source, "outgoing"), (target, "incoming")):
        ref = etree.SubElement(el, _q(tag))
        ref.text = flow_id
