"""A real `dealflow run` for the browser tests and `make screens`: its own SQLite file with the
demo data, a free port, the designer build served at /."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.support.server import ROOT, ServerFailed, dealflow_server

DIST = ROOT / "designer" / "dist"


def api_session(base: str, login: str = "admin", password: str = "demo") -> requests.Session:
    """requests as a signed-in browser script: the session cookie and the CSRF header."""
    session = requests.Session()
    response = session.post(f"{base}/api/v1/auth/login", json={"login": login, "password": password}, timeout=30)
    response.raise_for_status()
    session.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    session.base = f"{base}/api/v1"  # type: ignore[attr-defined]
    return session


@contextmanager
def live_dealflow(directory: Path) -> Iterator[str]:
    """Yields the base URL of a running server on its own SQLite file with the demo data."""
    if not (DIST / "index.html").is_file():
        raise ServerFailed("designer/dist is not built: run `make designer` (make test does it)")
    env = {"DEALFLOW_DATABASE_URL": f"sqlite:///{directory / 'dealflow.sqlite3'}", "DEALFLOW_DEMO": "1",
           "DEALFLOW_SCHEDULER_INTERVAL": "0.2", "DEALFLOW_REDIS_URL": "",
           "DEALFLOW_ACTION_MODULES": "tests.designer.flaky_actions"}  # call_bank: an outside system that is down
    with dealflow_server(env, directory / "server.log") as base:
        yield base
