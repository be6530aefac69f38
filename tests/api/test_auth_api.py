"""Signing in through the API: browser sessions with CSRF protection, API tokens for machines."""

from __future__ import annotations

from api.auth import CSRF_HEADER, SESSION_COOKIE
from tests.support.world import store_order


def sign_in(browser, login: str = "manager.north1", password: str = "demo"):
    return browser.post("/api/v1/auth/login", json={"login": login, "password": password})


def test_a_demo_user_signs_in_and_the_session_names_them(anonymous):
    answer = sign_in(anonymous)
    assert answer.status_code == 200
    assert answer.json["user"]["login"] == "manager.north1" and "move_deals" in answer.json["user"]["permissions"]
    cookie = anonymous.get_cookie(SESSION_COOKIE)
    assert cookie is not None and cookie.http_only
    me = anonymous.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json["user"]["login"] == "manager.north1"
    assert me.json["csrf_token"] == answer.json["csrf_token"]


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(anonymous):
    wrong_password = sign_in(anonymous, password="nope")
    no_such_user = sign_in(anonymous, login="nobody")
    assert wrong_password.status_code == no_such_user.status_code == 401
    assert wrong_password.json == no_such_user.json
    assert anonymous.get_cookie(SESSION_COOKIE) is None


def test_a_change_from_a_browser_session_needs_the_csrf_header(anonymous, engine):
    from tests.support.world import make_deal

    deal_id = make_deal(engine, department="store_north")
    csrf = sign_in(anonymous).json["csrf_token"]
    forged = anonymous.post(f"/api/v1/deals/{deal_id}/move", json={"stage": "in_processing"})
    assert forged.status_code == 403 and forged.json["code"] == "csrf"
    assert anonymous.get(f"/api/v1/deals/{deal_id}").json["stage"] == "new"
    moved = anonymous.post(f"/api/v1/deals/{deal_id}/move", json={"stage": "in_processing"},
                           headers={CSRF_HEADER: csrf})
    assert moved.status_code == 200 and moved.json["stage"] == "in_processing"


def test_signing_out_ends_the_session_for_good(anonymous):
    csrf = sign_in(anonymous).json["csrf_token"]
    secret = anonymous.get_cookie(SESSION_COOKIE).value
    assert anonymous.post("/api/v1/auth/logout", headers={CSRF_HEADER: csrf}).status_code == 204
    anonymous.set_cookie(SESSION_COOKIE, secret)  # a copy of the cookie kept by an attacker
    assert anonymous.get("/api/v1/auth/me").status_code == 401


def test_a_token_is_shown_once_works_as_bearer_and_stops_working_when_revoked(anonymous, client_as):
    anna = client_as("manager.north1")
    issued = anna.post("/api/v1/auth/tokens", json={"name": "my script"})
    assert issued.status_code == 201 and issued.json["token"]
    bearer = {"Authorization": f"Bearer {issued.json['token']}"}
    assert anonymous.get("/api/v1/auth/me", headers=bearer).json["user"]["login"] == "manager.north1"
    listed = anna.get("/api/v1/auth/tokens").json
    assert issued.json["id"] in [t["id"] for t in listed] and all("token" not in t for t in listed)
    assert anna.delete(f"/api/v1/auth/tokens/{issued.json['id']}").json["revoked_at"] is not None
    refused = anonymous.get("/api/v1/auth/me", headers=bearer)
    assert refused.status_code == 401 and refused.json["code"] == "unauthenticated"


def test_an_administrator_issues_the_stores_integration_token(client, anonymous, engine):
    with engine.unit() as rt:
        integration = rt.crm.user("store.integration").id
    issued = client.post("/api/v1/auth/tokens", json={"name": "store webhook", "user_id": integration}).json
    store = {"Authorization": f"Bearer {issued['token']}"}
    sent = anonymous.post("/api/v1/events", headers=store, json={
        "type": "order.created", "idempotency_key": "order-1", "payload": store_order("T-1")})
    assert sent.status_code == 202 and sent.json["event_id"]
    designer_only = anonymous.put("/api/v1/robots/main", headers=store, json={"text": 'pipeline main "Sales"\n'})
    assert designer_only.status_code == 403


def test_a_made_up_token_and_a_malformed_header_are_both_401(anonymous):
    for header in ("Bearer made-up", "Bearer ", "Basic YWRtaW46ZGVtbw==", "nonsense"):
        answer = anonymous.get("/api/v1/deals", headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_guessing_passwords_locks_the_login_and_says_when_to_come_back(anonymous, engine):
    for _ in range(5):
        assert sign_in(anonymous, password="guess").status_code == 401
    locked = sign_in(anonymous)
    assert locked.status_code == 429 and locked.json["code"] == "sign_in_locked"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert sign_in(anonymous, login="manager.north2").status_code == 200  # other logins are not affected
