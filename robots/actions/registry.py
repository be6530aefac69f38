"""The action vocabulary shared by robots and BPMN service tasks.

An action is a Python function taking an `ActionContext` and keyword parameters, declared
with a marshmallow schema. The schema is both the validation at call time and the
catalog entry the API and the designer show; nothing else needs to know about an action.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError

from engine.actions import ActionContext, ActionInputError

ActionFunc = Callable[..., Any]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    func: ActionFunc
    schema: Schema
    description: str
    category: str

    def describe(self) -> dict[str, Any]:
        params = {}
        for name, fld in self.schema.fields.items():
            params[name] = {
                "type": getattr(fld, "dealflow_type", type(fld).__name__.lower()),
                "required": fld.required,
                "description": fld.metadata.get("description", ""),
            }
        return {"name": self.name, "description": self.description, "category": self.category,
                "parameters": params}


class ActionRegistry:
    """Name -> action; implements the engine's ActionRunner protocol."""

    def __init__(self) -> None:
        self._actions: dict[str, ActionSpec] = {}

    def action(self, name: str, schema: type[Schema] | Schema, *, description: str = "",
               category: str = "custom") -> Callable[[ActionFunc], ActionFunc]:
        """Decorator registering `func` as action `name` with parameters `schema`."""

        def register(func: ActionFunc) -> ActionFunc:
            self.register(name, func, schema, description=description or (func.__doc__ or "").strip(),
                          category=category)
            return func

        return register

    def register(self, name: str, func: ActionFunc, schema: type[Schema] | Schema, *,
                 description: str = "", category: str = "custom") -> None:
        if not name.isidentifier():
            raise ValueError(f"action names are identifiers, not {name!r}")
        if name in self._actions and self._actions[name].func is not func:
            raise ValueError(f"action {name!r} is already registered")
        instance = schema() if isinstance(schema, type) else schema
        self._actions[name] = ActionSpec(name, func, instance, description, category)

    def copy(self) -> ActionRegistry:
        """A registry with the same actions, to extend without touching this one (tests, sandboxes)."""
        other = ActionRegistry()
        other._actions = dict(self._actions)
        return other

    def knows(self, name: str) -> bool:
        return name in self._actions

    def get(self, name: str) -> ActionSpec:
        try:
            return self._actions[name]
        except KeyError:
            raise ActionInputError(f"unknown action {name!r}") from None

    def validate(self, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        spec = self.get(name)
        try:
            return spec.schema.load(dict(params))
        except ValidationError as err:
            raise ActionInputError(f"{name}: invalid parameters {err.messages}", err.messages) from err

    def call(self, name: str, ctx: ActionContext, params: Mapping[str, Any]) -> Any:
        return self.get(name).func(ctx, **self.validate(name, params))

    def catalog(self) -> list[dict[str, Any]]:
        return [spec.describe() for spec in sorted(self._actions.values(), key=lambda s: s.name)]


registry = ActionRegistry()
action = registry.action
