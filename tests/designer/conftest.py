"""One live server and one Chromium for the designer's browser tests (starting either is slow)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page

from tests.designer.browser import VIEWPORT, chromium, log_in
from tests.designer.server import api_session, live_dealflow


@pytest.fixture(scope="session")
def base_url(tmp_path_factory) -> Iterator[str]:
    with live_dealflow(tmp_path_factory.mktemp("designer")) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def http(base_url) -> Iterator[requests.Session]:
    """The API as a script would use it, logged in as the admin."""
    session = api_session(base_url)
    yield session
    session.close()


@pytest.fixture
def page(browser, base_url) -> Iterator[Page]:
    """A fresh browser context (no cookies, no drafts) logged in as the designer."""
    context = browser.new_context(viewport=VIEWPORT)
    p = context.new_page()
    p.set_default_timeout(20000)
    errors: list[str] = []
    p.on("pageerror", lambda err: errors.append(f"{err}\n{err.stack}"))
    log_in(p, base_url)
    yield p
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"
