"""The action vocabulary shared by robots and BPMN service tasks.

An action is a Python function taking an `ActionContext` and keyword parameters, declared
with a marshmallow schema. The schema is both the validation at call time and the
catalog entry the API, the designer and the dsl's save-time checks see; nothing else needs
to know about an action. `positional` gives the order in which the dsl may pass arguments
without names (`notify(deal.responsible.supervisor, "Credit is stuck")`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError

from crm.errors import InvalidInput, NotFound
from dsl.automation import ActionSignature, ParamInfo
from engine.actions import ActionContext, ActionInputError
from robots.actions.fields import type_of

ActionFunc = Callable[..., Any]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    func: ActionFunc
    schema: Schema
    description: str
    category: str
    positional: tuple[str, ...] = ()

    @property
    def params(self) -> dict[str, Any]:
        """Parameter name (as callers write it: the field's data_key if it has one) -> field."""
        return {fld.data_key or name: fld for name, fld in self.schema.fields.items() if not fld.dump_only}

    @property
    def accepts_extra(self) -> bool:
        """Whether any name is a parameter (set_field(bank_status: "x"))."""
        return self.schema.unknown == INCLUDE

    def signature(self) -> ActionSignature:
        params = {name: ParamInfo(type_of(fld), bool(fld.required)) for name, fld in self.params.items()}
        return ActionSignature(self.name, params, self.positional, self.accepts_extra)

    def describe(self) -> dict[str, Any]:
        params = {}
        for name, fld in self.params.items():
            params[name] = {
                "type": type_of(fld),
                "required": bool(fld.required),
                "description": fld.metadata.get("description", ""),
            }
        return {"name": self.name, "description": self.description, "category": self.category,
                "parameters": params, "positional": list(self.positional),
                "accepts_extra": self.accepts_extra}


class ActionRegistry:
    """Name -> action; implements the engine's ActionRunner protocol."""

    def __init__(self) -> None:
        self._actions: dict[str, ActionSpec] = {}

    def action(self, name: str, schema: type[Schema] | Schema, *, description: str = "",
               category: str = "custom", positional: Sequence[str] = ()) -> Callable[[ActionFunc], ActionFunc]:
        """Decorator registering the function as action `name`. `schema` validates every call
        and is the catalog entry (its field types become dsl types); `positional` is the order
        in which the dsl may pass arguments without names; `category` groups it in the
        designer's palette, where `description` (else the function's docstring) is shown."""

        def register(func: ActionFunc) -> ActionFunc:
            self.register(name, func, schema, description=description or (func.__doc__ or "").strip(),
                          category=category, positional=positional)
            return func

        return register

    def register(self, name: str, func: ActionFunc, schema: type[Schema] | Schema, *,
                 description: str = "", category: str = "custom", positional: Sequence[str] = ()) -> None:
        if not name.isidentifier():
            raise ValueError(f"action names are identifiers, not {name!r}")
        existing = self._actions.get(name)
        if existing is not None and existing.func is not func and not _same_function(existing.func, func):
            raise ValueError(f"action {name!r} is already registered (by {existing.func.__module__})")
        instance = schema() if isinstance(schema, type) else schema
        order = tuple(positional)
        names = {fld.data_key or key for key, fld in instance.fields.items()}
        unknown = [p for p in order if p not in names]
        if unknown:
            raise ValueError(f"action {name!r}: positional {unknown} are not parameters of its schema")
        if len(set(order)) != len(order):
            raise ValueError(f"action {name!r}: a parameter appears twice in positional")
        self._actions[name] = ActionSpec(name, func, instance, description, category, order)

    def configure(self, name: str, **values: Any) -> None:
        """Hand action `name` configuration in this registry only: it is called with `values` as
        keyword arguments besides its parameters (the webhook's allow-list). Configuration comes
        from the settings an engine is built from, so two engines may differ and no global does."""
        spec = self.get(name)
        self._actions[name] = replace(spec, func=partial(spec.func, **values))

    def copy(self) -> ActionRegistry:
        """A registry with the same actions, to extend without touching this one (tests, sandboxes)."""
        other = ActionRegistry()
        other._actions = dict(self._actions)
        return other

    def knows(self, name: str) -> bool:
        return name in self._actions

    def names(self) -> list[str]:
        return sorted(self._actions)

    def specs(self) -> list[ActionSpec]:
        return [self._actions[name] for name in self.names()]

    def get(self, name: str) -> ActionSpec:
        try:
            return self._actions[name]
        except KeyError:
            raise ActionInputError(f"unknown action {name!r}") from None

    def signature(self, name: str) -> ActionSignature:
        return self.get(name).signature()

    def catalog_signatures(self) -> dict[str, ActionSignature]:
        """What the dsl's save-time checks need to know of every action."""
        return {spec.name: spec.signature() for spec in self.specs()}

    def bind_args(self, name: str, positional: Sequence[Any], named: Mapping[str, Any]) -> dict[str, Any]:
        """Name the positional arguments of a dsl call by the action's order and merge the named ones.

        Refuses too many positional arguments, a parameter given twice, and names the action
        does not have, so the author is told before the action runs with half its input.
        """
        spec = self.get(name)
        if len(positional) > len(spec.positional):
            order = ", ".join(spec.positional) or "none"
            raise ActionInputError(
                f"{name} takes at most {len(spec.positional)} positional argument(s) ({order}), "
                f"{len(positional)} given")
        bound = dict(zip(spec.positional, positional, strict=False))
        problems: dict[str, str] = {}
        for key, value in named.items():
            if key in bound:
                problems[key] = "given both by position and by name"
            elif key not in spec.params and not spec.accepts_extra:
                problems[key] = "not a parameter of this action"
            bound[key] = value
        if problems:
            detail = "; ".join(f"{key}: {reason}" for key, reason in problems.items())
            raise ActionInputError(f"{name}: {detail}", problems)
        return bound

    def validate(self, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        spec = self.get(name)
        try:
            loaded: dict[str, Any] = spec.schema.load(dict(params))  # marshmallow types load() as Any
            return loaded
        except ValidationError as err:
            raise ActionInputError(f"{name}: invalid parameters {err.messages}", _flat(err.messages)) from err

    def call(self, name: str, ctx: ActionContext, params: Mapping[str, Any]) -> Any:
        """Validate and run. Params are by name: positional dsl arguments are named by `bind_args` first.

        A CRM refusal of the input (an unknown user or stage, an invalid value) is reported as
        ActionInputError: retrying the same input cannot help.
        """
        values = self.validate(name, params)
        try:
            return self.get(name).func(ctx, **values)
        except InvalidInput as err:
            raise ActionInputError(f"{name}: {err.message}", err.fields) from err
        except NotFound as err:
            raise ActionInputError(f"{name}: {err.message}") from err

    def catalog(self) -> list[dict[str, Any]]:
        return [spec.describe() for spec in self.specs()]


def _same_function(a: ActionFunc, b: ActionFunc) -> bool:
    # A module imported twice (as a script and as a package module, or reloaded) registers anew.
    return (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


def _flat(messages: Any) -> dict[str, Any]:
    return messages if isinstance(messages, dict) else {"_schema": messages}


registry = ActionRegistry()
action = registry.action
