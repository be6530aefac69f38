"""Settings come from the environment; every domain package gets its values from here."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.settings import Settings
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
