"""Multi-instance activities: one instance per item of a collection, or `loopCardinality` of them.

BPMN names the collection with `loopDataInputRef`, each instance's item with `inputDataItem`,
what it answers with `outputDataItem` and the list the answers are gathered into with
`loopDataOutputRef`. SpiffWorkflow reads the collection and the answers as variables by name
only, and fails in Python's words when one is missing ("'NoneType' object is not iterable",
"Expected an output item"). Here every one of them is dsl:

- the collection is a dsl expression (`deal.products`, `filter(deal.products, p -> not
  p.in_stock)`, or a variable name), read once when the activity starts; null or something that
  is not a list is an incident naming the element and the expression;
- the item is the variable `inputDataItem` names (its `name` when that is a word, else its id),
  and `loopCounter` (1, 2, ...) is set in each instance, as Camunda 8 does;
- the answer is the variable `outputDataItem` names, null when the instance did not set it,
  put into the output list at the item's position (not in the order the instances ended);
- `completionCondition` sees the last finished instance's variables and `nrOfInstances`,
  `nrOfCompletedInstances`, `nrOfActiveInstances` (Camunda's names).

Camunda 7's `camunda:collection`/`camunda:elementVariable` and Camunda 8's
`zeebe:loopCharacteristics` (`inputCollection`, `inputElement`, `outputCollection`,
`outputElement`) are read as the same elements, so diagrams from both modelers run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from copy import deepcopy
from decimal import Decimal
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    ParallelMultiInstanceTask as _ParallelMixin,
)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    SequentialMultiInstanceTask as _SequentialMixin,
)
from SpiffWorkflow.spiff.specs.defaults import ParallelMultiInstanceTask as _SpiffParallel
from SpiffWorkflow.spiff.specs.defaults import SequentialMultiInstanceTask as _SpiffSequential
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from dsl import DslError, DslEvalError, compile_expression

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
DEALFLOW_NS = "https://dealflow.dev/schema/bpmn"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "zeebe": ZEEBE_NS, "dealflow": DEALFLOW_NS}
#: An outputDataItem's answer as an expression over the instance's variables (Camunda 8's outputElement).
OUTPUT_EXPRESSION = f"{{{DEALFLOW_NS}}}expression"
#: Where the collection read at the start is kept, on the multi-instance task.
ITEMS = "dealflow_items"
#: Names each instance sets for itself; they are not merged back into the process.
COUNTER = "loopCounter"
#: Names an item or answer variable may not take: every expression reads them as the deal and process.
RESERVED = {"deal", "process", COUNTER}
#: The order XSD gives the children of multiInstanceLoopCharacteristics.
_CHILD_ORDER = ("loopCardinality", "loopDataInputRef", "loopDataOutputRef", "inputDataItem", "outputDataItem",
                "complexBehaviorDefinition", "completionCondition")
_PLACEHOLDER = "dealflow_collection"


def _expression(ref: Any) -> str | None:
    """The dsl text a data reference holds (Spiff keeps the reference's text as its id)."""
    return None if ref is None else str(ref.bpmn_id)


def _fail(task: Any, text: str, message: str) -> WorkflowTaskException:
    """An error the incident reads like any failed expression: the element, the text, what was wrong
    and the values it saw (engine.runtime reads ExpressionFailed), never a Python type error.

    The task is put in ERROR, so the incident is the activity's (not the step before it, whose
    completion reached it) and retrying the incident plans its instances again (`_run_hook`)."""
    from engine.scripting import ExpressionFailed, _seen  # scripting imports nothing of this module

    task._set_state(TaskState.ERROR)
    engine = task.workflow.script_engine
    env = engine.environment.variables(task.data, task.workflow.data_objects)
    reason = DslEvalError(message)
    failed = ExpressionFailed(text, reason, _seen(text, env, engine.now()))
    failed.__cause__ = reason
    error = WorkflowTaskException(f"{text!r}: {message}", task=task, exception=failed)
    error.__cause__ = failed
    return error


def _evaluate_or_error(my_task: Any, text: str) -> Any:
    """`_evaluate`, leaving the task in ERROR when it fails, as Spiff leaves a task whose
    expression failed (the error itself goes on to become the incident)."""
    try:
        return _evaluate(my_task, text)
    except Exception:
        my_task._set_state(TaskState.ERROR)
        raise


def _evaluate(task: Any, text: str, context: dict[str, Any] | None = None) -> Any:
    external = {**(task.workflow.data_objects or {}), **(context or {})}
    return task.workflow.script_engine.evaluate(task, text, external_context=external)


def _describe(value: Any) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


class _DslLoop:
    """Shared by the parallel and sequential kinds (mixed in before Spiff's classes)."""

    task_spec: str
    cardinality: str | None
    data_input: Any
    data_output: Any
    input_item: Any
    output_item: Any
    condition: str | None

    def _items(self, my_task: Any) -> list[Any]:
        """The collection (or 0..n-1 for a cardinality), evaluated once and kept on the task."""
        if ITEMS in my_task.internal_data:
            return list(my_task.internal_data[ITEMS])
        if self.data_input is not None:
            text = _expression(self.data_input) or ""
            value = _evaluate_or_error(my_task, text)
            if not isinstance(value, list | tuple):
                raise _fail(my_task, text, f"the multi-instance collection must be a list, not {_describe(value)}")
            items = list(value)
        else:
            text = self.cardinality or ""
            value = _evaluate_or_error(my_task, text)
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
                raise _fail(my_task, text, f"loopCardinality must be a whole number, not {_describe(value)}")
            if value != int(value) or value < 0:
                raise _fail(my_task, text, f"loopCardinality must be a whole number of at least 0, not {value}")
            items = list(range(int(value)))
        my_task.internal_data[ITEMS] = items
        if self.data_output is not None:
            self.data_output.set(my_task, [None] * len(items))
        return items

    def _run_hook(self, my_task: Any) -> Any:
        """A task whose instances were never made (its collection failed, the incident was
        retried) makes them now instead of completing without them."""
        if ITEMS not in my_task.internal_data and not self._update_hook(my_task):  # type: ignore[attr-defined]
            return None
        return super()._run_hook(my_task)  # type: ignore[misc]

    def _locals(self) -> set[str]:
        names = {COUNTER}
        for ref in (self.input_item, self.output_item):
            if ref is not None:
                names.add(str(ref.bpmn_id))
        return names

    def create_child(self, my_task: Any, item: Any, key_or_index: Any = None) -> None:
        """An instance with its item and counter; an item variable already set in the process
        is shadowed inside the instance, not an error as in Spiff."""
        task_spec = my_task.workflow.spec.task_specs[self.task_spec]
        connect(self, task_spec)
        child = my_task._add_child(task_spec, TaskState.WAITING)
        child.triggered = True
        if self.input_item is not None:
            child.data[str(self.input_item.bpmn_id)] = deepcopy(item)
        child.data[COUNTER] = int(key_or_index) + 1
        child.internal_data["key_or_index"] = key_or_index
        child.task_spec._update(child)

    def _answer(self, child: Any) -> Any:
        name = str(self.output_item.bpmn_id)
        if name.isidentifier():
            return deepcopy(child.data.get(name))
        return _evaluate(child, name)  # Camunda 8's outputElement is an expression

    def _merge(self, child: Any) -> None:
        my_task = child.parent
        if self.data_output is not None and self.output_item is not None:
            output = self.data_output.get(my_task)
            if not isinstance(output, list):
                output = [None] * len(my_task.internal_data.get(ITEMS, []))
            index = child.internal_data.get("key_or_index")
            value = self._answer(child)
            if isinstance(index, int) and 0 <= index < len(output):
                output[index] = value
            else:
                output.append(value)
            self.data_output.set(my_task, output)
        else:
            local = self._locals()
            DeepMerge.merge(my_task.data, {k: v for k, v in child.data.items() if k not in local})
        my_task.internal_data.setdefault("merged", []).append(str(child.id))

    def check_completion_condition(self, my_task: Any) -> bool:
        merged = my_task.internal_data.get("merged", [])
        if not merged or self.condition is None:
            return False
        last = next(c for c in my_task.children if str(c.id) == merged[-1])
        total = len(my_task.internal_data.get(ITEMS, []))
        instances = list(self._instances(my_task))  # type: ignore[attr-defined]
        active = sum(1 for c in instances if not c.has_state(TaskState.FINISHED_MASK))
        counts: dict[str, Any] = {"nrOfInstances": total, "nrOfCompletedInstances": len(merged),
                                  "nrOfActiveInstances": active}
        counts.update({name.replace("nrOf", "numberOf"): value for name, value in counts.items()})  # Camunda 8
        return bool(_evaluate(last, self.condition, counts))


class ParallelMultiInstanceTask(_DslLoop, _SpiffParallel):  # type: ignore[misc]  # Spiff ships no types
    """All instances at once (one CRM task each for a user task); the completion condition,
    when it holds, cancels the instances still open."""

    def create_children(self, my_task: Any) -> None:
        items = self._items(my_task)
        limit = getattr(my_task.workflow.script_engine, "max_instances", None)
        if limit is not None and len(items) > limit:  # all in one step, which the step budget cannot stop
            del my_task.internal_data[ITEMS]
            raise _fail(my_task, _expression(self.data_input) or self.cardinality or "",
                        f"the collection has {len(items)} items, more than the {limit} instances one step may "
                        "create (the step budget); make it sequential or split the list")
        for index, item in enumerate(items):
            self.create_child(my_task, item, index)

    def merge_child(self, workflow: Any, child: Any) -> None:
        self._merge(child)
        my_task = child.parent
        if self.check_completion_condition(my_task):
            for other in self._instances(my_task):
                other.cancel()
            my_task._set_state(TaskState.READY)
        elif self.children_complete(my_task):
            my_task._set_state(TaskState.READY)


class SequentialMultiInstanceTask(_DslLoop, _SpiffSequential):  # type: ignore[misc]  # Spiff ships no types
    """One instance after the other, in the collection's order."""

    def _update_hook(self, my_task: Any) -> bool | None:
        super(_SequentialMixin, self)._update_hook(my_task)  # the data hooks, not Spiff's loop set-up
        my_task.internal_data["merged"] = []
        my_task.internal_data["remaining"] = list(range(len(self._items(my_task))))
        if not my_task.internal_data["remaining"]:
            return True
        self.add_next_child(my_task)
        my_task._set_state(TaskState.STARTED)
        return None

    def add_next_child(self, my_task: Any) -> None:
        remaining = my_task.internal_data.get("remaining", [])
        if remaining:
            index, my_task.internal_data["remaining"] = remaining[0], remaining[1:]
            self.create_child(my_task, self._items(my_task)[index], index)

    def children_complete(self, my_task: Any) -> bool:
        return not my_task.internal_data.get("remaining")

    def merge_child(self, workflow: Any, child: Any) -> None:
        self._merge(child)
        my_task = child.parent
        if self.children_complete(my_task) or self.check_completion_condition(my_task):
            my_task._set_state(TaskState.READY)
        else:
            self.add_next_child(my_task)


MULTI_INSTANCE_CLASSES = (ParallelMultiInstanceTask, SequentialMultiInstanceTask)
_ = _ParallelMixin  # the mixins' names are what Spiff's parser checks against; kept importable


def connect(mi: Any, child_spec: Any) -> None:
    """Spiff hears an instance finish through its spec's completed event, which a restored spec
    has lost: connected when a spec is restored (engine.serialization) and before each instance."""
    if not child_spec.completed_event.is_connected(mi.merge_child):
        child_spec.completed_event.connect(mi.merge_child)


def connect_all(spec: Any) -> None:
    for task_spec in list(spec.task_specs.values()):
        if isinstance(task_spec, MULTI_INSTANCE_CLASSES) and task_spec.task_spec in spec.task_specs:
            connect(task_spec, spec.task_specs[task_spec.task_spec])


def variable(item: Any) -> Any:
    """The variable an input or output data item stands for: its name when that is a word (the
    id must be unique in the file, the name need not), else its id."""
    if item is None:
        return None
    name = (item.bpmn_name or "").strip()
    return TaskDataReference(name if name.isidentifier() else item.bpmn_id, item.bpmn_name)


def parser_classes(classes: dict[str, tuple[type, type]]) -> dict[str, tuple[type, type]]:
    """Spiff's task parsers, building dealflow's multi-instance tasks."""
    out = {}
    for tag, (parser_cls, spec_cls) in classes.items():
        if hasattr(parser_cls, "PARALLEL_MI_CLASS"):
            parser_cls = type(f"DealflowLoop{parser_cls.__name__}", (parser_cls,), {
                "PARALLEL_MI_CLASS": ParallelMultiInstanceTask,
                "SEQUENTIAL_MI_CLASS": SequentialMultiInstanceTask,
                "_add_multiinstance_task": _add_multiinstance_task,
            })
        out[tag] = (parser_cls, spec_cls)
    return out


def _add_multiinstance_task(self: Any, loop_characteristics: Any) -> None:
    super(type(self), self)._add_multiinstance_task(loop_characteristics)
    task = self.task
    if isinstance(task, MULTI_INSTANCE_CLASSES):
        if not task.bpmn_name:  # Spiff names only the inner task; incidents and history name the activity
            task.bpmn_name = self.spec.task_specs[task.task_spec].bpmn_name
        task.input_item = variable(task.input_item)
        task.output_item = variable(task.output_item)
        expressed = self.xpath("./bpmn:multiInstanceLoopCharacteristics/bpmn:outputDataItem")
        if expressed and expressed[0].get(OUTPUT_EXPRESSION):
            task.output_item = TaskDataReference(expressed[0].get(OUTPUT_EXPRESSION), task.output_item.bpmn_name)
        if task.data_input is not None and not isinstance(task.data_input, TaskDataReference):
            task.data_input = TaskDataReference(task.data_input.bpmn_id, task.data_input.bpmn_name)


# ---------------------------------------------------------------------- the XML, before Spiff reads it


def _unwrap(text: str | None) -> str | None:
    """Camunda's marks around an expression: `${expr}`/`#{expr}` (Camunda 7) and `=expr` (8)."""
    if text is None:
        return None
    stripped = text.strip()
    wrapped = re.fullmatch(r"[$#]\{(.*)\}", stripped, re.S)
    if wrapped:
        return wrapped.group(1).strip()
    if stripped.startswith("=") and not stripped.startswith("=="):
        return stripped[1:].strip()
    return text


def _child(loop: etree._Element, tag: str, text: str | None = None,
           attrib: dict[str, str] | None = None) -> etree._Element:
    """The standard child `tag` of the loop characteristics, made where the schema wants it."""
    found = loop.find(f"bpmn:{tag}", NS)
    if found is not None:
        return found
    el = etree.Element(f"{{{BPMN_NS}}}{tag}", attrib or {})
    el.text = text
    rank = _CHILD_ORDER.index(tag)
    after = [c for c in loop if isinstance(c.tag, str) and etree.QName(c).localname in _CHILD_ORDER
             and _CHILD_ORDER.index(etree.QName(c).localname) > rank]
    if after:
        after[0].addprevious(el)
    else:
        loop.append(el)
    return el


def prepare(root: etree._Element) -> Callable[[], None]:
    """Read Camunda's loop extensions as the standard elements, and set aside collection
    expressions the schema would refuse as a QName (`filter(deal.products, p -> p.qty > 0)`);
    returns what puts them back once the schema is checked."""
    stashed: list[tuple[etree._Element, str]] = []
    for loop in root.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
        owner = loop.getparent()
        owner_id = (owner.get("id") if owner is not None else None) or "loop"
        collection, element = loop.get(f"{{{CAMUNDA_NS}}}collection"), loop.get(f"{{{CAMUNDA_NS}}}elementVariable")
        zeebe = loop.find("bpmn:extensionElements/zeebe:loopCharacteristics", NS)
        if zeebe is not None:
            collection = zeebe.get("inputCollection") or collection
            element = zeebe.get("inputElement") or element
            if zeebe.get("outputCollection") and zeebe.get("outputElement"):
                _child(loop, "loopDataOutputRef", zeebe.get("outputCollection"))
                _child(loop, "outputDataItem", None, {"id": f"{owner_id}_output",
                                                       OUTPUT_EXPRESSION: _unwrap(zeebe.get("outputElement")) or ""})
        if collection and loop.find("bpmn:loopDataInputRef", NS) is None \
                and loop.find("bpmn:loopCardinality", NS) is None:
            _child(loop, "loopDataInputRef", _unwrap(collection))
        if element and loop.find("bpmn:inputDataItem", NS) is None:
            _child(loop, "inputDataItem", None, {"id": f"{owner_id}_item", "name": element})
        for tag in ("loopCardinality", "completionCondition", "loopDataInputRef"):
            el = loop.find(f"bpmn:{tag}", NS)
            if el is not None:
                el.text = _unwrap(el.text)
        ref = loop.find("bpmn:loopDataInputRef", NS)
        if ref is not None and not re.fullmatch(r"[^\W\d][\w.-]*", (ref.text or "").strip()):
            stashed.append((ref, ref.text or ""))
            ref.text = _PLACEHOLDER

    def restore() -> None:
        for el, text in stashed:
            el.text = text
    return restore


def problems(root: etree._Element, located: Callable[[etree._Element], dict[str, Any]]) -> list[dict[str, Any]]:
    """Every multi-instance text checked at deploy: the collection compiles as dsl, the item,
    answer and output-list names are variables an expression can read."""
    found: list[dict[str, Any]] = []
    for loop in root.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
        owner = loop.getparent()
        element = (owner.get("id") if owner is not None else None) or "?"

        def problem(el: etree._Element, message: str, *, element: str = element) -> None:
            found.append({"element": element, "message": message, **located(el)})

        ref = loop.find("bpmn:loopDataInputRef", NS)
        if ref is not None:
            collection = (ref.text or "").strip()
            if not collection:
                problem(ref, "loopDataInputRef: a collection expression is required (e.g. deal.products)")
            elif not _names_io_input(owner, collection):
                try:
                    compile_expression(collection)
                except DslError as err:
                    problem(ref, f"loopDataInputRef: {err}")
        out = loop.find("bpmn:loopDataOutputRef", NS)
        if out is not None and not _is_variable(out.text):
            problem(out, f"loopDataOutputRef {(out.text or '').strip()!r}: the output list needs a variable name "
                         "(letters, digits and _, not deal or process)")
        for tag in ("inputDataItem", "outputDataItem"):
            item = loop.find(f"bpmn:{tag}", NS)
            if item is None:
                continue
            name = (item.get("name") or "").strip()
            chosen = name if name.isidentifier() else (item.get("id") or "")
            if item.get(OUTPUT_EXPRESSION) is not None:  # Camunda 8's outputElement
                try:
                    compile_expression(item.get(OUTPUT_EXPRESSION) or "")
                except DslError as err:
                    problem(item, f"outputElement: {err}")
                continue
            if not _is_variable(chosen):
                problem(item, f"{tag} {chosen!r}: the item needs a variable name (letters, digits and _, "
                              f"not {', '.join(sorted(RESERVED))})")
    return found


def _is_variable(text: str | None) -> bool:
    name = (text or "").strip()
    return name.isidentifier() and not name.startswith("_") and name not in RESERVED


def _names_io_input(owner: etree._Element | None, name: str) -> bool:
    if owner is None:
        return False
    return any(d.get("name") == name or d.get("id") == name
               for d in owner.iterfind("bpmn:ioSpecification/bpmn:dataInput", NS))
