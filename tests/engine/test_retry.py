"""One retry policy: how many attempts, and how long after each failed one the next comes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.retry import JOB_RETRY, OUTBOX_RETRY, RetryPolicy

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_the_delay_doubles_after_each_failed_attempt_until_none_is_left():
    policy = RetryPolicy(attempts=4, base_delay=timedelta(seconds=10))
    assert [policy.next_attempt(n, NOW) for n in (1, 2, 3)] == [
        NOW + timedelta(seconds=10), NOW + timedelta(seconds=20), NOW + timedelta(seconds=40)]
    assert policy.next_attempt(4, NOW) is None
    assert policy.next_attempt(5, NOW) is None


def test_the_factor_and_the_cap_shape_the_delays():
    policy = RetryPolicy(attempts=10, base_delay=timedelta(seconds=1), factor=3, cap=timedelta(seconds=20))
    assert [policy.delay(n) for n in (1, 2, 3, 4, 9)] == [
        timedelta(seconds=1), timedelta(seconds=3), timedelta(seconds=9), timedelta(seconds=20),
        timedelta(seconds=20)]


def test_a_single_attempt_policy_never_retries():
    assert RetryPolicy(attempts=1, base_delay=timedelta(minutes=1)).next_attempt(1, NOW) is None


def test_the_defaults_are_the_engines_and_the_outboxs_schedules():
    assert [JOB_RETRY.delay(n) for n in (1, 2, 3)] == [timedelta(seconds=30), timedelta(seconds=60), None]
    assert [OUTBOX_RETRY.delay(n) for n in range(1, 6)] == [
        timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8), None]


@pytest.mark.parametrize("arguments", [
    {"attempts": 0, "base_delay": timedelta(seconds=1)},
    {"attempts": 3, "base_delay": timedelta(seconds=-1)},
    {"attempts": 3, "base_delay": timedelta(seconds=1), "factor": 0.5},
    {"attempts": 3, "base_delay": timedelta(seconds=1), "cap": timedelta(seconds=-5)},
])
def test_a_policy_that_makes_no_sense_is_refused(arguments):
    with pytest.raises(ValueError):
        RetryPolicy(**arguments)
