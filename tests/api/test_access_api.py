"""Access control at every endpoint (S9): who may not gets 403 or 404, and nothing changes.

The table below names, for each endpoint, a demo user who lacks the right and what they get:
403 when their roles do not allow the action, 404 when the object is one they may not see
(a 403 would tell them it exists). A completeness check fails when an endpoint is added
without a line here, and endpoints every signed-in user may call are held to 401 for
callers without credentials.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.auth import principal_for
from crm.db import Base
from crm.events import Cause
from engine.models import Incident
from engine.virtual_time import advance
from tests.support.auth import client_of, token_for
from tests.support.bpmn import Bpmn
from tests.support.world import make_deal

CAUSE = Cause.system("test")
# The store's webhooks authenticate by their HMAC signature instead (tests/api/test_hooks.py).
PUBLIC = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/hooks/<source>")}
# Every signed-in user may call these; the only caller without the right is an anonymous one.
OPEN_TO_STAFF = {
    ("GET", "/api/v1/actions"), ("GET", "/api/v1/process-labels"), ("GET", "/api/v1/pipelines"),
    ("GET", "/api/v1/pipelines/<code>"),
    ("GET", "/api/v1/users"), ("GET", "/api/v1/users/<user_id>"), ("GET", "/api/v1/processes"),
    ("GET", "/api/v1/processes/<key>/versions"), ("GET", "/api/v1/processes/<key>/xml"),
    # Decision tables are read like processes: every designer of a process may call one.
    ("GET", "/api/v1/decisions"), ("GET", "/api/v1/decisions/<key>/versions"), ("GET", "/api/v1/decisions/<key>/xml"),
    ("GET", "/api/v1/auth/me"), ("GET", "/api/v1/auth/tokens"), ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/tokens"), ("GET", "/api/v1/notifications"),
    # One's own language, unread count and feed only: no argument names another user
    # (tests/api/test_shell_api.py shows another person's feed untouched).
    ("PATCH", "/api/v1/auth/me"), ("GET", "/api/v1/notifications/unread-count"),
    ("POST", "/api/v1/notifications/read-all"),
    # Lists are filtered to what the caller sees; tests below show another store's rows absent.
    ("GET", "/api/v1/deals"), ("GET", "/api/v1/tasks"), ("GET", "/api/v1/instances"),
    # The kanban columns of each task group: configuration, no task in it.
    ("GET", "/api/v1/tasks/boards"),
    # The board counts and shows only the caller's deals (tests/api/test_board_api.py, S9).
    ("GET", "/api/v1/pipelines/<code>/board"),
}

# (method, rule, path with the world's ids, body, who, expected status)
REFUSALS = [
    ("GET", "/api/v1/contacts", "/api/v1/contacts", None, "driver1", 403),
    ("POST", "/api/v1/contacts", "/api/v1/contacts", {"name": "Eve"}, "driver1", 403),
    ("GET", "/api/v1/contacts/<contact_id>", "/api/v1/contacts/1", None, "driver1", 403),
    ("POST", "/api/v1/deals", "/api/v1/deals", {"title": "x", "pipeline": "main"}, "driver1", 403),
    ("GET", "/api/v1/deals/<deal_id>", "/api/v1/deals/{deal}", None, "manager.north1", 404),
    ("PATCH", "/api/v1/deals/<deal_id>", "/api/v1/deals/{deal}", {"title": "mine"}, "manager.north1", 404),
    ("PATCH", "/api/v1/deals/<deal_id>", "/api/v1/deals/{deal}", {"title": "mine"}, "driver1", 403),
    ("POST", "/api/v1/deals/<deal_id>/move", "/api/v1/deals/{deal}/move", {"stage": "won"}, "manager.north1", 404),
    ("POST", "/api/v1/deals/<deal_id>/move", "/api/v1/deals/{deal}/move", {"stage": "won"}, "driver1", 403),
    ("GET", "/api/v1/deals/<deal_id>/timeline", "/api/v1/deals/{deal}/timeline", None, "manager.north1", 404),
    ("GET", "/api/v1/deals/<deal_id>/automation-log", "/api/v1/deals/{deal}/automation-log", None,
     "manager.north1", 404),
    ("GET", "/api/v1/deals/<deal_id>/card", "/api/v1/deals/{deal}/card", None, "manager.north1", 404),
    ("GET", "/api/v1/deals/<deal_id>/processes", "/api/v1/deals/{deal}/processes", None, "manager.north1", 404),
    ("GET", "/api/v1/deals/<deal_id>/feed", "/api/v1/deals/{deal}/feed", None, "manager.north1", 404),
    ("POST", "/api/v1/events", "/api/v1/events",
     {"type": "order.paid", "idempotency_key": "k1", "payload": {"order_id": "A-1"}}, "manager.north1", 403),
    ("GET", "/api/v1/events/<event_id>", "/api/v1/events/1", None, "manager.north1", 403),
    ("POST", "/api/v1/messages", "/api/v1/messages",
     {"name": "contract.signed", "deal_id": "{deal}", "payload": {}}, "manager.north1", 403),
    ("POST", "/api/v1/signals", "/api/v1/signals",
     {"name": "stock.arrived", "deal_id": "{deal}", "payload": {}}, "manager.north1", 403),
    ("POST", "/api/v1/events/<event_id>/replay", "/api/v1/events/1/replay", None, "manager.north1", 403),
    ("GET", "/api/v1/instances/<instance_id>", "/api/v1/instances/{instance}", None, "manager.north1", 404),
    ("GET", "/api/v1/instances/<instance_id>/history", "/api/v1/instances/{instance}/history", None,
     "manager.north1", 404),
    ("GET", "/api/v1/instances/<instance_id>/incidents", "/api/v1/instances/{instance}/incidents", None,
     "manager.north1", 404),
    ("POST", "/api/v1/incidents/<incident_id>/retry", "/api/v1/incidents/{incident}/retry", None,
     "manager.north1", 403),
    ("POST", "/api/v1/incidents/<incident_id>/retry", "/api/v1/incidents/{incident}/retry", None, "head.north", 404),
    ("POST", "/api/v1/instances/<instance_id>/cancel", "/api/v1/instances/{instance}/cancel", None,
     "manager.north1", 403),
    ("POST", "/api/v1/instances/<instance_id>/cancel", "/api/v1/instances/{instance}/cancel", None,
     "head.north", 404),
    ("POST", "/api/v1/instances/<instance_id>/retry-now", "/api/v1/instances/{instance}/retry-now", None,
     "manager.north1", 403),
    ("POST", "/api/v1/instances/<instance_id>/retry-now", "/api/v1/instances/{instance}/retry-now", None,
     "head.north", 404),
    ("PATCH", "/api/v1/instances/<instance_id>/variables", "/api/v1/instances/{instance}/variables",
     {"variables": {"a": 1}}, "manager.north1", 403),
    ("PATCH", "/api/v1/instances/<instance_id>/variables", "/api/v1/instances/{instance}/variables",
     {"variables": {"a": 1}}, "head.north", 404),
    ("POST", "/api/v1/instances/bulk", "/api/v1/instances/bulk", {"action": "cancel", "filter": {}},
     "manager.north1", 403),
    ("GET", "/api/v1/leads", "/api/v1/leads", None, "driver1", 403),
    ("POST", "/api/v1/leads", "/api/v1/leads", {"name": "Eve", "phone": "+79161112233"}, "driver1", 403),
    ("GET", "/api/v1/leads/<lead_id>", "/api/v1/leads/1", None, "driver1", 403),
    ("POST", "/api/v1/leads/<lead_id>/status", "/api/v1/leads/1/status", {"status": "junk"}, "driver1", 403),
    ("GET", "/api/v1/notifications", "/api/v1/notifications?user=manager.south1", None, "manager.north1", 403),
    ("POST", "/api/v1/notifications/<notification_id>/read", "/api/v1/notifications/{notification}/read", None,
     "manager.north1", 404),
    ("POST", "/api/v1/pipelines", "/api/v1/pipelines",
     {"code": "p2", "name": "P2", "stages": [{"code": "a", "name": "A"}]}, "manager.north1", 403),
    ("POST", "/api/v1/pipelines/<code>/stages", "/api/v1/pipelines/main/stages", {"code": "x", "name": "X"},
     "manager.north1", 403),
    ("PUT", "/api/v1/pipelines/<code>/gates", "/api/v1/pipelines/main/gates", {"loss_reasons": ["x"]},
     "manager.north1", 403),
    ("POST", "/api/v1/processes", "/api/v1/processes", {"xml": "<x/>"}, "manager.north1", 403),
    ("POST", "/api/v1/decisions", "/api/v1/decisions", {"xml": "<x/>"}, "manager.north1", 403),
    ("POST", "/api/v1/decisions/<key>/evaluate", "/api/v1/decisions/routing/evaluate", {"variables": {}},
     "manager.north1", 403),
    ("POST", "/api/v1/processes/<key>/start", "/api/v1/processes/review/start", {"deal_id": "{deal}"},
     "driver1", 403),
    ("POST", "/api/v1/processes/<key>/start", "/api/v1/processes/review/start", {"deal_id": "{deal}"},
     "manager.north1", 404),
    ("POST", "/api/v1/robots/validate", "/api/v1/robots/validate", {"text": "global\n"}, "manager.north1", 403),
    ("GET", "/api/v1/robots/<scope>", "/api/v1/robots/main", None, "manager.north1", 403),
    ("PUT", "/api/v1/robots/<scope>", "/api/v1/robots/main", {"text": 'pipeline main "Sales"\n'},
     "manager.north1", 403),
    ("POST", "/api/v1/robots/<scope>/edit", "/api/v1/robots/main/edit",
     {"text": 'pipeline main "Sales"\n', "operation": {"op": "remove", "kind": "robot", "stage": "new", "index": 0}},
     "manager.north1", 403),
    ("POST", "/api/v1/robots/<scope>/outline", "/api/v1/robots/main/outline", {"text": 'pipeline main "Sales"\n'},
     "manager.north1", 403),
    ("GET", "/api/v1/robots/<scope>/versions", "/api/v1/robots/main/versions", None, "manager.north1", 403),
    ("GET", "/api/v1/robots/<scope>/diff", "/api/v1/robots/main/diff?from=1&to=1", None, "manager.north1", 403),
    ("POST", "/api/v1/tasks", "/api/v1/tasks", {"title": "x"}, "driver1", 403),
    ("GET", "/api/v1/tasks/<task_id>", "/api/v1/tasks/{task}", None, "driver2", 404),
    ("POST", "/api/v1/tasks/<task_id>/complete", "/api/v1/tasks/{task}/complete", {}, "driver2", 404),
    ("POST", "/api/v1/tasks/<task_id>/complete", "/api/v1/tasks/{task}/complete", {}, "designer", 403),
    ("POST", "/api/v1/tasks/<task_id>/move", "/api/v1/tasks/{task}/move", {"column": "doing"}, "driver2", 404),
    ("POST", "/api/v1/tasks/<task_id>/move", "/api/v1/tasks/{task}/move", {"column": "doing"}, "designer", 403),
    ("POST", "/api/v1/tasks/<task_id>/assign", "/api/v1/tasks/{task}/assign", {"assignee_id": "{south_manager}"},
     "driver1", 403),
    ("POST", "/api/v1/tasks/<task_id>/assign", "/api/v1/tasks/{task}/assign", {"assignee_id": "{south_manager}"},
     "manager.north1", 404),
    ("GET", "/api/v1/tasks/load-sheet", "/api/v1/tasks/load-sheet?driver=driver1&date=2026-01-05", None, "driver2",
     403),
    ("GET", "/api/v1/tasks/delivery-counts",
     "/api/v1/tasks/delivery-counts?since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z", None, "driver1", 403),
    ("POST", "/api/v1/users", "/api/v1/users", {"login": "eve", "name": "Eve"}, "head.north", 403),
    ("POST", "/api/v1/users/<user_id>/presence", "/api/v1/users/{south_manager}/presence", {"present": False},
     "manager.north1", 403),
    ("POST", "/api/v1/auth/tokens", "/api/v1/auth/tokens", {"name": "sneaky", "user_id": "{south_manager}"},
     "manager.north1", 403),
    ("GET", "/api/v1/auth/tokens", "/api/v1/auth/tokens?all_users=true", None, "manager.north1", 403),
    ("DELETE", "/api/v1/auth/tokens/<token_id>", "/api/v1/auth/tokens/{south_token}", None, "manager.north1", 404),
    ("POST", "/api/v1/dsl/check", "/api/v1/dsl/check", {"kind": "expression", "text": "1"}, "manager.north1", 403),
    ("GET", "/api/v1/dsl/vocabulary", "/api/v1/dsl/vocabulary", None, "manager.north1", 403),
    ("POST", "/api/v1/test-runs", "/api/v1/test-runs", {"kind": "process", "process": "review", "deal_id": "{deal}"},
     "head.north", 403),
    ("GET", "/api/v1/test-runs/deal-fields", "/api/v1/test-runs/deal-fields?pipeline=main", None,
     "manager.north1", 403),
    *[(method, f"/api/v1/test-runs/<run_id>{tail}", f"/api/v1/test-runs/1{tail.replace('<task_id>', '1')}", body,
       "manager.north1", 403)
      for method, tail, body in [
          ("GET", "", None), ("DELETE", "", None), ("POST", "/events", {"type": "order.paid", "payload": {}}),
          ("POST", "/advance", {"by": "P1D"}), ("POST", "/tasks/<task_id>/complete", {}),
          ("POST", "/tasks/<task_id>/move", {"column": "problem"}), ("POST", "/move", {"stage": "won"}),
          ("GET", "/log", None), ("GET", "/case", None)]],
]


@pytest.fixture
def world(engine, clock):
    """A deal of the south store with a task, a process waiting on it, an incident and a note."""
    engine.deploy(Bpmn("review").start().user("check", title="Check the deal").end()
                  .chain("start", "check", "end").xml())
    engine.deploy(Bpmn("broken").start().service("tell", "notify").end().chain("start", "tell", "end").xml())
    deal = make_deal(engine, department="store_south", responsible="manager.south1")
    instance = engine.start("review", deal)
    broken = engine.start("broken", deal)
    advance(engine, clock, timedelta(hours=1))
    with engine.unit() as rt:
        crm = rt.crm
        south = crm.user("manager.south1")
        task = crm.create_task(title="Deliver", deal=deal, assignee=crm.user("driver1"), group="logistics",
                               cause=CAUSE)
        notification = crm.notify(south, "for the south", cause=CAUSE)
        incident = rt.session.scalar(select(Incident.id).where(Incident.instance_id == broken.id))
        ids = {"deal": deal, "instance": instance.id, "incident": incident, "task": task.id,
               "notification": notification.id, "south_manager": south.id}
    south_token = token_for(engine, "manager.south1")
    with engine.db.sessions() as session:
        ids["south_token"] = principal_for(session, south_token, clock, kind="token").credential_id
    return ids


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table but the credentials the test itself issues."""
    with engine.db.sessions() as session:
        return {table.name: sorted(map(tuple, session.execute(select(table)).all()), key=repr)
                for table in Base.metadata.sorted_tables if table.name != "credentials"}


