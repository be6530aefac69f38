from __future__ import annotations

import pytest

from api.wiring import build_engine
from crm.demo import load_demo
from engine.engine import Engine


@pytest.fixture
def engine(database, clock) -> Engine:
    """The engine as the app builds it: robots (and triggers) wired in, demo world loaded."""
    engine = build_engine(database, clock)
    with engine.unit() as rt:
        load_demo(rt.crm)
    return engine
