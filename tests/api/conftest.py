"""The app on a real database (both backends) holding the demo store."""

from __future__ import annotations

import pytest

from api.app import create_app
from api.settings import Settings
from tests.support.world import app_engine


@pytest.fixture
def engine(database, clock):
    return app_engine(database, clock)


@pytest.fixture
def app(engine):
    return create_app(engine, Settings(database_url=engine.db.url))


@pytest.fixture
def client(app):
    return app.test_client()
