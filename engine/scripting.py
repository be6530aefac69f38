"""SpiffWorkflow's script engine, replaced by one backed by the dsl evaluator.

Spiff's default engine runs `eval`/`exec` on text from the diagram. Here every gateway
condition, script task, timer expression and service-task parameter is dsl text, evaluated
against the task's variables plus a read-only view of the instance's deal. No Python from
a process ever runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from crm.clock import Clock
from dsl import DslError, Record, compile_expression, compile_script
from engine.failures import describe_seen

ServiceCaller = Callable[[Any, str, dict[str, Any]], Any]
EnvFactory = Callable[[Any], dict[str, Any]]


def to_json_safe(value: Any) -> Any:
    """Plain JSON for whatever expressions and actions produce: action results go into task
    data (which Spiff serializes), log details and outbox payloads into JSON columns."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json_safe(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Record):
        return _record_summary(value)
    return str(value)


def _record_summary(record: Record) -> dict[str, Any]:
    """A deal, user or contact seen by an expression, as a log line can show it."""
    summary: dict[str, Any] = {"type": record.dsl_type}
    for name in ("id", "login", "name", "title"):
        try:
            summary[name] = to_json_safe(record.dsl_get(name))
        except KeyError:
            continue
    return summary


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


class DslScriptEngine(PythonScriptEngine):
    """Evaluates process text with the dsl; calls actions for service tasks."""

    def __init__(self, clock: Clock, env: EnvFactory, call_action: ServiceCaller) -> None:
        super().__init__(environment=None)
        self.clock = clock
        self._env = env
        self._call_action = call_action

    def now(self) -> datetime:
        return self.clock.now()

    def validate(self, expression: str) -> None:
        compile_expression(expression)

    def environment_for(self, task: Any) -> dict[str, Any]:
        return self._env(task)

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        env, now = self._env(task), self.clock.now()
        try:
            return compile_expression(expression).evaluate(env, now)
        except DslError as err:
            failed = ExpressionFailed(expression, err, _seen(expression, env, now))
            failed.__cause__ = err
            raise WorkflowTaskException(f"Expression {expression!r}: {err}", task=task, exception=failed) from failed

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        env, now = self._env(task), self.clock.now()
        try:
            compile_script(script).run(env, task.data, now)
        except DslError as err:
            failed = ExpressionFailed(script, err, _seen(script, env, now, script=True))
            failed.__cause__ = err
            raise WorkflowTaskException(f"Script error: {err}", task=task, exception=failed) from failed
        return True

    def call_service(self, task: Any, **kwargs: Any) -> str:
        operation = kwargs["operation_name"]
        params = {name: spec["value"] for name, spec in (kwargs.get("operation_params") or {}).items()}
        result = self._call_action(task, operation, params)
        return json.dumps(to_json_safe(result))
