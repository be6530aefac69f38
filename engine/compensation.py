"""Compensation as Camunda 8 runs it: a compensation throw or end event runs the handlers of
the activities of its scope that completed, the last completed first; with an activityRef,
only that activity's handler.

SpiffWorkflow 3.2 has no compensation: a compensation throw passes as if it were a plain
event (the handlers never run) and a compensation boundary event stops the parse with a
message about a missing trigger. So before Spiff reads the diagram, each scope (process or
subprocess) is rewritten; the boundary events and associations go, and each throw becomes a
loop that runs one handler at a time:

    ... -> [T__compensate: gateway] --default--> T (now a plain event, as drawn) -> ...
                |    ^
                +--> handler of the next activity to undo --+

Which handler is next is asked of the instance when the gateway is reached (`is_next`): of
the throw's activities that completed and whose handler has not run since, the one completed
last. An activity that never completed (not reached, cancelled, failed) is never undone. The
gateway's conditions are made here, never written by a designer, and read no dsl and no
Python: they name activity and handler ids.

Refused at deploy, naming the element: a compensation event subprocess (a compensation start
event); a boundary event without one handler associated, or a handler without a boundary;
a handler with sequence flows of its own; an activityRef naming no activity with a handler
on the throw's level; an activity that no throw on its level compensates (dealflow does not
undo the inside of a completed subprocess from outside it) or that two throws compensate
(a handler returns to one throw).
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree
from SpiffWorkflow.util.task import TaskState

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DEALFLOW_NS = "https://dealflow.dev/schema/bpmn"
NS = {"bpmn": BPMN_NS}
#: On a conditionExpression made here: what it is (engine.bpmn skips it among the dsl texts).
MADE = f"{{{DEALFLOW_NS}}}compensation"
#: The start of a made condition's text (not valid dsl, so a designer's condition can never be one).
MARKER = "dealflow-compensation:"
#: The drawn element a made one stands for (engine.bpmn.OWNER; not imported: bpmn imports this module).
OWNER = f"{{{DEALFLOW_NS}}}owner"
SCOPES = ("process", "subProcess", "transaction", "adHocSubProcess")
_INSTEAD = ("undo the work with an error or escalation boundary event (or a compensation throw event in the "
            "scope) and the steps after it")


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _compensates(el: etree._Element) -> bool:
    return el.find("bpmn:compensateEventDefinition", NS) is not None


def _label(el: etree._Element) -> str:
    name = el.get("name")
    return f"{name!r} (id {el.get('id')})" if name else f"id {el.get('id')}"


def rewrite(process_el: etree._Element) -> list[tuple[etree._Element, str]]:
    """Every compensation of the process made into flow Spiff runs; the problems, by element."""
    for made in process_el.iter(_q("conditionExpression")):  # only this module makes them
        made.attrib.pop(MADE, None)
    problems: list[tuple[etree._Element, str]] = []
    for start in process_el.iter(_q("startEvent")):
        if _compensates(start):
            problems.append((start, "a compensation start event is not supported (dealflow runs no compensation "
                                    "event subprocess): attach a compensation boundary event with a handler to each "
                                    "activity to undo"))
    associations = list(process_el.iter(_q("association")))
    linked: dict[str, set[str]] = {}
    for assoc in associations:
        source, target = assoc.get("sourceRef") or "", assoc.get("targetRef") or ""
        linked.setdefault(source, set()).add(target)
        linked.setdefault(target, set()).add(source)
    plans = []
    for tag in SCOPES:
        for scope in process_el.iter(_q(tag)):
            plan, scope_problems = _plan_scope(scope, linked)
            problems += scope_problems
            plans.append((scope, plan))
    if problems:
        return problems
    for scope, plan in plans:
        _apply(scope, plan, associations)
    return []


Problems = list[tuple[etree._Element, str]]


def _plan_scope(scope: etree._Element, linked: dict[str, set[str]]) -> tuple[dict[str, Any], Problems]:
    problems: list[tuple[etree._Element, str]] = []
    children = [c for c in scope if isinstance(c.tag, str)]
    by_id = {c.get("id"): c for c in children if c.get("id")}
    flows = [c for c in children if _local(c) == "sequenceFlow"]
    handlers = {str(c.get("id")): c for c in children if (c.get("isForCompensation") or "").lower() == "true"}
    boundaries = [c for c in children if _local(c) == "boundaryEvent" and _compensates(c)]
    throws = [c for c in children if _local(c) in ("intermediateThrowEvent", "endEvent") and _compensates(c)]
    handler_of: dict[str, str] = {}  # activity id -> handler id
    used: dict[str, etree._Element] = {}
    for boundary in boundaries:
        activity_id = boundary.get("attachedToRef") or ""
        found = sorted(h for h in linked.get(boundary.get("id") or "", set()) if h in handlers)
        if len(found) != 1:
            problems.append((boundary, "a compensation boundary event needs exactly one compensation handler "
                                       "(an activity with isForCompensation) joined to it by an association; "
                                       f"it has {len(found)}"))
            continue
        handler_id = found[0]
        if activity_id in handler_of:
            problems.append((boundary, f"the activity {activity_id!r} has two compensation boundary events; "
                                       "give it one"))
            continue
        if handler_id in used:
            problems.append((boundary, f"the compensation handler {handler_id!r} belongs to two boundary events; "
                                       "give each activity its own handler"))
            continue
        used[handler_id] = boundary
        handler_of[activity_id] = handler_id
    for handler_id, handler in handlers.items():
        if handler_id not in used:
            problems.append((handler, "a compensation handler (isForCompensation) needs an association from a "
                                      "compensation boundary event on the activity it undoes"))
        if any(f.get("sourceRef") == handler_id or f.get("targetRef") == handler_id for f in flows):
            problems.append((handler, "a compensation handler (isForCompensation) has no sequence flows: it runs "
                                      "when its activity is compensated, not as a step of the flow"))
    covered: dict[str, etree._Element] = {}
    plan: dict[str, Any] = {"handler_of": handler_of, "throws": [], "boundaries": boundaries, "by_id": by_id,
                            "flows": flows, "handlers": handlers}
    for throw in throws:
        definition = throw.find("bpmn:compensateEventDefinition", NS)
        ref = definition.get("activityRef") if definition is not None else None
        if ref:
            if ref not in handler_of:
                where = "is not on the same level as this throw" if ref not in by_id else "has no compensation handler"
                problems.append((throw, f"the activityRef {ref!r} {where}: dealflow compensates an activity with "
                                        "a compensation boundary event and handler on the throw's own level"))
                continue
            targets = [ref]
        else:
            targets = sorted(handler_of)
        for activity_id in targets:
            if activity_id in covered:
                problems.append((throw, f"the activity {activity_id!r} is also compensated by "
                                        f"{_label(covered[activity_id])}; dealflow runs a handler from one "
                                        "compensation throw only (draw one throw event and join the paths to it)"))
            covered[activity_id] = throw
        plan["throws"].append((throw, {a: handler_of[a] for a in targets if a in handler_of}))
    for boundary in boundaries:
        activity_id = boundary.get("attachedToRef") or ""
        if activity_id in handler_of and activity_id not in covered and used.get(handler_of[activity_id]) is boundary:
            problems.append((boundary, "no compensation throw or end event on this level compensates the activity "
                                       f"{activity_id!r}; dealflow runs compensation only from a throw on the "
                                       f"activity's own level, so its handler would never run; {_INSTEAD}"))
    return plan, problems


def _flow(scope: etree._Element, flow_id: str, source: str, target: str) -> etree._Element:
    flow = etree.SubElement(scope, _q("sequenceFlow"))
    flow.set("id", flow_id)
    flow.set("sourceRef", source)
    flow.set("targetRef", target)
    return flow


def _ref(el: etree._Element, tag: str, ref: str) -> None:
    child = etree.SubElement(el, _q(tag))
    child.text = ref


def _apply(scope: etree._Element, plan: dict[str, Any], associations: list[etree._Element]) -> None:
    gone = {b.get("id") for b in plan["boundaries"]} | set(plan["handlers"])
    for boundary in plan["boundaries"]:
        scope.remove(boundary)
    for assoc in associations:
        parent = assoc.getparent()
        if parent is not None and (assoc.get("sourceRef") in gone or assoc.get("targetRef") in gone):
            parent.remove(assoc)
    for handler in plan["handlers"].values():
        del handler.attrib["isForCompensation"]
    for throw, targets in plan["throws"]:
        throw_id = throw.get("id") or ""
        for definition in throw.findall("bpmn:compensateEventDefinition", NS):
            throw.remove(definition)
        gateway_id = f"{throw_id}__compensate"
        gateway = etree.Element(_q("exclusiveGateway"))
        gateway.set("id", gateway_id)
        gateway.set(OWNER, throw_id)
        if throw.get("name"):
            gateway.set("name", str(throw.get("name")))
        throw.addprevious(gateway)
        for flow in plan["flows"]:
            if flow.get("targetRef") == throw_id:
                flow.set("targetRef", gateway_id)
                _ref(gateway, "incoming", flow.get("id") or "")
        for incoming in throw.findall("bpmn:incoming", NS):
            throw.remove(incoming)
        done_id = f"{throw_id}__compensated"
        _flow(scope, done_id, gateway_id, throw_id)
        gateway.set("default", done_id)
        _ref(gateway, "outgoing", done_id)
        throw.insert(0, etree.Element(_q("incoming")))
        throw[0].text = done_id
        for activity_id, handler_id in targets.items():
            go_id, back_id = f"{throw_id}__undo__{activity_id}", f"{throw_id}__undone__{activity_id}"
            go = _flow(scope, go_id, gateway_id, handler_id)
            condition = etree.SubElement(go, _q("conditionExpression"))
            condition.set("{http://www.w3.org/2001/XMLSchema-instance}type", "bpmn:tFormalExpression")
            condition.set(MADE, "next")
            condition.text = MARKER + json.dumps({"next": activity_id, "of": targets}, sort_keys=True)
            _ref(gateway, "outgoing", go_id)
            _flow(scope, back_id, handler_id, gateway_id)
            _ref(gateway, "incoming", back_id)
            handler = plan["handlers"][handler_id]
            _ref(handler, "incoming", go_id)
            _ref(handler, "outgoing", back_id)


def is_next(task: Any, expression: str) -> bool:
    """Whether the activity a made condition names is the next to undo in the gateway's scope:
    of the throw's activities completed and not undone since (their handler completed after
    them), the last completed (deepest in the task tree on a tie of time)."""
    try:
        made = json.loads(expression[len(MARKER):])
        candidates = {str(a): str(h) for a, h in made["of"].items()}
        wanted = str(made["next"])
    except (ValueError, KeyError, TypeError, AttributeError) as err:  # only a version stored unchecked
        raise ValueError(f"not a compensation condition dealflow made: {expression!r}") from err
    workflow = task.workflow
    pending: list[tuple[float, int, str]] = []
    for activity_id, handler_id in candidates.items():
        done = workflow.get_tasks(spec_name=activity_id, state=TaskState.COMPLETED)
        if not done:
            continue
        last = max(done, key=lambda t: (t.last_state_change, t.depth))
        undone = [h for h in workflow.get_tasks(spec_name=handler_id, state=TaskState.COMPLETED)
                  if (h.last_state_change, h.depth) > (last.last_state_change, last.depth)]
        if not undone:
            pending.append((last.last_state_change, last.depth, activity_id))
    return bool(pending) and max(pending)[2] == wanted
