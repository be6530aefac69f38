"""Credentials for tests that call the API as a given demo user."""

from __future__ import annotations

from typing import Any

from crm.auth import issue
from engine.engine import Engine


def token_for(engine: Engine, login: str, *, name: str = "test") -> str:
    """A fresh API token of `login`, issued straight in the database (no HTTP round trip)."""
    with engine.unit() as rt:
        _, secret = issue(rt.session, rt.crm.user(login), engine.clock, kind="token", name=name)
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client_of(app: Any, engine: Engine, login: str) -> Any:
    """A Flask test client that sends `login`'s token with every request."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token_for(engine, login)}"
    return client
