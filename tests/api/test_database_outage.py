"""A database connection that dies (a restart, a failover, pg_terminate_backend) is the
database's moment, not a bug: the caller is told to retry (503 with Retry-After) and the pool
replaces the dead connection by itself. PostgreSQL only: SQLite has no connection to lose."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, text

from api.app import create_app
from api.settings import Settings
from crm.db import Database
from tests.conftest import POSTGRES_URL
from tests.support.auth import client_of
from tests.support.world import app_engine


@pytest.fixture
def outage(postgres_database, clock):
    engine = app_engine(postgres_database, clock)
    app = create_app(engine, Settings(database_url=engine.db.url))
    admin = Database(POSTGRES_URL)
    yield engine, client_of(app, engine, "admin"), admin
    admin.dispose()


def terminate(admin: Database, pid: int) -> None:
    """pg_terminate_backend from a second connection, then wait until the backend is gone."""
    with admin.engine.connect() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(100):
            if not connection.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}):
                return
            time.sleep(0.05)
            # pg_stat_activity is read once per transaction and kept: read it anew next time
            connection.execute(text("SELECT pg_stat_clear_snapshot()"))
    raise AssertionError(f"backend {pid} still runs")


@pytest.mark.parametrize(("method", "url", "body", "checkout"), [
    ("get", "/api/v1/deals", None, 1),  # while sign-in reads the credential
    ("get", "/api/v1/deals", None, 2),  # in the view's unit of work
    ("post", "/api/v1/contacts", {"name": "Olga"}, 2),
])
def test_a_connection_dropped_during_a_request_is_a_503_with_retry_after_and_the_next_one_works(
        outage, method, url, body, checkout):
    engine, client, admin = outage
    assert client.get("/api/v1/deals").status_code == 200
    seen = []

    def kill_after_checkout(dbapi_connection, _record, _proxy):
        # after the pool's pre-ping, so the request itself meets the dead connection
        seen.append(dbapi_connection)
        if len(seen) == checkout:
            terminate(admin, dbapi_connection.info.backend_pid)

    event.listen(engine.db.engine, "checkout", kill_after_checkout)
    try:
        dropped = getattr(client, method)(url, json=body)
    finally:
        event.remove(engine.db.engine, "checkout", kill_after_checkout)
    assert dropped.status_code == 503, dropped.get_data(as_text=True)[:500]
    assert dropped.json["code"] == "database_unavailable" and dropped.json["message"]
    assert int(dropped.headers["Retry-After"]) > 0
    assert client.get("/api/v1/deals").status_code == 200


def test_a_pooled_connection_that_died_while_idle_is_replaced_before_use(outage):
    engine, client, admin = outage
    assert client.get("/api/v1/deals").status_code == 200
    with engine.db.engine.connect() as connection:  # the pool's idle connection, checked out and back
        pid = connection.connection.dbapi_connection.info.backend_pid
    terminate(admin, pid)
    assert client.get("/api/v1/deals").status_code == 200
    created = client.post("/api/v1/contacts", json={"name": "after the restart"})
    assert created.status_code == 201
