"""What the engine needs from the action library, without importing it.

The registry lives in `robots.actions`; the engine is handed one at start-up, so it only
knows this protocol. A service task and a robot call the same action the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from crm.events import Cause
from engine.action_api import ActionCrm

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
    """What an action is called with. The author API is:

    - `crm`: the CRM as an action may use it, an `ActionCrm` (its methods are listed below),
      inside the caller's transaction;
    - `deal`: the deal the robot, trigger or process acts on (a `crm.models.Deal`), or None
      for work without a deal (a trigger's event that creates one);
    - `cause`: who or what is acting, a `crm.events.Cause`; pass it to every write, it is
      what the timeline shows;
    - `variables`: the calling process's data or the trigger's event, read-only;
    - `instance_id`: the BPMN process instance calling the action, None for robots and triggers.

    Callers build it from their unit of work's whole CRM service (`service`); an action sees
    that service only through `crm`. `service` is there for dealflow's own built-in actions
    (sessions, locks, process links) and may change with them without notice.
    """

    service: Crm
    deal: Deal | None
    cause: Cause
    variables: Mapping[str, Any] = field(default_factory=dict)
    instance_id: int | None = None
    #: The transaction's unit of work, for actions that set off process work (start_process).
    unit: UnitOfWork | None = None
    crm: ActionCrm = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.crm = ActionCrm(self.service)


class ActionRunner(Protocol):
    def knows(self, name: str) -> bool:
        """Whether an action of this name is registered (checked when a process is deployed)."""

    def call(self, name: str, ctx: ActionContext, params: Mapping[str, Any]) -> Any:
        """Validate `params` against the action's schema and run it; raise ActionInputError on bad input."""