def _filled(value, ids):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {key: _filled(item, ids) for key, item in value.items()}
    return value


@pytest.mark.parametrize(("method", "rule", "path", "body", "login", "status"), REFUSALS,
                         ids=[f"{r[0]} {r[2]} as {r[4]}" for r in REFUSALS])
def test_a_user_without_the_right_is_refused_and_nothing_changes(app, engine, world, method, rule, path, body,
                                                                 login, status):
    client = client_of(app, engine, login)
    before = snapshot(engine)
    response = client.open(path.format(**world), method=method, json=_filled(body, world))
    assert response.status_code == status, response.json
    assert response.json["code"] in ({403: ("forbidden",), 404: ()}[status] or (response.json["code"],))
    assert snapshot(engine) == before


def test_every_endpoint_has_a_refusal_or_is_open_to_every_signed_in_user(app):
    refused = {(method, rule) for method, rule, *_ in REFUSALS}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            endpoint = (method, _plain(rule.rule))
            assert endpoint in refused | OPEN_TO_STAFF | PUBLIC, f"no access test for {method} {rule.rule}"


def test_without_credentials_every_endpoint_but_sign_in_answers_401(app, anonymous, engine):
    before = snapshot(engine)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = _example_path(rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, _plain(rule.rule)) in PUBLIC:
                continue
            response = anonymous.open(path, method=method, json={})
            assert response.status_code == 401, f"{method} {path}"
            assert response.json["code"] == "unauthenticated"
    assert snapshot(engine) == before


def test_lists_hold_only_what_the_caller_may_see(app, engine, world):
    north = client_of(app, engine, "manager.north1")
    south = client_of(app, engine, "manager.south1")
    assert world["deal"] not in [d["id"] for d in north.get("/api/v1/deals?per_page=100").json]
    assert world["deal"] in [d["id"] for d in south.get("/api/v1/deals?per_page=100").json]
    assert world["instance"] not in [i["id"] for i in north.get("/api/v1/instances").json]
    assert world["instance"] in [i["id"] for i in south.get("/api/v1/instances").json]
    assert world["task"] not in [t["id"] for t in client_of(app, engine, "driver2").get("/api/v1/tasks").json]
    assert world["task"] in [t["id"] for t in client_of(app, engine, "driver1").get("/api/v1/tasks").json]


def _plain(rule: str) -> str:
    """Flask's `<int(min=1, max=...):deal_id>` as `<deal_id>`, the spelling of the table above."""
    return re.sub(r"<\w+(\([^)]*\))?:([a-z_]+)>", r"<\2>", rule)


def _example_path(rule: str) -> str:
    path = re.sub(r"<int(\([^)]*\))?:[a-z_]+>", "1", rule)
    return re.sub(r"<[^>]+>", "main", path)

