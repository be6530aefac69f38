"""An engine on the demo world with triggers wired in, and automation files built by hand.

The automation-file parser is written elsewhere; these tests state what the trigger rules do
with the syntax tree (`dsl.automation`), which is what the parser hands over, so they need
no text and no parser.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from api.subscriptions import app_subscriptions
from crm.events import Cause
from dsl import compile_expression
from dsl.automation import ActionCall, Arg, AutomationFile, Pos, StageBlock, Trigger
from engine.engine import Engine
from tests.support.world import demo_engine

AT = Pos(1, 1)
STORE = Cause("system", None, "store webhook")


def when(key: str, event: str, condition: str | None = None, *, stage: str | None = None,
         actions: Iterable[ActionCall] = (), allow_backward: bool = False) -> Trigger:
    """A rule; with `stage` it sits in that stage's block (and moves the deal there)."""
    return Trigger(key=key, name=None, event=event,
                   condition=compile_expression(condition) if condition else None,
                   actions=tuple(actions), target_stage=stage, allow_backward=allow_backward, pos=AT)


def act(name: str, **args: str) -> ActionCall:
    """An action line; argument values are dsl text."""
    return ActionCall(name, tuple(Arg(k, compile_expression(v), AT) for k, v in args.items()), AT)


def automation(scope: str, *rules: Trigger) -> AutomationFile:
    """Stage blocks in the order their rules are given, top-level rules in file order."""
    blocks: dict[str, list[Trigger]] = {}
    for rule in rules:
        if rule.target_stage is not None:
            blocks.setdefault(rule.target_stage, []).append(rule)
    stages = tuple(StageBlock(code, True, (), tuple(rs), AT) for code, rs in blocks.items())
    top = tuple(r for r in rules if r.target_stage is None)
    return AutomationFile(scope=scope, title=None, stages=stages, triggers=top, is_global=scope == "global")


class Files(dict):
    """scope -> AutomationFile, used as the automation lookup."""

    def __call__(self, session: Any, scope: str) -> AutomationFile | None:
        return self.get(scope)

    def add(self, file: AutomationFile) -> None:
        self[file.scope] = file


@pytest.fixture
def files() -> Files:
    return Files()


@pytest.fixture
def engine(database, clock, files) -> Engine:
    return demo_engine(database, clock, subscriptions=app_subscriptions(automation=files))


def send(engine: Engine, files: Files, event_type: str, payload: dict[str, Any], *, key: str | None = None,
         source: str = "store") -> Any:
    """Accept one event in its own transaction, as the webhook endpoint does."""
    from triggers.intake import accept_event

    with engine.unit() as rt:
        return accept_event(rt, event_type, payload, idempotency_key=key, source=source, cause=STORE,
                            automation=files)


def stage_of(engine: Engine, deal_id: int) -> str:
    with engine.unit() as rt:
        return rt.crm.deal(deal_id).stage.ref
