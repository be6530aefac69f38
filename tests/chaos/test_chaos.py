"""The short chaos run of `make test`; `make chaos` runs the long one (DEALFLOW_CHAOS_ROUNDS).

A failure names its seed: DEALFLOW_CHAOS_SEED=<seed> replays the same schedule of events,
kills and crashes (process timing still varies).
"""

from __future__ import annotations

import os
import random

import pytest

from tests.chaos.harness import Config, run
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.postgres


def test_workers_killed_at_random_moments_lose_nothing_and_double_nothing(tmp_path):
    seed = int(os.environ.get("DEALFLOW_CHAOS_SEED") or random.SystemRandom().randrange(1 << 30))
    rounds = int(os.environ.get("DEALFLOW_CHAOS_ROUNDS", "6"))
    print(f"chaos seed {seed}, {rounds} rounds")
    report = run(Config(seed=seed, rounds=rounds), tmp_path, POSTGRES_URL)
    print(report.describe())
    assert report.problems == [], report.describe()
    assert report.stats["kills"] > 0
