"""The action library: the registry and the built-in actions, registered on import."""

from robots.actions import crm_actions  # noqa: F401  (registers the built-ins)
from robots.actions.registry import ActionRegistry, ActionSpec, action, registry

__all__ = ["ActionRegistry", "ActionSpec", "action", "registry"]
