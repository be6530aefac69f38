"""A compact way to write small BPMN processes in tests.

Engine tests need many tiny diagrams; writing their XML by hand would bury the behaviour
under angle brackets. This builder emits plain BPMN 2.0 with dealflow's and Spiff's
extension elements, exactly what a modeler would save (minus the diagram layout).
"""

from __future__ import annotations

from itertools import pairwise
from xml.sax.saxutils import escape, quoteattr

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'xmlns:dealflow="https://dealflow.dev/schema/bpmn" id="defs" targetNamespace="https://dealflow.dev/tests">\n'
)


class Bpmn:
    def __init__(self, process_id: str = "proc", name: str | None = None) -> None:
        self.process_id = process_id
        self.name = name or process_id
        self.extensions: list[str] = []
        self.nodes: dict[str, tuple[str, str, str]] = {}
        self.flows: list[tuple[str, str, str, str | None]] = []
        self.messages: set[str] = set()
        self._kinds: dict[str, str] = {}

    # process-level
    def parameter(self, name: str, type_: str = "string", required: bool = True) -> Bpmn:
        self.extensions.append(
            f'<dealflow:parameter name="{name}" type="{type_}" required="{str(required).lower()}"/>')
        return self

    def required_field(self, name: str, label: str | None = None) -> Bpmn:
        label_attr = f" label={quoteattr(label)}" if label else ""
        self.extensions.append(f'<dealflow:requiredField name="{name}"{label_attr}/>')
        return self

    # nodes
    def _add(self, node_id: str, kind: str, inner: str = "", attrs: str = "") -> Bpmn:
        self.nodes[node_id] = (kind, inner, attrs)
        self._kinds[node_id] = kind
        return self

    def start(self, node_id: str = "start") -> Bpmn:
        return self._add(node_id, "startEvent")

    def end(self, node_id: str = "end") -> Bpmn:
        return self._add(node_id, "endEvent")

    def script(self, node_id: str, script: str) -> Bpmn:
        return self._add(node_id, "scriptTask", f"<bpmn:script>{escape(script)}</bpmn:script>")

    def service(self, node_id: str, action: str, **params: str) -> Bpmn:
        body = "".join(
            f'<spiffworkflow:parameter id="{k}" type="any" value={quoteattr(v)}/>' for k, v in params.items()
        )
        inner = (
            f'<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="{action}" '
            f'resultVariable="{node_id}_result"><spiffworkflow:parameters>{body}'
            "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>"
        )
        return self._add(node_id, "serviceTask", inner)

    def user(self, node_id: str, form: tuple[dict[str, str], ...] = (), **properties: str) -> Bpmn:
        """`form`: the task's `dealflow:formField`s, each a dict of its attributes."""
        props = "".join(
            f'<spiffworkflow:property name="{k.replace("__", ".")}" value={quoteattr(v)}/>'
            for k, v in properties.items()
        )
        fields = "".join(
            "<dealflow:formField " + " ".join(f"{k}={quoteattr(v)}" for k, v in f.items()) + "/>" for f in form
        )
        body = (f"<spiffworkflow:properties>{props}</spiffworkflow:properties>" if props else "") + fields
        inner = f"<bpmn:extensionElements>{body}</bpmn:extensionElements>" if body else ""
        return self._add(node_id, "userTask", inner)

    def rule_task(self, node_id: str, decision: str, result_variable: str | None = None) -> Bpmn:
        """A business rule task calling `decision`, as SpiffArena writes the reference."""
        attrs = f' dealflow:resultVariable="{result_variable}"' if result_variable else ""
        inner = (f"<bpmn:extensionElements><spiffworkflow:calledDecisionId>{escape(decision)}"
                 "</spiffworkflow:calledDecisionId></bpmn:extensionElements>")
        return self._add(node_id, "businessRuleTask", inner, attrs)

    def xor(self, node_id: str, default: str | None = None) -> Bpmn:
        return self._add(node_id, "exclusiveGateway", attrs=f' default="{default}"' if default else "")

    def parallel(self, node_id: str) -> Bpmn:
        return self._add(node_id, "parallelGateway")

    def event_gateway(self, node_id: str) -> Bpmn:
        return self._add(node_id, "eventBasedGateway")

    def message_catch(self, node_id: str, message: str) -> Bpmn:
        self.messages.add(message)
        return self._add(node_id, "intermediateCatchEvent", _message_def(message))

    def timer_catch(self, node_id: str, *, duration: str | None = None, date: str | None = None,
                    cycle: str | None = None) -> Bpmn:
        return self._add(node_id, "intermediateCatchEvent", _timer_def(duration, date, cycle))

    def boundary(self, node_id: str, attached_to: str, *, message: str | None = None, duration: str | None = None,
                 date: str | None = None, cycle: str | None = None, interrupting: bool = True) -> Bpmn:
        if message:
            self.messages.add(message)
            inner = _message_def(message)
        else:
            inner = _timer_def(duration, date, cycle)
        attrs = f' attachedToRef="{attached_to}" cancelActivity="{str(interrupting).lower()}"'
        return self._add(node_id, "boundaryEvent", inner, attrs)

    # flows
    def flow(self, source: str, target: str, condition: str | None = None, flow_id: str | None = None) -> Bpmn:
        self.flows.append((flow_id or f"flow_{source}_{target}", source, target, condition))
        return self

    def chain(self, *node_ids: str) -> Bpmn:
        for source, target in pairwise(node_ids):
            self.flow(source, target)
        return self

    def xml(self) -> str:
        incoming: dict[str, list[str]] = {}
        outgoing: dict[str, list[str]] = {}
        for flow_id, source, target, _ in self.flows:
            outgoing.setdefault(source, []).append(flow_id)
            incoming.setdefault(target, []).append(flow_id)
        parts = [HEADER]
        for message in sorted(self.messages):
            parts.append(f'<bpmn:message id="{_message_id(message)}" name="{message}"/>\n')
        parts.append(f'<bpmn:process id="{self.process_id}" name="{self.name}" isExecutable="true">\n')
        if self.extensions:
            parts.append("<bpmn:extensionElements>" + "".join(self.extensions) + "</bpmn:extensionElements>\n")
        for node_id, (kind, inner, attrs) in self.nodes.items():
            refs = "".join(f"<bpmn:incoming>{f}</bpmn:incoming>" for f in incoming.get(node_id, []))
            refs += "".join(f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing.get(node_id, []))
            ext, body = (inner, "") if inner.startswith("<bpmn:extensionElements>") else ("", inner)
            parts.append(f'<bpmn:{kind} id="{node_id}" name="{node_id}"{attrs}>{ext}{refs}{body}</bpmn:{kind}>\n')
        for flow_id, source, target, condition in self.flows:
            cond = (f'<bpmn:conditionExpression xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                    f'xsi:type="bpmn:tFormalExpression">{escape(condition)}</bpmn:conditionExpression>'
                    if condition else "")
            parts.append(f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{cond}'
                         "</bpmn:sequenceFlow>\n")
        parts.append("</bpmn:process>\n</bpmn:definitions>\n")
        return "".join(parts)


def _message_id(message: str) -> str:
    return "msg_" + "".join(c if c.isalnum() else "_" for c in message)


def _message_def(message: str) -> str:
    return f'<bpmn:messageEventDefinition messageRef="{_message_id(message)}"/>'


def _timer_def(duration: str | None, date: str | None, cycle: str | None) -> str:
    if duration is not None:
        body = f"<bpmn:timeDuration>{escape(duration)}</bpmn:timeDuration>"
    elif date is not None:
        body = f"<bpmn:timeDate>{escape(date)}</bpmn:timeDate>"
    else:
        body = f"<bpmn:timeCycle>{escape(cycle or '')}</bpmn:timeCycle>"
    return f"<bpmn:timerEventDefinition>{body}</bpmn:timerEventDefinition>"
