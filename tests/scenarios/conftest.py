"""The store as `dealflow run` builds it: demo world, shipped processes and shipped automation.

The engine runs on a virtual clock on both backends. The HTTP scenario tests wrap it in the
real app and reach it only through the API, with the people and machines of the demo store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from api.app import create_app
from api.settings import Settings
from api.wiring import SHIPPED_AUTOMATION, build_engine, prepare_database
from engine.virtual_time import advance
from tests.support.http import Browser, Integration

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


@pytest.fixture
def engine(database, clock):
    engine = build_engine(database, clock)
    prepare_database(engine, demo=True, templates_dir=BPMN, automation_dir=SHIPPED_AUTOMATION)
    return engine


@pytest.fixture
def app(engine):
    return create_app(engine, Settings(database_url=engine.db.url))


@pytest.fixture
def signed_in(app) -> Callable[[str], Browser]:
    """`signed_in("manager.north1")`: that person's browser, signed in once per test."""
    browsers: dict[str, Browser] = {}

    def browser(login: str) -> Browser:
        if login not in browsers:
            browsers[login] = Browser(app, login)
        return browsers[login]

    return browser


@pytest.fixture
def admin(signed_in) -> Browser:
    return signed_in("admin")


@pytest.fixture
def store(admin) -> Integration:
    """The online store's webhook client, with the token the administrator issued it."""
    return Integration.issued_by(admin, "store.integration", "store")


@pytest.fixture
def time_passes(engine, clock) -> Callable[..., None]:
    """The one step that is not HTTP: the clock moves and the job loop runs what falls due."""
    return lambda **delta: advance(engine, clock, timedelta(**delta))
