"""Business rule tasks: a BPMN task that evaluates a deployed DMN decision through dealflow.

Spiff's own BusinessRuleTask embeds the parsed DMN in the process spec and evaluates it with
its DMN engine (Python `eval` of every cell under Spiff's default environment). Here the task
names the decision by key and asks the workflow's script engine, which is dealflow's
(`engine.scripting.DslScriptEngine.decide`), for the latest deployed version at run time: the
table is evaluated by the dsl, and a workflow no instance is bound to cannot evaluate at all.

The decision reference is read as the modelers write it: `camunda:decisionRef` (Camunda 7),
`zeebe:calledDecision decisionId` (Camunda 8), `spiffworkflow:calledDecisionId` (SpiffArena),
or `dealflow:decision`; the result variable likewise (`camunda:resultVariable`,
`zeebe:calledDecision resultVariable`, `dealflow:resultVariable`).
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.serializer.task_spec import SpiffBpmnTaskConverter
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

from crm import json_codec

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DEALFLOW_NS = "https://dealflow.dev/schema/bpmn"


def decision_ref(node: etree._Element) -> str | None:
    """The key of the decision a businessRuleTask element calls, in any modeler's spelling."""
    extensions = node.find(f"{{{BPMN_NS}}}extensionElements")
    if extensions is not None:
        for tag, attr in ((f"{{{SPIFF_NS}}}calledDecisionId", None), (f"{{{ZEEBE_NS}}}calledDecision", "decisionId")):
            found = extensions.find(tag)
            if found is not None:
                value = found.get(attr) if attr else found.text
                if value and value.strip():
                    return value.strip()
    for attr in (f"{{{CAMUNDA_NS}}}decisionRef", f"{{{DEALFLOW_NS}}}decision"):
        value = node.get(attr)
        if value and value.strip():
            return value.strip()
    return None


def result_variable(node: etree._Element) -> str | None:
    extensions = node.find(f"{{{BPMN_NS}}}extensionElements")
    called = extensions.find(f"{{{ZEEBE_NS}}}calledDecision") if extensions is not None else None
    for value in (called.get("resultVariable") if called is not None else None,
                  node.get(f"{{{CAMUNDA_NS}}}resultVariable"), node.get(f"{{{DEALFLOW_NS}}}resultVariable")):
        if value and value.strip():
            return value.strip()
    return None


class DecisionTask(SpiffBpmnTask):  # type: ignore[misc]  # Spiff ships no types
    """Evaluates decision `decision_ref` and puts its result in the task's data: one variable
    per output column, or the whole result in `result_variable` when the task names one."""

    def __init__(self, wf_spec: Any, bpmn_id: str, decision_ref: str, result_variable: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.decision_ref = decision_ref
        self.result_variable = result_variable

    def _run_hook(self, my_task: Any) -> bool:
        decide = getattr(my_task.workflow.script_engine, "decide", None)
        if decide is None:
            raise WorkflowTaskException("decisions are evaluated only by dealflow's script engine", task=my_task)
        result = decide(my_task, self.decision_ref)
        if self.result_variable:
            my_task.data[self.result_variable] = json_codec.plain(result.value)
        else:
            my_task.data.update(json_codec.plain(result.variables()))
        super()._run_hook(my_task)
        return True


class DecisionTaskParser(SpiffTaskParser):  # type: ignore[misc]  # Spiff ships no types
    def create_task(self) -> DecisionTask:
        ref = self.get_decision_ref(self.node) or ""
        if not ref:
            self.raise_validation_exception(
                "a business rule task needs the decision it evaluates (camunda:decisionRef, "
                "spiffworkflow:calledDecisionId or dealflow:decision)")
        extensions = self.parse_extensions()
        return DecisionTask(self.spec, self.bpmn_id, decision_ref=ref, result_variable=result_variable(self.node),
                            prescript=extensions.get("preScript"), postscript=extensions.get("postScript"),
                            **self.bpmn_attributes)

    @staticmethod
    def get_decision_ref(node: etree._Element) -> str | None:
        return decision_ref(node)


class DecisionTaskConverter(SpiffBpmnTaskConverter):  # type: ignore[misc]  # Spiff ships no types
    def to_dict(self, spec: DecisionTask) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(spec)
        dct["decision_ref"] = spec.decision_ref
        dct["result_variable"] = spec.result_variable
        return dct
