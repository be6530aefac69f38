"""Running the action lines of a robot or trigger: arguments are dsl expressions, evaluated
when the action runs, then handed to the same registry BPMN service tasks use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crm.events import Cause
from dsl import DslError, Expression, compile_expression
from dsl.automation import ActionCall
from engine.actions import ActionContext, ActionInputError
from engine.scripting import to_json_safe

if TYPE_CHECKING:
    from crm.models import Deal
    from engine.unit import UnitOfWork


def values_seen(condition: Expression, env: Mapping[str, Any], now: datetime | None) -> dict[str, Any]:
    """What an expression read (its paths), JSON-safe, so a log line shows why it came out as it did."""
    seen: dict[str, Any] = {}
    for path in sorted(condition.paths):
        try:
            seen[path] = to_json_safe(compile_expression(path).evaluate(env, now))
        except DslError as err:
            seen[path] = f"<{err.message}>"
    return seen


def values_seen_of_actions(robot: Any, env: Mapping[str, Any], now: datetime | None) -> dict[str, Any]:
    """What the argument expressions of a robot's or rule's action lines read, for a failure's log line."""
    seen: dict[str, Any] = {}
    for call in getattr(robot, "actions", ()):
        for arg in call.args:
            seen.update(values_seen(arg.value, env, now))
    return seen


def bind(actions: Any, call: ActionCall, env: Mapping[str, Any], now: datetime | None) -> dict[str, Any]:
    """Evaluate the arguments of `call` and name the positional ones by the action's signature."""
    positional = [arg.value.evaluate(env, now) for arg in call.args if arg.name is None]
    named = {arg.name: arg.value.evaluate(env, now) for arg in call.args if arg.name is not None}
    binder = getattr(actions, "bind_args", None)
    if binder is not None:
        bound: dict[str, Any] = binder(call.name, positional, named)
        return bound
    if positional:
        raise ActionInputError(f"{call.name}: name the arguments (this registry has no positional order)")
    return named


def run_actions(runtime: UnitOfWork, deal: Deal | None, actions: Iterable[ActionCall], env: Mapping[str, Any],
                cause: Cause) -> list[Any]:
    """Run the calls in order in the runtime's transaction; the first failure stops the rest."""
    registry = runtime.engine.actions
    now = runtime.clock.now()
    results = []
    for call in actions:
        params = bind(registry, call, env, now)
        ctx = ActionContext(runtime.crm, deal, cause, dict(env), unit=runtime)
        results.append({"action": call.name, "result": registry.call(call.name, ctx, params)})
    return results
