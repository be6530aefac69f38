"""Live updates across server processes: two `dealflow run` servers on one PostgreSQL share one
Redis queue, and a client connected to one hears a stage move made through the other's REST API."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio
from sqlalchemy import text

from crm.db import Database
from crm.demo import load_demo
from tests.conftest import POSTGRES_URL
from tests.support.auth import bearer, token_for
from tests.support.schema import create_schema
from tests.support.world import make_deal

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("DEALFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
WAIT = 60.0  # generous: two servers start on a machine that may be busy; a pass is usually ~2 s


@pytest.fixture
def fresh_schema() -> Iterator[str]:
    """A schema of its own, migrated and filled before any server starts."""
    schema = f"dealflow_live_{uuid.uuid4().hex[:10]}"
    admin = Database(POSTGRES_URL)
    with admin.transaction() as session:
        session.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.transaction() as session:
            session.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_server(database_url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "DEALFLOW_DATABASE_URL": database_url, "DEALFLOW_REDIS_URL": REDIS_URL,
           "DEALFLOW_HOST": "127.0.0.1", "DEALFLOW_PORT": str(port), "DEALFLOW_DEMO": "0"}
    out = log.open("wb")
    command = [sys.executable, "-c", "from api.cli import main; main()", "run"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


def _wait_ready(process: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if requests.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"server at {base} not ready in {WAIT}s:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_a_client_on_one_server_hears_a_move_made_through_another(fresh_schema, tmp_path):
    database_url = f"{POSTGRES_URL}?options=-csearch_path%3D{fresh_schema}"
    db = Database(database_url)
    create_schema(db)
    from api.wiring import build_engine

    engine = build_engine(db)
    with engine.unit() as rt:
        load_demo(rt.crm)
    deal_id = make_deal(engine, department="store_north")
    watcher, mover = token_for(engine, "admin"), token_for(engine, "head.north")
    db.dispose()

    servers: list[subprocess.Popen] = []
    client = socketio.Client(reconnection=False)
    try:
        (a, url_a), (b, url_b) = (_start_server(database_url, tmp_path / f"{name}.log") for name in "ab")
        servers += [a, b]
        _wait_ready(a, url_a, tmp_path / "a.log")
        _wait_ready(b, url_b, tmp_path / "b.log")

        heard: queue.Queue = queue.Queue()
        client.on("deal.moved", heard.put)
        client.connect(url_a, auth={"token": watcher}, wait_timeout=30)
        assert client.call("subscribe", {"room": f"deal:{deal_id}"}, timeout=30) == {
            "ok": True, "room": f"deal:{deal_id}"}

        moved = requests.post(f"{url_b}/api/v1/deals/{deal_id}/move", json={"stage": "in_processing"},
                              headers=bearer(mover), timeout=30)
        assert moved.status_code == 200, moved.text

        event = heard.get(timeout=30)
        assert event["deal_id"] == deal_id
        assert (event["from"]["stage"], event["to"]["stage"]) == ("new", "in_processing")
    finally:
        if client.connected:
            client.disconnect()
        for server in servers:
            _stop(server)
