"""The unit of work: what one transaction offers the code that reacts inside it.

`Engine.unit()` opens one (a `engine.runtime.Runtime`); everything that reacts to a CRM
event, fires a robot, applies a trigger rule or runs an action is handed it explicitly, so
no module fishes it out of the session. What belongs to the transaction — queued signals,
deferred work, the step budget, the chain guard — lives on the unit object, in one place,
and goes away with it.

`UnitOfWork` is the interface robots, triggers and actions are written against: the CRM
service and session of the transaction, its clock, the engine's configuration, the chain
guard, deferred work and the process operations they may set off.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from crm.events import Cause

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from crm.clock import Clock
    from crm.service import Crm
    from engine.engine import Engine
    from engine.models import ProcessInstance

#: Automated steps in a row (robot → move → the next stage's robot → a rule → ...) before the
#: chain guard stops the next one; a person's or an outside system's change starts a new chain.
MAX_CHAIN = 10
#: Causes that are themselves automation: a step they set off continues their chain.
AUTOMATED = ("robot", "trigger", "process")


class ChainGuard:
    """The one bound on automation feeding itself, owned by the unit of work.

    A rule sets a field, the field change sets off a rule that moves the deal, the stage's
    robot sets the field again... Every automated step extends `Cause.chain` (a robot's job
    carries the chain it was scheduled in), and trigger rules also count their steps per deal
    in this transaction, for steps that lose the chain on the way. A step whose chain (or
    count) has reached `limit` is not run; the caller records the stop like an incident.
    """

    def __init__(self, limit: int = MAX_CHAIN) -> None:
        self.limit = limit
        self._counted: Counter[int | None] = Counter()

    def stops(self, steps: int) -> bool:
        """Whether a step with `steps` automated steps before it must not run."""
        return steps >= self.limit

    def steps_on(self, deal_id: int | None, chain: tuple[str, ...]) -> int:
        """Automated steps before this one on the deal (None: the global rules): the longer of
        the cause's chain and what this transaction counted."""
        return max(len(chain), self._counted[deal_id])

    def count(self, deal_id: int | None, cause: Cause) -> None:
        """Count a step on the deal; only steps set off by automation count, a person or an
        outside system starts afresh."""
        if not cause.chain and cause.kind not in AUTOMATED:
            return
        self._counted[deal_id] += 1


class UnitOfWork(Protocol):
    """One transaction of the engine, as robots, triggers and actions use it (see the module)."""

    engine: Engine
    crm: Crm
    session: Session
    clock: Clock
    chain: ChainGuard

    def defer(self, work: Callable[[], None]) -> None:
        """Run `work` in this transaction once the current change is complete."""

    def drain(self) -> None:
        """Apply queued signals and deferred work until none are left."""

    def start(self, key: str, deal_id: int | None, params: Mapping[str, Any] | None = None, *, cause: Cause,
              version: int | None = None, is_sandbox: bool = False, on_event: str | None = None) -> ProcessInstance:
        """Start a process instance, or refuse with every missing field and bad parameter; a
        process that starts only on a message or signal only with the `on_event` it is handed."""

    def send_signal(self, deal_id: int | None, name: str, payload: Mapping[str, Any] | None = None, *,
                    cause: Cause) -> tuple[list[int], list[int]]:
        """Broadcast a BPMN signal for the deal: (instances it started, waiting instances reached)."""

    def send_message(self, deal_id: int | None, message: str, payload: Mapping[str, Any] | None = None, *,
                     cause: Cause, correlation: str | None = None) -> list[int]:
        """Deliver a message to the deal's instances waiting for it (None: the instances that
        have no deal, as a global event reaches them); with a correlation key value, only the
        instances correlated by it (of any deal when deal_id is None). Returns their ids."""

    def complete_user_task(self, instance_id: int, spiff_task_id: str, result: Mapping[str, Any] | None,
                           cause: Cause) -> None:
        """Complete a process's user task with `result` and let the instance go on."""

    def replan_date_timers(self, deal_id: int, changed: Iterable[str], cause: Cause) -> None:
        """Date timers that read a changed deal field follow its new value."""
