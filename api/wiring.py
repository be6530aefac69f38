"""Putting the layers together: the one place that knows every package.

The engine is handed the action registry here, so `engine` never imports `robots`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from api.demo_workspace import load_workspace
from api.migrations import upgrade
from api.settings import Settings
from api.subscriptions import app_subscriptions
from crm.clock import Clock, WallClock
from crm.db import Database
from crm.demo import load_demo
from crm.events import Cause
from crm.models import Pipeline
from crm.service import Crm
from dsl.automation import Catalog
from engine.engine import Engine
from robots.actions import registry
from robots.actions.custom import load_configured_actions
from robots.actions.transports import default_transports
from robots.catalog import build_catalog
from robots.outbox import deliver_due
from robots.sources import save_automation
from triggers.schemas import EVENT_FIELDS


def build_engine(db: Database, clock: Clock | None = None, *, settings: Settings | None = None,
                 **options: Any) -> Engine:
    """The engine with every automation layer wired in: robots, triggers, the action library
    (with the custom actions `settings` names), configured from `settings` (by default the
    environment's), who reacts to what as the one table in api/subscriptions.py says; `options`
    go to `Engine` over what the settings say.

    Each engine gets its own copy of the action library, so what one configuration loads
    (the server's, a test bench run's, a test's) never changes the library another engine runs.
    """
    settings = settings or Settings.from_env()
    actions = registry.copy()
    actions.configure("webhook", allow=settings.webhook_allow)
    load_configured_actions(actions, settings.action_modules)
    return Engine(db, clock or WallClock(), actions, app_subscriptions(), **{**engine_options(settings), **options})


def engine_options(settings: Settings) -> dict[str, Any]:
    """What `Engine` takes from the settings: retries, claims, the loop guard."""
    return {"retry": settings.job_retry, "timezone": settings.timezone,
            "claim_lease": timedelta(seconds=settings.job_lease),
            "step_budget": settings.step_budget, "step_seconds": settings.step_seconds}


def outbox_delivery(engine: Engine, transports: Mapping[str, Any] | None = None, *,
                    settings: Settings | None = None) -> Callable[[], int]:
    """The job loop's second duty: send due emails, SMS and webhooks, retried as `settings` say."""
    settings = settings or Settings.from_env()
    chosen = transports if transports is not None else default_transports(settings.transport_env,
                                                                          settings.webhook_allow)
    return lambda: deliver_due(engine.db, engine.clock, chosen, worker=engine.worker_id, lease=engine.claim_lease,
                               claims=engine.claims, retry=settings.outbox_retry)


SHIPPED_AUTOMATION = Path(__file__).resolve().parent.parent / "robots" / "shipped"


def prepare_database(engine: Engine, *, demo: bool, templates_dir: Path | None,
                     automation_dir: Path | None = SHIPPED_AUTOMATION, workspace: bool = False) -> None:
    """Migrate, and on an empty database load the demo world, deploy the shipped processes and
    save the shipped robots and triggers. `workspace` adds the demo at work (deals on every stage,
    running instances, tasks, notifications: api/demo_workspace.py) that `dealflow run` shows a
    new user; scenario tests start from the plain world so they see only what they make."""
    upgrade(engine.db)
    if not demo:
        return
    with engine.unit() as rt:
        first_start = rt.session.query(Pipeline).first() is None
        if first_start:
            load_demo(rt.crm)
    if not first_start:
        return
    if templates_dir is not None:
        deploy_templates(engine, templates_dir)
    if automation_dir is not None:
        save_shipped_automation(engine, automation_dir)
    if workspace and templates_dir is not None:
        load_workspace(engine)  # the demo at work needs the shipped processes deployed


def catalog(engine: Engine, crm: Crm) -> Catalog:
    """What automation texts are checked against: this engine's actions, the CRM's stages and
    fields, the known event types."""
    return build_catalog(crm, engine.actions, EVENT_FIELDS)


def save_shipped_automation(engine: Engine, automation_dir: Path) -> list[str]:
    saved = []
    for path in sorted(automation_dir.glob("*.flow")):
        text = path.read_text(encoding="utf-8")
        with engine.unit() as rt:
            scope = path.stem
            save_automation(rt.session, rt.clock, scope, text, catalog(engine, rt.crm), "shipped")
        saved.append(scope)
    return saved


def deploy_templates(engine: Engine, templates_dir: Path) -> list[str]:
    """The shipped decisions (`*.dmn`) first, since business rule tasks refuse to deploy
    without theirs, then the shipped processes."""
    deployed = []
    for path in sorted(templates_dir.glob("*.dmn")):
        for decision in engine.deploy_decisions(path.read_text(encoding="utf-8")):
            deployed.append(f"decision {decision.key} v{decision.version}")
    for path in sorted(templates_dir.glob("*.bpmn")):
        version = engine.deploy(path.read_text(encoding="utf-8"))
        deployed.append(f"{version.key} v{version.version}")
    return deployed


SYSTEM = Cause.system("dealflow")
