"""The dealflow command, run as a person would: against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("DEALFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("DEALFLOW_MAILBOX_DIR", str(tmp_path / "mailbox"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_demo_deploys_the_shipped_processes_and_automation(run):
    result = run("demo")
    assert result.exit_code == 0
    for key in ("send_to_bank", "warehouse_buffer", "courier_delivery", "purchase_request"):
        assert f"deployed {key} v1" in result.output
    for scope in ("credit", "global", "installment", "main"):
        assert f"saved robots and triggers of {scope}" in result.output


def test_automation_check_reports_each_error_with_its_line_and_column(run, tmp_path):
    run("db", "upgrade")
    run("demo")
    bad = tmp_path / "main.flow"
    bad.write_text('pipeline main "Sales"\n\nstage nowhere:\n  robot after 1d:\n    notify(text: "x")\n')
    result = run("automation", "check", str(bad))
    assert result.exit_code == 1
    assert result.output.startswith(f"{bad}:3:")
    assert "nowhere" in result.output


def test_test_processes_replays_a_case_file_and_fails_on_a_wrong_expectation(run, tmp_path):
    cases = tmp_path / "purchase_request.cases.yaml"
    (tmp_path / "purchase_request.bpmn").write_bytes((ROOT / "bpmn" / "purchase_request.bpmn").read_bytes())
    cases.write_text(
        "process: purchase_request\n"
        "cases:\n"
        "  - name: wrong on purpose\n"
        "    deal: {title: Oven, responsible: manager.north1}\n"
        "    start: {product_name: Oven, sale_price: 100}\n"
        "    expect: {stage: main.won}\n"
    )
    result = run("test-processes", str(tmp_path))
    assert result.exit_code == 1
    assert "FAIL purchase_request.cases.yaml: wrong on purpose" in result.output
    assert "0 passed, 1 failed" in result.output


def test_a_password_set_from_the_command_line_signs_in_and_a_short_one_is_refused(run):
    run("demo")
    assert run("users", "password", "manager.north1", "--password", "long enough").exit_code == 0
    refused = run("users", "password", "manager.north1", "--password", "abc")
    assert refused.exit_code == 1 and "at least" in refused.output
    browser = _app_on_the_cli_database().test_client()
    assert browser.post("/api/v1/auth/login", json={"login": "manager.north1", "password": "demo"}).status_code == 401
    assert browser.post("/api/v1/auth/login", json={
        "login": "manager.north1", "password": "long enough"}).status_code == 200


def test_a_token_made_on_the_command_line_is_printed_once_and_works(run):
    run("demo")
    made = run("tokens", "create", "store.integration", "--name", "store webhook")
    assert made.exit_code == 0
    bearer = {"Authorization": f"Bearer {made.output.strip()}"}
    me = _app_on_the_cli_database().test_client().get("/api/v1/auth/me", headers=bearer)
    assert me.json["user"]["login"] == "store.integration"
    assert run("tokens", "create", "nobody", "--name", "x").exit_code == 1


def _app_on_the_cli_database():
    from api.app import create_app
    from api.settings import Settings
    from api.wiring import build_engine
    from crm.db import Database

    settings = Settings.from_env()
    return create_app(build_engine(Database(settings.database_url)), settings)


def test_events_replay_applies_an_event_whose_rule_failed_and_refuses_one_that_ran(run):
    import os

    from api.wiring import build_engine
    from crm.db import Database
    from crm.events import Cause
    from dsl import compile_expression
    from dsl.automation import ActionCall, Arg, AutomationFile, Pos, Trigger
    from tests.support.world import store_order
    from triggers.intake import accept_event
    from triggers.models import Event

    run("db", "upgrade")
    run("demo")
    at = Pos(1, 1)
    wrong_stage = Trigger(key="new", name=None, event="order.created", condition=None, target_stage=None,
                          allow_backward=False, pos=at, actions=(ActionCall(
                              "create_deal_from_order", (Arg("stage", compile_expression('"main.nowhere"'), at),),
                              at),))

    def broken(session, scope):
        """A global rule file with a wrong stage: the rule fails on the event."""
        return AutomationFile(scope=scope, title=None, stages=(), triggers=(wrong_stage,), is_global=True)

    engine = build_engine(Database(os.environ["DEALFLOW_DATABASE_URL"]))
    with engine.unit() as rt:
        result = accept_event(rt, "order.created", store_order("CLI-1"), idempotency_key="cli-1", source="store",
                              cause=Cause("system", "store", "store"), automation=broken)
    assert [e["outcome"] for e in result.evaluations] == ["failed"]

    replayed = run("events", "replay", str(result.event_id))  # with the shipped global rules, which work
    assert replayed.exit_code == 0, replayed.output
    assert "matched" in replayed.output and f"event {result.event_id} replayed" in replayed.output
    with engine.unit() as rt:
        assert rt.session.get(Event, result.event_id).outcome["created_deal_ids"]
    refused = CliRunner().invoke(main, ["events", "replay", str(result.event_id)])
    assert refused.exit_code == 1 and "no failed rule" in refused.output
    engine.db.dispose()
