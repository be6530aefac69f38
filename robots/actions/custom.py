"""Loading custom actions: modules named in configuration or found through an entry point.

A custom action is an ordinary module that uses the `robots.actions.action` decorator with
a marshmallow schema; importing it registers the action. Nothing else changes: the dsl,
BPMN service tasks and the catalog all read the registry.

    DEALFLOW_ACTION_MODULES=acme.actions,acme.more_actions
    [project.entry-points."dealflow.actions"]  warehouse = "acme.warehouse"
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

from robots.actions.registry import ActionRegistry
from robots.actions.registry import registry as default_registry

MODULES_ENV = "DEALFLOW_ACTION_MODULES"
ENTRY_POINT_GROUP = "dealflow.actions"


class ActionLoadError(ImportError):
    """A configured action module could not be imported or registered; the message names it."""


def load_custom_actions(registry: ActionRegistry, modules: Iterable[str]) -> list[str]:
    """Import each module and make sure its actions are in `registry`; returns the names added.

    A module registers on the default registry through the decorator; for another registry
    (a sandbox, a test) its actions are copied over. A module may instead define
    `register_actions(registry)`, which is called with `registry`.
    """
    added: list[str] = []
    for name in (m.strip() for m in modules):
        if not name:
            continue
        before = set(registry.names())
        try:
            module = importlib.import_module(name)
        except Exception as err:
            raise ActionLoadError(f"cannot import action module {name!r}: {type(err).__name__}: {err}",
                                  name=name) from err
        _register_from(registry, module, name)
        added += [action for action in registry.names() if action not in before]
    return added


def load_entry_point_actions(registry: ActionRegistry) -> list[str]:
    """Actions of installed packages that declare a `dealflow.actions` entry point."""
    added: list[str] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        before = set(registry.names())
        try:
            target = point.load()
        except Exception as err:
            raise ActionLoadError(f"cannot load action entry point {point.name!r} ({point.value}): "
                                  f"{type(err).__name__}: {err}", name=point.value) from err
        if callable(target) and not isinstance(target, type):
            target(registry)
        else:
            _register_from(registry, target, getattr(target, "__name__", point.value))
        added += [action for action in registry.names() if action not in before]
    return added


def load_configured_actions(registry: ActionRegistry, modules: Iterable[str] = ()) -> list[str]:
    """Everything configuration asks for: the modules named in DEALFLOW_ACTION_MODULES
    (api.settings.Settings.action_modules), then entry points."""
    return load_custom_actions(registry, modules) + load_entry_point_actions(registry)


def _register_from(registry: ActionRegistry, module: Any, name: str) -> None:
    hook = getattr(module, "register_actions", None)
    if callable(hook):
        hook(registry)
        return
    if registry is default_registry:
        return
    for spec in default_registry.specs():
        owner = spec.func.__module__
        if (owner == name or owner.startswith(name + ".")) and not registry.knows(spec.name):
            registry.register(spec.name, spec.func, spec.schema, description=spec.description,
                              category=spec.category, positional=spec.positional)
