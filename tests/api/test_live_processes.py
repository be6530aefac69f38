"""Live updates across server processes: two `dealflow run` servers on one PostgreSQL share one
Redis queue, and a client connected to one hears a stage move made through the other's REST API."""

from __future__ import annotations

import os
import queue
import uuid
from collections.abc import Iterator

import pytest
import requests
import socketio
from sqlalchemy import text

from crm.db import Database
from crm.demo import load_demo
from tests.conftest import POSTGRES_URL
from tests.support.auth import bearer, token_for
from tests.support.schema import create_schema
from tests.support.server import dealflow_server
from tests.support.world import make_deal

REDIS_URL = os.environ.get("DEALFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

pytestmark = pytest.mark.postgres  # two servers on one PostgreSQL schema and Redis


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

    env = {"DEALFLOW_DATABASE_URL": database_url, "DEALFLOW_REDIS_URL": REDIS_URL, "DEALFLOW_DEMO": "0"}
    client = socketio.Client(reconnection=False)
    with dealflow_server(env, tmp_path / "a.log") as url_a, dealflow_server(env, tmp_path / "b.log") as url_b:
        try:
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
