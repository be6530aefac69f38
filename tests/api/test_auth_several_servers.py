"""Revocation is immediate across server processes (issue 14: the credential check was made
cheaper, never cached past the database).

Two apps on one database, each with an engine and a connection pool of its own, stand for two
`dealflow run` processes behind a load balancer. A token revoked, a session ended or a user
switched off through one of them is refused by the other on its very next request, after
that other one has just served the same credential (so anything it kept would be warm).
"""

from __future__ import annotations

import pytest

from api.app import create_app
from api.settings import Settings
from api.wiring import build_engine
from crm.demo import DEMO_PASSWORD
from tests.support.auth import bearer, token_for


@pytest.fixture
def other_app(engine, clock):
    """A second server process on the same database: its own engine, pool and app."""
    other = build_engine(engine.db.reopen(), clock)
    yield create_app(other, Settings(database_url=engine.db.url))
    other.db.dispose()


def test_a_token_revoked_through_one_server_is_refused_by_the_other_at_once(app, other_app, client_as):
    anna = client_as("manager.north1")
    issued = anna.post("/api/v1/auth/tokens", json={"name": "script"}).json
    first, second = app.test_client(), other_app.test_client()
    for _ in range(3):
        assert second.get("/api/v1/auth/me", headers=bearer(issued["token"])).status_code == 200
    assert anna.delete(f"/api/v1/auth/tokens/{issued['id']}").status_code == 200
    for client in (second, first):
        refused = client.get("/api/v1/auth/me", headers=bearer(issued["token"]))
        assert refused.status_code == 401 and refused.json["code"] == "unauthenticated"
    refused_write = second.post("/api/v1/auth/tokens", headers=bearer(issued["token"]), json={"name": "again"})
    assert refused_write.status_code == 401


def test_a_session_ended_on_one_server_is_refused_by_the_other_at_once(app, other_app):
    browser, elsewhere = app.test_client(), other_app.test_client()
    signed_in = browser.post("/api/v1/auth/login", json={"login": "manager.north1", "password": DEMO_PASSWORD})
    assert signed_in.status_code == 200
    cookie = browser.get_cookie("dealflow_session").value
    elsewhere.set_cookie("dealflow_session", cookie)
    for _ in range(3):
        assert elsewhere.get("/api/v1/auth/me").json["user"]["login"] == "manager.north1"
    ended = browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": signed_in.json["csrf_token"]})
    assert ended.status_code == 204
    refused = elsewhere.get("/api/v1/auth/me")
    assert refused.status_code == 401 and refused.json["code"] == "unauthenticated"


def test_a_user_switched_off_is_refused_by_every_server_at_once(engine, app, other_app):
    token = token_for(engine, "manager.north1")
    clients = (app.test_client(), other_app.test_client())
    for client in clients:
        assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    with engine.unit() as rt:
        rt.crm.user("manager.north1").active = False
    for client in clients:
        assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401


def test_a_role_taken_away_applies_on_the_next_request_of_every_server(engine, app, other_app):
    token = token_for(engine, "manager.north1")
    clients = (app.test_client(), other_app.test_client())
    before = [client.post("/api/v1/processes/send_to_bank/start", headers=bearer(token), json={"deal_id": 0})
              for client in clients]
    assert all(reply.status_code != 403 for reply in before)
    with engine.unit() as rt:
        rt.crm.user("manager.north1").roles = []
    after = [client.post("/api/v1/processes/send_to_bank/start", headers=bearer(token), json={"deal_id": 0})
             for client in clients]
    assert all(reply.status_code == 403 and reply.json["code"] == "forbidden" for reply in after)
