"""Instance state without its spec: the spec is stored once per process version.

Spiff's serializer writes the whole process spec into every workflow. We keep one copy per
deployed version (in `process_versions.spec`), keep its restored objects in memory per
version, and hand them to the restore instead of re-reading them for every step.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.data_object import DataObject as SpiffDataObject
from SpiffWorkflow.spiff.specs.defaults import CallActivity as SpiffCallActivity
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessageEventDefinition

from engine.calls import CallActivity
from engine.data_objects import DataObject
from engine.dmn.task import DecisionTask, DecisionTaskConverter
from engine.message_events import MessageEventDefinition
from engine.multi_instance import MULTI_INSTANCE_CLASSES, connect_all
from engine.scripting import UNBOUND
from engine.timers import CycleTimer, DateTimer, DurationTimer

#: Spiff's migrations from these serializer versions `eval` timer expressions
#: (SpiffWorkflow/bpmn/serializer/migration/version_1_2.py); dealflow never wrote them.
EVAL_MIGRATIONS = frozenset({"1.0", "1.1"})


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]  # Spiff ships no types
    """Writes a workflow without `spec`/`subprocess_specs`; restores with spec objects put back."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


def _registry() -> Any:
    config = dict(SPIFF_CONFIG)
    for timer in (DateTimer, DurationTimer, CycleTimer):
        config[timer] = TimerConditionalEventDefinitionConverter
    config[BpmnWorkflow] = SpecFreeWorkflowConverter
    # dealflow's multi-instance tasks (engine/multi_instance.py), call activity (engine/calls.py),
    # message event definition and data object (engine/data_objects.py) replace Spiff's under the
    # same type names, so specs stored before them restore as them.
    for ours in MULTI_INSTANCE_CLASSES:
        spiffs = next(c for c in config if isinstance(c, type) and c.__name__ == ours.__name__)
        config[ours] = config.pop(spiffs)
    config[CallActivity] = config.pop(SpiffCallActivity)
    config[MessageEventDefinition] = config.pop(SpiffMessageEventDefinition)
    config[DecisionTask] = DecisionTaskConverter
    config[DataObject] = config.pop(SpiffDataObject)
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(
        Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]), typename="Decimal"
    )
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]), typename="date"
    )
    return registry


class StateSerializer:
    """Spec-free JSON text for instance state, using Spiff's own encoder for task data.

    Spiff's registry switches into "encoder mode" through a flag on itself, so serializing
    is guarded by a lock: server threads share one engine.
    """

    def __init__(self) -> None:
        self._serializer = BpmnWorkflowSerializer(_registry())
        self._registry = self._serializer.registry
        self._lock = threading.Lock()

    def spec_to_dict(self, spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
        return {
            "spec": self._registry.convert(spec),
            "subprocess_specs": {name: self._registry.convert(s) for name, s in subprocess_specs.items()},
        }

    def spec_from_dict(self, dct: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        spec = self._registry.restore(dct["spec"])
        subs = {name: self._registry.restore(s) for name, s in dct["subprocess_specs"].items()}
        for restored in (spec, *subs.values()):
            connect_all(restored)
        return spec, subs

    def dumps(self, workflow: BpmnWorkflow) -> str:
        with self._lock:
            text: str = self._serializer.serialize_json(workflow)
            return text

    def loads(self, text: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        """The workflow of a saved state, with a script engine that refuses to evaluate until
        the runtime binds its own (Spiff would otherwise give it a Python one)."""
        dct = json.loads(text)
        if dct.get(self._serializer.VERSION_KEY) in EVAL_MIGRATIONS:
            raise ValueError(f"instance state of serializer version {dct[self._serializer.VERSION_KEY]} "
                             "would be migrated by running its timer expressions as Python; refused")
        self._serializer.migrate(dct)
        dct["spec"] = spec
        dct["subprocess_specs"] = dict(subprocess_specs)
        workflow = self._registry.restore(dct)
        workflow.script_engine = UNBOUND
        return workflow
