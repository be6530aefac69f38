"""What the engine needs from the action library, without importing it.

The registry lives in `robots.actions`; the engine is handed one at start-up, so it only
knows this protocol. A service task and a robot call the same action the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from crm.events import Cause

if TYPE_CHECKING:
    from crm.models import Deal
    from crm.service import Crm
    from engine.unit import UnitOfWork


class ActionInputError(Exception):
    """The parameters are wrong: retrying cannot help, so the step goes straight to an incident."""

    def __init__(self, message: str, fields: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


@dataclass
class ActionContext:
    crm: Crm
    deal: Deal | None
    cause: Cause
    variables: Mapping[str, Any] = field(default_factory=dict)
    instance_id: int | None = None
    #: The transaction's unit of work, for actions that set off process work (start_process).
    unit: UnitOfWork | None = None


class ActionRunner(Protocol):
    def knows(self, name: str) -> bool:
        """Whether an action of this name is registered (checked when a process is deployed)."""

    def call(self, name: str, ctx: ActionContext, params: Mapping[str, Any]) -> Any:
        """Validate `params` against the action's schema and run it; raise ActionInputError on bad input."""
