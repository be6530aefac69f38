from __future__ import annotations

import pytest

from crm.clock import VirtualClock
from crm.db import Database
from engine.engine import Engine
from tests.support.world import demo_engine


@pytest.fixture
def engine(database: Database, clock: VirtualClock) -> Engine:
    return demo_engine(database, clock)
