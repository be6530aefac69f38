"""The app on a real database (both backends) holding the demo store."""

from __future__ import annotations

import pytest

from api.app import create_app
from api.settings import Settings
from api.wiring import build_engine
from crm.demo import load_demo


@pytest.fixture
def engine(database, clock):
    engine = build_engine(database, clock)
    with engine.unit() as rt:
        load_demo(rt.crm)
    return engine


@pytest.fixture
def app(engine):
    return create_app(engine, Settings(database_url=engine.db.url))


@pytest.fixture
def client(app):
    return app.test_client()
