"""The syntax tree of an automation file: a pipeline's stage robots and triggers.

One text file per pipeline (or one `global` file for events that concern no deal yet, such
as a new store order). The parser builds these objects; the robots runtime and the
trigger matcher execute them; the formatter prints them back. Expressions inside are
compiled `dsl.Expression`s, so nothing here is ever run as Python.

    pipeline credit "Credit"

    stage documents:
      robot "remind to call the client" at deal.ready_date - 2h:
        create_task(to: deal.responsible, title: "Call {deal.contact.name}", due: deal.ready_date)
      robot after 3d if deal.bank_status == "pending":
        notify(deal.responsible.supervisor, "Credit for {deal.title} is stuck")
      then after 1d:
        set_field(bank_status: "escalated")

    trigger "bank answered" on bank.decision if event.approved:
      move_to main.order_assembly
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import time
from typing import Any, Literal

from dsl.expression import Expression


@dataclass(frozen=True)
class Pos:
    line: int
    column: int


@dataclass(frozen=True)
class Arg:
    """One argument of an action call; `name` is None for a positional argument."""

    name: str | None
    value: Expression
    pos: Pos


@dataclass(frozen=True)
class ActionCall:
    name: str
    args: tuple[Arg, ...]
    pos: Pos


DelayKind = Literal["immediately", "after", "at"]
WorkingHours = Literal["company", "responsible"]


@dataclass(frozen=True)
class Delay:
    """When a robot fires, counted from the moment its deal entered the stage (or the
    previous robot of its chain finished).

    immediately                      kind="immediately"
    after 2d 4h                      kind="after", amount=<2d 4h>
    at deal.ready_date - 2h          kind="at", moment=<expression giving a date/datetime>
    at 10:00 / after 1d at 10:00     time_of_day=10:00 (the next such time at or after the base)
    ... in working hours             working_hours="company" | "responsible"
    A moment already past fires at once.
    """

    kind: DelayKind = "immediately"
    amount: Expression | None = None
    moment: Expression | None = None
    time_of_day: time | None = None
    working_hours: WorkingHours | None = None


@dataclass(frozen=True)
class Robot:
    """One step of a chain. `key` is stable within the file ("documents.1" / "documents.1.2",
    or the slug of its name) and is what jobs and the automation log refer to."""

    key: str
    name: str | None
    delay: Delay
    condition: Expression | None
    actions: tuple[ActionCall, ...]
    pos: Pos


@dataclass(frozen=True)
class Chain:
    """`robot ...` followed by its `then ...` steps: each waits for the previous one."""

    steps: tuple[Robot, ...]


@dataclass(frozen=True)
class Trigger:
    """On an event about a deal, run actions, usually moving the deal to a stage.

    Inside a stage block the target is that stage (`move_to` is implied); at top level the
    actions say what to do. Triggers only move deals forward unless `allow_backward`.
    """

    key: str
    name: str | None
    event: str
    condition: Expression | None
    actions: tuple[ActionCall, ...]
    target_stage: str | None
    allow_backward: bool
    pos: Pos


@dataclass(frozen=True)
class StageBlock:
    code: str
    enabled: bool
    chains: tuple[Chain, ...]
    triggers: tuple[Trigger, ...]
    pos: Pos


@dataclass(frozen=True)
class AutomationFile:
    """`scope` is a pipeline code, or "global" for rules about events that have no deal yet."""

    scope: str
    title: str | None
    stages: tuple[StageBlock, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    is_global: bool = False
    comments: tuple[tuple[int, str], ...] = field(default=())
    pos: Pos | None = None  # of the `pipeline`/`global` line

    def stage(self, code: str) -> StageBlock | None:
        return next((s for s in self.stages if s.code == code), None)

    def robots(self) -> list[Robot]:
        return [robot for stage in self.stages for chain in stage.chains for robot in chain.steps]

    def all_triggers(self) -> list[Trigger]:
        return [*self.triggers, *(t for stage in self.stages for t in stage.triggers)]


def without_positions(value: Any) -> Any:
    """`value` (any part of the AST) as plain tuples without positions and comments, so two
    parses of the same automation compare equal however they were laid out. Expressions
    become their node trees, which compare by structure."""
    if isinstance(value, Expression):
        return value.node
    if is_dataclass(value) and not isinstance(value, type):
        kept = (f.name for f in fields(value) if f.name not in ("pos", "comments"))
        return (type(value).__name__, *((name, without_positions(getattr(value, name))) for name in kept))
    if isinstance(value, tuple):
        return tuple(without_positions(item) for item in value)
    return value


# ---------------------------------------------------------------------- save-time checking
# What the validator needs to know of the world, handed in by `robots` (dsl imports nothing
# of ours). Types are the dsl's names: text, number, money, bool, date, datetime, duration,
# user, stage, list, dict, any.


@dataclass(frozen=True)
class ParamInfo:
    type: str = "any"
    required: bool = False


@dataclass(frozen=True)
class ActionSignature:
    name: str
    params: dict[str, ParamInfo]
    positional: tuple[str, ...] = ()
    accepts_extra: bool = False  # set_field(bank_status: "x"): any field name is a parameter


@dataclass(frozen=True)
class Catalog:
    actions: dict[str, ActionSignature]
    stages: dict[str, tuple[str, ...]]  # pipeline code -> stage codes, in order
    deal_fields: dict[str, dict[str, str]]  # pipeline code -> field -> type (core and custom)
    events: dict[str, dict[str, str]]  # event type -> payload field -> type
