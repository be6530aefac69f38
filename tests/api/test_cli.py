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
