"""The app on a real database (both backends) holding the demo store.

`client` calls as the administrator; `client_as("manager.north1")` as anyone else, so tests
of access rules read as "this user may not".
"""

from __future__ import annotations

import pytest

from api.app import create_app
from api.settings import Settings
from tests.support.auth import client_of
from tests.support.world import app_engine


@pytest.fixture
def engine(database, clock):
    return app_engine(database, clock)


@pytest.fixture
def app(engine):
    return create_app(engine, Settings(database_url=engine.db.url))


@pytest.fixture
def client_as(app, engine):
    return lambda login: client_of(app, engine, login)


@pytest.fixture
def client(client_as):
    return client_as("admin")


@pytest.fixture
def anonymous(app):
    return app.test_client()
