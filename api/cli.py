"""The `dealflow` command: run the server, migrate, load the demo, replay process test cases."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from api.settings import Settings
from crm.clock import VirtualClock
from crm.db import Database


def _settings() -> Settings:
    return Settings.from_env()


def _database(settings: Settings) -> Database:
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return Database(settings.database_url)


@click.group()
def main() -> None:
    """dealflow: BPMN processes, stage robots and triggers for a sales CRM."""


@main.command()
def run() -> None:
    """Serve the API and run the job loop (SQLite with demo data by default)."""
    from api.app import create_app
    from api.wiring import build_engine, outbox_delivery, prepare_database
    from engine.scheduler import JobLoop

    settings = _settings()
    engine = build_engine(_database(settings))
    prepare_database(engine, demo=settings.load_demo, templates_dir=settings.templates_dir)
    loop = JobLoop(engine, settings.scheduler_interval, also=[outbox_delivery(engine)])
    loop.start()
    click.echo(f"dealflow on http://{settings.host}:{settings.port} (database {settings.database_url})")
    try:
        create_app(engine, settings).run(host=settings.host, port=settings.port, threaded=True, use_reloader=False)
    finally:
        loop.stop()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration not yet applied."""
    from api.migrations import upgrade

    settings = _settings()
    upgrade(_database(settings))
    click.echo("database is up to date")


@main.command()
def demo() -> None:
    """Load the demo world (pipelines, people, deals) and deploy the shipped processes."""
    from api.wiring import SHIPPED_AUTOMATION, build_engine, deploy_templates, prepare_database, save_shipped_automation

    settings = _settings()
    engine = build_engine(_database(settings))
    prepare_database(engine, demo=True, templates_dir=None, automation_dir=None)
    for line in deploy_templates(engine, settings.templates_dir):
        click.echo(f"deployed {line}")
    for scope in save_shipped_automation(engine, SHIPPED_AUTOMATION):
        click.echo(f"saved robots and triggers of {scope}")


@main.command("test-processes")
@click.argument("path", type=click.Path(exists=True, path_type=Path), default=Path("bpmn"))
def test_processes(path: Path) -> None:
    """Replay the *.cases.yaml test cases under PATH; exit 1 if any fails."""
    from api.wiring import build_engine, prepare_database
    from engine.testcases import find_case_files, run_case_files

    def factory(tmp: Path) -> tuple:
        clock = VirtualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        engine = build_engine(Database(f"sqlite:///{tmp / 'cases.sqlite3'}"), clock)
        # A process is tested on its own: the shipped robots would start processes of their own.
        prepare_database(engine, demo=True, templates_dir=None, automation_dir=None)
        return engine, clock

    results = run_case_files(find_case_files(path), factory)
    for result in results:
        mark = "PASS" if result.passed else "FAIL"
        click.echo(f"{mark} {result.file.name}: {result.name}")
        for failure in result.failures:
            click.echo(f"     {failure}")
    passed = sum(r.passed for r in results)
    click.echo(f"{passed} passed, {len(results) - passed} failed")
    if not results or passed != len(results):
        sys.exit(1)
