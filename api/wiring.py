"""Putting the layers together: the one place that knows every package.

The engine is handed the action registry here, so `engine` never imports `robots`.
"""

from __future__ import annotations

from pathlib import Path

from api.migrations import upgrade
from crm.clock import Clock, WallClock
from crm.db import Database
from crm.demo import load_demo
from crm.events import Cause
from crm.models import Pipeline
from engine.engine import Engine
from robots import runtime as robots_runtime
from robots.actions import registry


def build_engine(db: Database, clock: Clock | None = None) -> Engine:
    """The engine with every automation layer wired in: robots, triggers, the action library."""
    engine = Engine(db, clock or WallClock(), registry)
    robots_runtime.install(engine)
    return engine


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
