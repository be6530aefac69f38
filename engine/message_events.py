"""Thrown messages carry the thrower's variables unless the diagram says what they carry.

SpiffWorkflow's own message events throw an empty payload when no `spiffworkflow:messagePayload`
is given, so a collaboration drawn in any other modeler (which has no such extension) sends
nothing, and its correlation properties, whose retrieval expressions read the payload, cannot be
computed. BPMN's default is the data of the throwing task, as Spiff's base message event does:
that is the payload here, less `event` (the message the thrower itself caught). A
`messagePayload` whose value is not a record (`order_no`) is that value; its correlations are
read from the thrower's variables then. Every expression is dsl, evaluated by the instance's
script engine (engine/scripting.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessageEventDefinition


class MessageEventDefinition(SpiffMessageEventDefinition):  # type: ignore[misc]  # Spiff ships no types
    """Spiff's message event definition, throwing the task's variables by default."""

    def throw(self, my_task: Any) -> None:
        if self.expression is not None:
            payload = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        else:
            # the message this task itself caught (`event`) stays behind, or each answer of a
            # conversation would carry all the earlier ones inside it
            payload = {k: deepcopy(v) for k, v in my_task.data.items() if k != "event"}
        context = payload if isinstance(payload, Mapping) else my_task.data
        correlations = self.get_correlations(my_task, context) if self.correlation_properties else {}
        my_task.workflow.correlations.update(correlations)
        my_task.workflow.top_workflow.catch(BpmnEvent(self, payload=payload, correlations=correlations))
