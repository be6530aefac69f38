"""A real `dealflow run` for the browser tests and `make screens`: its own SQLite file with the
demo data, a free port, the designer build served at /.

The lead may fold this into a shared tests/support live-server helper at merge; it mirrors
tests/api/test_live_processes.py's start/wait/stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "designer" / "dist"
WAIT = 90.0  # a busy two-core machine; a start is usually ~3 s


class ServerFailed(RuntimeError):
    pass


def api_session(base: str, login: str = "admin", password: str = "demo") -> requests.Session:
    """requests as a logged-in script: the session cookie and the CSRF header of the auth
    contract. A server from before the auth issue answers 404 to the login and needs neither."""
    session = requests.Session()
    response = session.post(f"{base}/api/v1/auth/login", json={"login": login, "password": password}, timeout=30)
    if response.status_code != 404:
        response.raise_for_status()
        session.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    session.base = f"{base}/api/v1"  # type: ignore[attr-defined]
    return session


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def live_dealflow(directory: Path) -> Iterator[str]:
    """Yields the base URL of a running server; stops it on exit."""
    if not (DIST / "index.html").is_file():
        raise ServerFailed("designer/dist is not built: run `make designer` (make test does it)")
    port = _free_port()
    log = directory / "server.log"
    env = {**os.environ, "DEALFLOW_DATABASE_URL": f"sqlite:///{directory / 'dealflow.sqlite3'}",
           "DEALFLOW_HOST": "127.0.0.1", "DEALFLOW_PORT": str(port), "DEALFLOW_DEMO": "1",
           "DEALFLOW_SCHEDULER_INTERVAL": "0.2"}
    env.pop("DEALFLOW_REDIS_URL", None)
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-c", "from api.cli import main; main()", "run"],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if requests.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise ServerFailed(f"server at {base} not ready in {WAIT}s:\n{log.read_text(errors='replace')}")
