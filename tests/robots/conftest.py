from __future__ import annotations

import pytest

from engine.engine import Engine
from tests.support.world import app_engine


@pytest.fixture
def engine(database, clock) -> Engine:
    return app_engine(database, clock)
