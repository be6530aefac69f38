"""The `dealflow` command: run the server or a worker, migrate, load the demo, replay process test cases."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


def _job_loop(settings: Settings, engine: Any) -> Any:
    from api.wiring import outbox_delivery
    from engine.scheduler import JobLoop

    return JobLoop(engine, settings.scheduler_interval, settings.job_batch,
                   also=[outbox_delivery(engine, settings=settings)])


def _engine(settings: Settings) -> Any:
    from api.wiring import build_engine

    return build_engine(_database(settings), settings=settings)


@main.command()
@click.option("--jobs/--no-jobs", default=None,
              help="run the job loop in this process too (default: DEALFLOW_RUN_JOBS, on); "
                   "turn it off when `dealflow worker` processes run the jobs")
def run(jobs: bool | None) -> None:
    """Serve the API and run the job loop (SQLite with demo data by default).

    Served by gunicorn (api/server.py): this process migrates and loads the demo, then
    supervises one serving worker process, which builds the app and runs the job loop.
    SIGTERM or Ctrl-C stops it after the requests and the job in hand.
    """
    from api.app import create_app
    from api.server import DealflowServer
    from api.wiring import prepare_database

    settings = _settings()
    engine = _engine(settings)
    prepare_database(engine, demo=settings.load_demo, templates_dir=settings.templates_dir, workspace=True)
    engine.db.dispose()  # the serving worker opens connections of its own after the fork
    run_jobs = settings.run_jobs if jobs is None else jobs

    def load() -> tuple[Any, Any]:
        served = _engine(settings)
        app = create_app(served, settings)
        loop = _job_loop(settings, served) if run_jobs else None
        if loop is not None:
            loop.start()
            click.echo(f"dealflow job loop {served.worker_id} started")
        return app, loop

    click.echo(f"dealflow on http://{settings.host}:{settings.port} (database {settings.database_url})")
    DealflowServer(load, host=settings.host, port=settings.port, threads=settings.server_threads).run()


@main.command()
def worker() -> None:
    """Run the job loop alone (timers, delayed robots, outbox delivery), without the web server.

    Start as many as needed, on any machines, against one PostgreSQL: they claim due work in
    batches (DEALFLOW_JOB_BATCH) and take over the claims of a worker that died once they
    expire (DEALFLOW_JOB_LEASE seconds). The schema must be migrated (`dealflow db upgrade`).
    SIGTERM or Ctrl-C stops it after the job in hand.
    """
    settings = _settings()
    engine = _engine(settings)
    loop = _job_loop(settings, engine)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"dealflow worker {engine.worker_id} (database {settings.database_url})")
    loop.run_until(stop)
    click.echo(f"dealflow worker {engine.worker_id} stopped")


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
    from api.wiring import SHIPPED_AUTOMATION, deploy_templates, prepare_database, save_shipped_automation

    settings = _settings()
    engine = _engine(settings)
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


@main.group()
def automation() -> None:
    """Robots and triggers: check and save automation files."""


@automation.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def automation_check(files: tuple[Path, ...]) -> None:
    """Check FILES against this database's pipelines, fields, actions and events; exit 1 on errors."""
    from api.wiring import catalog
    from robots.sources import validate

    engine = _engine(_settings())
    failed = False
    with engine.unit() as rt:
        known = catalog(engine, rt.crm)
    for path in files:
        _, errors = validate(path.read_text(encoding="utf-8"), known)
        for error in errors:
            click.echo(f"{path}:{error.line or 1}:{error.column or 1}: {error.message}")
        failed = failed or bool(errors)
    if failed:
        sys.exit(1)
    click.echo(f"{len(files)} file(s) OK")


@automation.command("save")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--apply-to-existing", is_flag=True,
              help="also run the changed stages' robots for deals already on them")
def automation_save(file: Path, apply_to_existing: bool) -> None:
    """Save FILE as the automation of its pipeline (or the global rules); refused whole on any error."""
    from api.wiring import catalog
    from crm.events import Cause
    from robots.runtime import apply_to_deals_on_stage
    from robots.sources import InvalidAutomation, save_automation, validate

    engine = _engine(_settings())
    text = file.read_text(encoding="utf-8")
    try:
        with engine.unit() as rt:
            parsed, errors = validate(text, catalog(engine, rt.crm))
            if errors or parsed is None:
                raise InvalidAutomation(errors)
            scope = parsed.scope
            row = save_automation(rt.session, rt.clock, scope, text, catalog(engine, rt.crm), "cli")
            if apply_to_existing:
                for stage in parsed.stages:
                    apply_to_deals_on_stage(rt, scope, stage.code, Cause("user", None, "dealflow cli"))
    except InvalidAutomation as refused:
        for error in refused.errors:
            click.echo(f"{file}:{error.line or 1}:{error.column or 1}: {error.message}")
        sys.exit(1)
    click.echo(f"saved {scope} version {row.version}")


@main.group()
def events() -> None:
    """Stored outside events."""


@events.command("replay")
@click.argument("event_id", type=int)
def events_replay(event_id: int) -> None:
    """Apply event EVENT_ID again, once the rule that failed on it is fixed (as POST /events/ID/replay)."""
    from crm.errors import CrmError
    from crm.events import Cause
    from triggers.intake import replay_event

    engine = _engine(_settings())
    try:
        result = engine.retrying(lambda rt: replay_event(rt, event_id, cause=Cause("user", None, "dealflow cli")))
    except CrmError as refused:
        click.echo(f"event {event_id}: {refused}", err=True)
        sys.exit(1)
    for evaluation in result.evaluations:
        click.echo(f"{evaluation['rule']}: {evaluation['outcome']} ({evaluation['reason']})")
    click.echo(f"event {event_id} replayed")


@main.group()
def users() -> None:
    """People who sign in."""


@users.command("password")
@click.argument("login")
@click.password_option(help="the new password (asked for twice if left out)")
def users_password(login: str, password: str) -> None:
    """Set LOGIN's password (argon2-hashed; the demo users start with `demo`)."""
    from crm.auth import set_password
    from crm.errors import CrmError

    engine = _engine(_settings())
    try:
        with engine.unit() as rt:
            set_password(rt.session, rt.crm.user(login), password)
    except CrmError as refused:
        details = getattr(refused, "fields", None)
        raise click.ClickException(f"{refused.message}: {details}" if details else refused.message) from None
    click.echo(f"password of {login} changed")


@main.group()
def tokens() -> None:
    """API tokens for stores and other systems."""


@tokens.command("create")
@click.argument("login")
@click.option("--name", required=True, help="what the token is for, e.g. 'store webhook'")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="expires after this many days")
def tokens_create(login: str, name: str, days: int | None) -> None:
    """Print a new API token of LOGIN (shown this once; only its hash is stored)."""

    from crm.auth import issue
    from crm.errors import CrmError

    engine = _engine(_settings())
    try:
        with engine.unit() as rt:
            _, secret = issue(rt.session, rt.crm.user(login), engine.clock, kind="token", name=name,
                              lifetime=timedelta(days=days) if days else None)
    except CrmError as refused:
        raise click.ClickException(refused.message) from None
    click.echo(secret)


if __name__ == "__main__":
    main()
