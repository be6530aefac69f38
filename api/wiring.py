"""Putting the layers together: the one place that knows every package.

The engine is handed the action registry here, so `engine` never imports `robots`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from api.migrations import upgrade
from crm.clock import Clock, WallClock
from crm.db import Database
from crm.demo import load_demo
from crm.events import Cause
from crm.models import Pipeline
from engine.engine import Engine
from robots import runtime as robots_runtime
from robots.actions import registry
from robots.actions.custom import load_configured_actions
from robots.actions.transports import default_transports
from robots.outbox import deliver_due
from triggers import listeners as triggers_listeners


def build_engine(db: Database, clock: Clock | None = None) -> Engine:
    """The engine with every automation layer wired in: robots, triggers, the action library
    (with the custom actions named in the configuration)."""
    load_configured_actions(registry)
    engine = Engine(db, clock or WallClock(), registry)
    robots_runtime.install(engine)
    triggers_listeners.install(engine.listeners, engine)
    return engine


def outbox_delivery(engine: Engine, transports: Mapping[str, Any] | None = None) -> Callable[[], int]:
    """The job loop's second duty: send due emails, SMS and webhooks."""
    chosen = transports if transports is not None else default_transports()
    return lambda: deliver_due(engine.db, engine.clock, chosen)


def prepare_database(engine: Engine, *, demo: bool, templates_dir: Path | None) -> None:
    """Migrate, and on an empty database load the demo world and deploy the shipped processes."""
    upgrade(engine.db)
    if not demo:
        return
    with engine.unit() as rt:
        first_start = rt.session.query(Pipeline).first() is None
        if first_start:
            load_demo(rt.crm)
    if first_start and templates_dir is not None:
        deploy_templates(engine, templates_dir)


def deploy_templates(engine: Engine, templates_dir: Path) -> list[str]:
    deployed = []
    for path in sorted(templates_dir.glob("*.bpmn")):
        version = engine.deploy(path.read_text(encoding="utf-8"))
        deployed.append(f"{version.key} v{version.version}")
    return deployed


SYSTEM = Cause.system("dealflow")
