"""Compensation is refused at deploy, by element, until dealflow runs it.

SpiffWorkflow 3.2 has no compensation: a compensation throw passes as if it were a plain
event (the handlers never run) and a compensation boundary event stops the parse with a
message about a missing trigger. Camunda runs the handlers of the completed activities in
reverse order; dealflow cannot yet, and a process that seemed to undo its work but did not
is worse than one refused, so every compensation element is named with what to use instead.
"""

from __future__ import annotations

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_INSTEAD = ("undo the work with an error or escalation boundary event (or an event subprocess) and the "
            "steps after it")


def refuse(root: etree._Element) -> list[tuple[etree._Element, str]]:
    """Every compensation event and handler, with why it is refused."""
    problems: list[tuple[etree._Element, str]] = []
    for definition in root.iter(f"{{{BPMN_NS}}}compensateEventDefinition"):
        event = definition.getparent()
        if event is None:
            continue
        kind = etree.QName(event).localname
        what = {"boundaryEvent": "a compensation boundary event", "startEvent": "a compensation start event",
                "endEvent": "a compensation end event"}.get(kind, "a compensation throw event")
        problems.append((event, f"{what} is not supported: dealflow does not run compensation yet; {_INSTEAD}"))
    for activity in root.iter(f"{{{BPMN_NS}}}*"):
        if (activity.get("isForCompensation") or "").lower() == "true":
            problems.append((activity, "a compensation handler (isForCompensation) is not supported: dealflow does "
                                       f"not run compensation yet; {_INSTEAD}"))
    return problems
