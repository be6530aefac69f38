"""Data objects (`bpmn:dataObject` with its references and associations) as modelers draw them.

Camunda 7 and 8 treat data objects and their associations as documentation: every variable is
the process's, and a task that does not write the object is no error. SpiffWorkflow instead
raises when a task with an output association completes without a variable of the object's id
("A data object could not be set"), and when a task reads an object no task has written yet; a
diagram drawn in Camunda Modeler or bpmn.io (data objects beside user tasks whose forms do not
name them) then stopped at run time with an incident the designer could not foresee at deploy.

dealflow keeps Spiff's scoping (an object lives in the process or subprocess that declares it,
and is copied into a task that reads it and out of a task that writes it) and its one rule that
changes nothing: a task that writes the object with no value of that name leaves the object as
it was, and a task that reads an object never written reads nothing (an expression naming it
then fails as any unknown variable does, with the name).
"""

from __future__ import annotations

import logging
from copy import deepcopy
from typing import Any

from SpiffWorkflow.spiff.specs.data_object import DataObject as SpiffDataObject

logger = logging.getLogger("dealflow.engine")


def _holder(task: Any, bpmn_id: str) -> Any:
    """The (sub)workflow whose spec declares the object: where its value lives."""
    workflow = task.workflow
    while workflow is not None and bpmn_id not in workflow.spec.data_objects:
        workflow = workflow.parent_workflow
    return workflow


class DataObject(SpiffDataObject):  # type: ignore[misc]  # Spiff ships no types
    """Spiff's data object (same type name, so the serializer and older states keep working)."""

    def get(self, my_task: Any) -> None:
        workflow = _holder(my_task, self.bpmn_id)
        if workflow is None or self.bpmn_id not in workflow.data_objects:
            logger.info("data object %s read before any task wrote it", self.bpmn_id)
            return
        my_task.data[self.bpmn_id] = deepcopy(workflow.data_objects[self.bpmn_id])

    def set(self, my_task: Any) -> None:
        if self.bpmn_id not in my_task.data:
            logger.info("task %s wrote no value to data object %s: unchanged", my_task.task_spec.name, self.bpmn_id)
            return
        workflow = _holder(my_task, self.bpmn_id)
        if workflow is None:
            return
        workflow.data_objects[self.bpmn_id] = deepcopy(my_task.data.pop(self.bpmn_id))
