"""Settings come from the environment; every domain package gets its values from here."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from api.settings import ROOT, Settings
from engine.retry import JOB_RETRY, OUTBOX_RETRY, RetryPolicy


def test_without_variables_the_retry_policies_are_the_defaults():
    settings = Settings.from_env({})
    assert (settings.job_retry, settings.outbox_retry) == (JOB_RETRY, OUTBOX_RETRY)
    assert RetryPolicy(attempts=3, base_delay=timedelta(seconds=30)) == JOB_RETRY
    assert RetryPolicy(attempts=5, base_delay=timedelta(minutes=1)) == OUTBOX_RETRY


def test_each_retry_policy_is_configured_on_its_own():
    settings = Settings.from_env({
        "DEALFLOW_JOB_RETRY_ATTEMPTS": "4", "DEALFLOW_JOB_RETRY_DELAY": "5", "DEALFLOW_JOB_RETRY_FACTOR": "3",
        "DEALFLOW_JOB_RETRY_CAP": "60", "DEALFLOW_OUTBOX_RETRY_ATTEMPTS": "8",
    })
    assert settings.job_retry == RetryPolicy(attempts=4, base_delay=timedelta(seconds=5), factor=3,
                                             cap=timedelta(seconds=60))
    assert settings.outbox_retry == RetryPolicy(attempts=8, base_delay=timedelta(minutes=1))


def test_a_retry_policy_that_makes_no_sense_is_refused_at_start_up():
    with pytest.raises(ValueError, match="at least 1 attempt"):
        Settings.from_env({"DEALFLOW_OUTBOX_RETRY_ATTEMPTS": "0"})


def test_the_domain_configuration_comes_from_the_environment_through_settings(tmp_path):
    settings = Settings.from_env({
        "DEALFLOW_TIMEZONE": "Europe/Moscow", "DEALFLOW_WEBHOOK_ALLOW": "10.0.0.0/8",
        "DEALFLOW_ACTION_MODULES": "acme.warehouse, acme.more,", "DEALFLOW_SANDBOX_DIR": str(tmp_path),
        "DEALFLOW_DESIGNER_DIST": str(tmp_path / "dist"), "DEALFLOW_MAILBOX_DIR": str(tmp_path / "mail"),
        "DEALFLOW_SMS_URL": "https://sms.example/send", "DEALFLOW_HTTP_TIMEOUT": "3",
    })
    assert (settings.timezone, settings.webhook_allow) == ("Europe/Moscow", "10.0.0.0/8")
    assert settings.action_modules == ("acme.warehouse", "acme.more")
    assert (settings.sandbox_dir, settings.designer_dist) == (tmp_path, tmp_path / "dist")
    assert settings.transport_env == {"DEALFLOW_MAILBOX_DIR": str(tmp_path / "mail"),
                                      "DEALFLOW_SMS_URL": "https://sms.example/send", "DEALFLOW_HTTP_TIMEOUT": "3"}


def test_unset_the_domain_configuration_is_what_it_always_was():
    settings = Settings.from_env({})
    assert (settings.timezone, settings.webhook_allow, settings.action_modules) == ("UTC", "", ())
    assert (settings.sandbox_dir, settings.transport_env) == (None, {})
    assert settings.designer_dist == ROOT / "designer" / "dist"


PACKAGES = ("api", "crm", "dsl", "engine", "robots", "triggers")
READS_ENVIRONMENT = re.compile(r"\bos\.environ\b|\bgetenv\s*\(|\bfrom\s+os\s+import\b[^\n]*\benviron\b")


def test_only_the_settings_module_reads_the_environment():
    """Every setting has one reader, so each is listed in the README and reaches the domain as a value."""
    readers = sorted(
        str(path.relative_to(ROOT)) for package in PACKAGES for path in (ROOT / package).rglob("*.py")
        if READS_ENVIRONMENT.search(path.read_text(encoding="utf-8"))
    )
    assert readers == ["api/settings.py"]
