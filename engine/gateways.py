"""What deploy warns about gateways: an exclusive or inclusive gateway with no default flow
whose every outgoing flow has a condition.

When none of those conditions holds, SpiffWorkflow (like Camunda) stops the instance with an
incident ("No conditions satisfied"). The diagram is valid BPMN and the conditions may well
cover every case the designer expects (`amount < 1000` / `amount >= 1000`), so it is a warning
in the deploy answer, never a refusal; what it asks for is a default flow, which dealflow takes
when no condition holds. A flow without a condition already is such a path in Spiff, and a
condition that is the literal `true` always holds: neither is warned about.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.bpmn import BPMN_NS, describe, load_xml, xml_text

_NS = {"bpmn": BPMN_NS}
_GATEWAYS = ("exclusiveGateway", "inclusiveGateway")


def _condition(flow: etree._Element) -> str | None:
    found = flow.find("bpmn:conditionExpression", _NS)
    if found is None:
        return None
    return "".join(found.itertext()).strip() or None


def gateway_warnings(xml: str | bytes) -> list[dict[str, Any]]:
    """One warning per gateway of an executable process that can leave the instance with no
    path: {"element", "process", "warning"}, the warning naming the gateway by name and id
    with its line."""
    text = xml_text(xml)
    root = load_xml(text)
    warnings: list[dict[str, Any]] = []
    for process in root.iterfind("bpmn:process", _NS):
        if process.get("isExecutable", "true").lower() == "false":
            continue
        flows = [el for el in process.iter(f"{{{BPMN_NS}}}sequenceFlow")]
        for tag in _GATEWAYS:
            for gateway in process.iter(f"{{{BPMN_NS}}}{tag}"):
                if gateway.get("default"):
                    continue
                outgoing = [_condition(flow) for flow in flows if flow.get("sourceRef") == gateway.get("id")]
                if not outgoing or any(c is None or c.lower() == "true" for c in outgoing):
                    continue
                warnings.append({
                    "element": gateway.get("id"),
                    "process": process.get("id"),
                    "warning": f"{describe(gateway, text)} has no default flow: when none of its "
                               f"{len(outgoing)} conditions holds, the instance stops with an incident; "
                               "mark one outgoing flow as the default (taken when no condition holds)",
                })
    return warnings
