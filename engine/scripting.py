"""SpiffWorkflow's script engine, replaced by one backed by the dsl evaluator.

Spiff's default engine and its environment run `eval`/`exec` on text from the diagram. Here
both are ours: every gateway condition, script, timer, service-task parameter, loop
expression, message payload and correlation expression is dsl text, evaluated against the
task's variables plus a read-only view of the instance's deal. No Python from a process ever
runs; docs/processes.md lists every place Spiff evaluates text and what happens there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.exceptions import WorkflowException

from crm import json_codec
from crm.clock import Clock
from dsl import DslError, DslEvalError, compile_expression, compile_script
from engine import compensation
from engine.failures import describe_seen

ServiceCaller = Callable[[Any, str, dict[str, Any]], Any]
#: Evaluates the latest version of a decision (by key) with the names an expression sees.
DecisionCaller = Callable[[str, Mapping[str, Any]], Any]


#: Plain JSON for whatever expressions and actions produce: action results go into task data
#: (which Spiff serializes), log details and outbox payloads into JSON columns (crm.json_codec).
to_json_safe = json_codec.plain


class ExpressionFailed(Exception):
    """A process expression or script that could not be evaluated, with the values it saw, so
    an incident reads "the expression `deal.down_payment * 2` failed: cannot multiply null by
    number; deal.down_payment is empty" rather than a bare evaluator message."""

    def __init__(self, text: str, error: DslError, seen: Mapping[str, Any]) -> None:
        self.text, self.error, self.seen = text, error, dict(seen)
        described = describe_seen(self.seen)
        super().__init__(f"the expression `{text}` failed: {error}" + (f"; {described}" if described else ""))


def _seen(text: str, env: Mapping[str, Any], now: datetime, *, script: bool = False) -> dict[str, Any]:
    """The values of the paths `text` reads (unreadable ones as "<why>")."""
    try:
        paths = (compile_script(text) if script else compile_expression(text)).paths
    except (DslError, AttributeError):
        return {}
    seen: dict[str, Any] = {}
    for path in sorted(paths):
        try:
            seen[path] = to_json_safe(compile_expression(path).evaluate(env, now))
        except DslError as err:
            seen[path] = f"<{err.message}>"
    return seen


