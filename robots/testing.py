"""A test helper for action authors: run an action the way a robot does, on a scratch database.

`ActionSandbox` makes a SQLite database of its own in a directory (dealflow's real tables,
the demo's pipelines, fields and users, one sandbox deal), loads the author's modules into
a registry of its own, and `run` calls an action through that registry as a robot would:
arguments bound and validated by the action's schema, one real unit of work that commits.
It returns what the action did, read back from the database after the commit
(`ActionRun`: fields changed, stage, tasks, timeline, notifications, outgoing messages).

Only the action runs: no robot, trigger or process reacts to what it wrote, so a test sees
the action's own effect. Bad input and wrong use of the author API raise as they would in a
robot (`ActionInputError`, `ActionApiError`), after the unit of work rolled back.

In a pytest suite, `pytest_plugins = ["robots.testing"]` in a conftest.py gives the
`action_sandbox` fixture (a sandbox in the test's tmp_path; load modules with
`action_sandbox.load("acme.warehouse")`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crm.clock import VirtualClock
from crm.db import Base, Database
from crm.demo import load_demo
from crm.events import Cause
from crm.models import Notification, Task, TimelineEntry
from engine.action_api import ActionCrm
from engine.actions import ActionContext
from engine.engine import Engine
from robots.actions import load_custom_actions
from robots.actions import registry as default_registry
from robots.actions.tables import OutboxMessage

#: Who acts in a sandbox run: shown on the timeline like a robot of a stage.
SANDBOX_CAUSE = Cause("robot", "action-sandbox", "Robot: action sandbox")


@dataclass(frozen=True)
class ActionRun:
    """What one action run did, as committed."""

    #: what the action returned
    result: Any
    #: every field it changed, code -> (old, new) in JSON form ("responsible" as user id)
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: the deal's stage afterwards, as "pipeline.stage"
    stage: str | None = None
    #: tasks it created: title, assignee (login), group, column, deadline
    tasks: list[dict[str, Any]] = field(default_factory=list)
    #: timeline entries it added, (kind, text), oldest first
    timeline: list[tuple[str, str]] = field(default_factory=list)
    #: notifications it sent, (login, text)
    notifications: list[tuple[str, str]] = field(default_factory=list)
    #: messages it queued for delivery after the commit: kind and payload
    outbox: list[dict[str, Any]] = field(default_factory=list)


class ActionSandbox:
    """A scratch dealflow world for running actions in tests; see the module docstring."""

    def __init__(self, directory: Path, modules: Iterable[str] = (), *, clock: VirtualClock | None = None) -> None:
        """A new world in `directory` with the built-in actions and those of `modules`; its
        sandbox deal (main.new, responsible manager.north1) is `deal_id`. The clock is a
        `crm.clock.VirtualClock` (`sandbox.clock.advance(timedelta(days=1))`)."""
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.db = Database(f"sqlite:///{Path(directory) / 'action-sandbox.sqlite3'}")
        # The models and the migrations agree (tests/api/test_migrations.py), so the tables
        # can be made from the models without reaching up into the web layer's migrations.
        import engine.models  # noqa: F401  (registers the engine's tables)
        import robots.models  # noqa: F401  (registers the robots' tables)

        Base.metadata.create_all(self.db.engine)
        self.clock = clock or VirtualClock()
        self.registry = default_registry.copy()
        self.engine = Engine(self.db, self.clock, self.registry)
        with self.engine.unit() as rt:
            load_demo(rt.crm)
        self.load(*modules)
        self.deal_id = self.new_deal()

    def load(self, *modules: str) -> list[str]:
        """Import the author's action modules into this sandbox's registry; the names added."""
        return load_custom_actions(self.registry, modules)

    def new_deal(self, *, title: str = "Sandbox deal", stage: str = "main.new",
                 responsible: str | None = "manager.north1", fields: Mapping[str, Any] | None = None,
                 **attributes: Any) -> int:
        """A sandbox deal of the demo world (the first one is `deal_id`); returns its id.
        `attributes` are those of `ActionCrm.create_deal` (amount, products, contact, ...)."""
        with self.engine.unit() as rt:
            deal = rt.crm.create_deal(title=title, pipeline=stage.split(".")[0], stage=stage, responsible=responsible,
                                      fields=dict(fields or {}), is_sandbox=True, cause=SANDBOX_CAUSE, **attributes)
            return deal.id

    def run(self, action: str, *args: Any, deal: int | None = None, variables: Mapping[str, Any] | None = None,
            **kwargs: Any) -> ActionRun:
        """Call `action` on the deal (`deal_id` unless given) with DSL-style arguments:
        positional ones in the action's `positional` order, the rest by name."""
        deal_id = self.deal_id if deal is None else deal
        params = self.registry.bind_args(action, list(args), kwargs)
        marks = self._marks()
        with self.engine.unit() as rt:
            ctx = ActionContext(rt.crm, rt.crm.deal(deal_id), SANDBOX_CAUSE, dict(variables or {}))
            result = self.registry.call(action, ctx, params)
        return self._what_happened(result, deal_id, marks)

    @contextmanager
    def reading(self) -> Iterator[ActionCrm]:
        """Look at the world after a run: `with sandbox.reading() as crm:` gives the `ctx.crm`
        of a unit of work of its own (`crm.deal(sandbox.deal_id).fields`)."""
        with self.engine.unit() as rt:
            yield ActionContext(rt.crm, None, SANDBOX_CAUSE).crm

    def close(self) -> None:
        self.db.dispose()

    def _marks(self) -> dict[type, int]:
        with self.db.sessions() as session:
            return {table: session.scalar(select(func.coalesce(func.max(table.id), 0))) or 0
                    for table in (TimelineEntry, Task, Notification, OutboxMessage)}

    def _what_happened(self, result: Any, deal_id: int, marks: Mapping[type, int]) -> ActionRun:
        with self.engine.unit() as rt:
            def new(table: Any) -> list[Any]:
                return list(rt.session.scalars(select(table).where(table.id > marks[table]).order_by(table.id)))

            entries = new(TimelineEntry)
            changed: dict[str, tuple[Any, Any]] = {}
            for entry in entries:
                if entry.kind == "field_changed" and entry.deal_id == deal_id:
                    code, old = entry.data["field"], entry.data["old"]
                    changed[code] = (changed.get(code, (old, None))[0], entry.data["new"])
            return ActionRun(
                result=result,
                fields=changed,
                stage=rt.crm.deal(deal_id).stage.ref,
                tasks=[{"title": t.title, "assignee": t.assignee.login if t.assignee else None, "group": t.group,
                        "column": t.column, "deadline": t.deadline} for t in new(Task)],
                timeline=[(entry.kind, entry.text) for entry in entries],
                notifications=[(n.user.login, n.text) for n in new(Notification)],
                outbox=[{"kind": m.kind, "payload": m.payload} for m in new(OutboxMessage)],
            )


@pytest.fixture
def action_sandbox(tmp_path: Path) -> Iterator[ActionSandbox]:
    """A fresh `ActionSandbox` in the test's temporary directory."""
    sandbox = ActionSandbox(tmp_path)
    yield sandbox
    sandbox.close()
