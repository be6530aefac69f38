"""The action library: the registry, the built-in actions (registered on import) and the loader
for custom ones."""

from robots.actions import (  # noqa: F401  (each module registers its built-ins)
    assignment,
    crm_actions,
    deal_actions,
    duplicates,
    message_actions,
    order_actions,
    process_actions,
)
from robots.actions.custom import ActionLoadError, load_configured_actions, load_custom_actions
from robots.actions.registry import ActionRegistry, ActionSpec, action, registry

__all__ = [
    "ActionLoadError",
    "ActionRegistry",
    "ActionSpec",
    "action",
    "load_configured_actions",
    "load_custom_actions",
    "registry",
]