class DslEnvironment:
    """What SpiffWorkflow reaches as `script_engine.environment`, evaluated with the dsl.

    Spiff calls the environment directly, past the script engine, for correlation retrieval
    expressions and ad-hoc subprocess conditions (see docs/processes.md, "Where process text
    is evaluated"). Spiff's own environment would `eval`/`exec` that text as Python, so this
    one is not derived from it: every method evaluates dsl text or raises.

    `names` are the read-only names every expression sees on top of its context (the deal,
    the process); they win over variables of the same name, as in gateway conditions.
    """

    def __init__(self, clock: Clock, names: Mapping[str, Any]) -> None:
        self.clock = clock
        self.names = dict(names)

    def variables(self, context: Mapping[str, Any] | None, external: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The names an expression sees: Spiff's external context (data objects), then the
        task's data, then our read-only names."""
        env = dict(external or {})
        env.update(context or {})
        env.update(self.names)
        return env

    def evaluate(self, expression: Any, context: Mapping[str, Any] | None,
                 external_context: Mapping[str, Any] | None = None) -> Any:
        return compile_expression(_text(expression)).evaluate(self.variables(context, external_context),
                                                              self.clock.now())

    def execute(self, script: Any, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        compile_script(_text(script)).run(self.variables({}, external_context), context, self.clock.now())
        return True

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise WorkflowException("service calls go through the script engine's action registry")


def _text(text: Any) -> str:
    """Spiff hands over None for a missing expression (an ad-hoc subprocess without a
    completionCondition); the dsl gets a string or a clear error, never Python's `eval(None)`."""
    if not isinstance(text, str):
        raise DslEvalError("the element has no expression here")
    return text


class RefusingEnvironment:
    """The environment of a workflow no instance is bound to yet (just built or restored):
    nothing in it may evaluate, so an evaluation before `Runtime._bind` is an error, not a
    silent fall-back to Spiff's Python environment."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise WorkflowException("process text evaluated before the instance was bound to its script engine")

    evaluate = execute = call_service = _refuse


class DslScriptEngine(PythonScriptEngine):  # type: ignore[misc]  # Spiff ships no types
    """Evaluates process text with the dsl; calls actions for service tasks."""

    def __init__(self, clock: Clock, names: Mapping[str, Any], call_action: ServiceCaller,
                 *, max_instances: int | None = None, decide: DecisionCaller | None = None) -> None:
        self.clock = clock
        self.environment: DslEnvironment = DslEnvironment(clock, names)
        self._call_action = call_action
        self._decide = decide
        self.max_instances = max_instances

    def decide(self, task: Any, key: str) -> Any:
        """A business rule task's decision (engine.dmn.task), evaluated by the dsl with the
        names the task's expressions see."""
        if self._decide is None:
            raise WorkflowTaskException("this workflow has no decisions to evaluate", task=task)
        return self._decide(key, self.environment_for(task))

    def now(self) -> datetime:
        return self.clock.now()

    def validate(self, expression: str) -> None:
        compile_expression(expression)

    def environment_for(self, task: Any) -> dict[str, Any]:
        """The names an expression of `task` (or of the workflow, for None) sees."""
        data = task.data if task is not None else {}
        return self.environment.variables(data)

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        if expression.startswith(compensation.MARKER):  # a gateway engine.compensation made
            return compensation.is_next(task, expression)
        try:
            value = self.environment.evaluate(expression, task.data, external_context)
        except DslError as err:
            failed = self._failed(task, expression, err, external_context)
            raise WorkflowTaskException(f"Expression {expression!r}: {err}", task=task, exception=failed) from failed
        self._check_cardinality(task, expression, value)
        return value

    def _check_cardinality(self, task: Any, expression: str, value: Any) -> None:
        """A parallel multi-instance task makes all its instances in one step, which no step
        budget can interrupt: a cardinality above `max_instances` is refused before Spiff
        builds them."""
        if self.max_instances is None or expression != getattr(task.task_spec, "cardinality", None):
            return
        if isinstance(value, int | float | Decimal) and value > self.max_instances:
            raise WorkflowTaskException(
                f"loopCardinality {expression!r} is {value}, more than the {self.max_instances} instances "
                "one step may create (the step budget)", task=task)

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        try:
            return self.environment.execute(script, task.data, external_context)
        except DslError as err:
            failed = self._failed(task, script, err, external_context, script=True)
            raise WorkflowTaskException(f"Script error: {err}", task=task, exception=failed) from failed

    def _failed(self, task: Any, text: str, err: DslError, external_context: Any,
                *, script: bool = False) -> ExpressionFailed:
        """The error with the values the text saw, for the incident (engine.failures reads it)."""
        env = self.environment.variables(task.data, external_context)
        failed = ExpressionFailed(text, err, _seen(text, env, self.clock.now(), script=script))
        failed.__cause__ = err
        return failed

    def call_service(self, task: Any, **kwargs: Any) -> str:
        operation = kwargs["operation_name"]
        params = {name: spec["value"] for name, spec in (kwargs.get("operation_params") or {}).items()}
        result = self._call_action(task, operation, params)
        return json.dumps(to_json_safe(result))


class UnboundScriptEngine(PythonScriptEngine):  # type: ignore[misc]  # Spiff ships no types
    """Given to every workflow when it is built or restored, so Spiff never creates its
    default Python engine for one; `Runtime._bind` replaces it before anything runs."""

    def __init__(self) -> None:
        self.environment: RefusingEnvironment = RefusingEnvironment()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise WorkflowException("process text evaluated before the instance was bound to its script engine")

    validate = evaluate = execute = call_service = _refuse


UNBOUND = UnboundScriptEngine()
