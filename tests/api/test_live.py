"""Live updates: committed changes reach subscribed socket.io clients, rolled-back ones never do."""

from __future__ import annotations

import pytest

from crm.events import Cause
from tests.support.auth import token_for
from tests.support.world import make_deal

CAUSE = Cause("user", None, "test")


@pytest.fixture
def database(sqlite_database):
    """In-process socket.io needs no second backend; the two-process test runs on PostgreSQL."""
    return sqlite_database


def connect(app, engine, login: str):
    return app.extensions["dealflow.socketio"].test_client(app, auth={"token": token_for(engine, login)})


@pytest.fixture
def socket(app, engine):
    client = connect(app, engine, "admin")
    yield client
    client.disconnect()


def _events(client, name: str) -> list[dict]:
    return [message["args"][0] for message in client.get_received() if message["name"] == name]


def _move(engine, deal_id: int, stage: str) -> None:
    with engine.unit() as rt:
        rt.crm.move_deal(rt.crm.deal(deal_id), stage, cause=CAUSE)


def test_a_subscriber_hears_a_committed_stage_move(engine, socket):
    deal_id = make_deal(engine)
    assert socket.emit("subscribe", {"room": f"deal:{deal_id}"}, callback=True) == {
        "ok": True, "room": f"deal:{deal_id}"}
    socket.get_received()
    _move(engine, deal_id, "main.in_processing")
    [moved] = _events(socket, "deal.moved")
    assert moved["deal_id"] == deal_id
    assert (moved["from"]["pipeline"], moved["from"]["stage"]) == ("main", "new")
    assert (moved["to"]["pipeline"], moved["to"]["stage"]) == ("main", "in_processing")
    assert moved["cause"]["label"] == "test"


def test_the_pipeline_room_hears_moves_and_new_deals_but_another_deal_room_does_not(engine, app, socket):
    other = connect(app, engine, "admin")
    deal_id = make_deal(engine)
    socket.emit("subscribe", {"room": "pipeline:main"})
    other.emit("subscribe", {"room": f"deal:{deal_id + 1000}"})
    second = make_deal(engine, title="Fridge")
    _move(engine, deal_id, "main.in_processing")
    received = socket.get_received()
    assert [m["name"] for m in received if m["name"].startswith("deal.")] == ["deal.created", "deal.moved"]
    assert received[0]["args"][0]["deal_id"] == second
    assert _events(other, "deal.moved") == []
    other.disconnect()


def test_a_rolled_back_move_is_never_announced(engine, socket):
    deal_id = make_deal(engine)
    socket.emit("subscribe", {"room": f"deal:{deal_id}"})
    with pytest.raises(RuntimeError), engine.unit() as rt:
        rt.crm.move_deal(rt.crm.deal(deal_id), "main.in_processing", cause=CAUSE)
        rt.session.flush()
        raise RuntimeError("changed my mind")
    assert _events(socket, "deal.moved") == []
    _move(engine, deal_id, "main.in_processing")  # the next commit does not carry the dropped one along
    assert [m["to"]["stage"] for m in _events(socket, "deal.moved")] == ["in_processing"]


def test_a_rolled_back_savepoint_drops_only_its_own_announcements(engine, socket):
    deal_id = make_deal(engine)
    socket.emit("subscribe", {"room": f"deal:{deal_id}"})
    with engine.unit() as rt:
        deal = rt.crm.deal(deal_id)
        rt.crm.move_deal(deal, "main.in_processing", cause=CAUSE)
        with pytest.raises(RuntimeError), rt.session.begin_nested():
            rt.crm.move_deal(deal, "main.new", cause=CAUSE)
            raise RuntimeError("robot failed")
        rt.session.refresh(deal)
    assert [m["to"]["stage"] for m in _events(socket, "deal.moved")] == ["in_processing"]


def test_unsubscribing_stops_the_updates(engine, socket):
    deal_id = make_deal(engine)
    socket.emit("subscribe", {"room": f"deal:{deal_id}"})
    assert socket.emit("unsubscribe", {"room": f"deal:{deal_id}"}, callback=True)["ok"] is True
    _move(engine, deal_id, "main.in_processing")
    assert _events(socket, "deal.moved") == []


@pytest.mark.parametrize("message", [{"room": "deals:1"}, {"room": "deal:abc"}, {"room": "deal:1; drop"},
                                     {}, "nonsense", None, {"room": 12}])
def test_a_bad_room_gets_an_error_event_not_an_exception(socket, message):
    reply = socket.emit("subscribe", message, callback=True)
    assert reply == {"ok": False}
    [error] = _events(socket, "error")
    assert error["code"] == "bad_room" and error["action"] == "subscribe"
    assert socket.is_connected()


def test_a_client_without_credentials_cannot_connect(app):
    stranger = app.extensions["dealflow.socketio"].test_client(app, auth={"token": "made-up"})
    assert not stranger.is_connected()
    assert not app.extensions["dealflow.socketio"].test_client(app).is_connected()


def test_a_signed_in_browser_connects_with_its_session_cookie(app):
    browser = app.test_client()
    assert browser.post("/api/v1/auth/login", json={"login": "manager.north1", "password": "demo"}).status_code == 200
    socket = app.extensions["dealflow.socketio"].test_client(app, flask_test_client=browser)
    assert socket.is_connected()
    socket.disconnect()


def test_a_manager_watches_their_stores_deals_and_own_feed_only(app, engine):
    own = make_deal(engine, department="store_north")
    other = make_deal(engine, department="store_south", responsible="manager.south1")
    manager = connect(app, engine, "manager.north1")
    with engine.unit() as rt:
        me, colleague = rt.crm.user("manager.north1").id, rt.crm.user("manager.south1").id
    allowed = [f"deal:{own}", f"feed:{me}"]
    refused = [f"deal:{other}", f"feed:{colleague}", "pipeline:main", "test-run:1", "deal:999999"]
    for room in allowed:
        assert manager.emit("subscribe", {"room": room}, callback=True)["ok"] is True, room
    for room in refused:
        assert manager.emit("subscribe", {"room": room}, callback=True) == {"ok": False}, room
    assert [e["code"] for e in _events(manager, "error")] == ["forbidden"] * len(refused)
    _move(engine, other, "main.in_processing")
    assert _events(manager, "deal.moved") == []
    manager.disconnect()


ROBOTS = '''pipeline main "Sales"

stage in_processing:
  robot "welcome" immediately:
    notify(text: "New deal {deal.title}")
  robot "call back" after 2d:
    create_task(title: "Call the client about {deal.title}", to: deal.responsible)
'''


def test_robot_outcomes_and_notifications_reach_the_deal_and_the_feed(engine, app, socket):
    from tests.support.automation import save

    save(engine, "main", ROBOTS)
    deal_id = make_deal(engine)
    with engine.unit() as rt:
        responsible = rt.crm.deal(deal_id).responsible_id
    feed = connect(app, engine, "manager.north1")
    socket.emit("subscribe", {"room": f"deal:{deal_id}"})
    feed.emit("subscribe", {"room": f"feed:{responsible}"})
    _move(engine, deal_id, "main.in_processing")
    lines = [(line["key"], line["outcome"]) for line in _events(socket, "robot.log")]
    assert ("welcome", "ran") in lines and ("call-back", "scheduled") in lines
    [note] = _events(feed, "notification")
    assert note["text"] == "New deal Washing machine" and note["deal_id"] == deal_id
    feed.disconnect()


def test_instance_steps_tasks_and_incidents_reach_the_instance_room(engine, socket, clock):

    from tests.support.bpmn import Bpmn

    engine.deploy(Bpmn("review").start().user("check", title="Check the deal").end()
                  .chain("start", "check", "end").xml())
    engine.deploy(Bpmn("broken").start().service("tell", "notify").end().chain("start", "tell", "end").xml())
    deal_id = make_deal(engine)
    socket.emit("subscribe", {"room": f"deal:{deal_id}"})
    instance = engine.start("review", deal_id)
    received = socket.get_received()
    steps = [m["args"][0] for m in received if m["name"] == "instance.step"]
    assert {step["instance_id"] for step in steps} == {instance.id}
    assert ("start", "completed") in {(step["element_id"], step["outcome"]) for step in steps}
    assert any(m["name"] == "task.changed" and m["args"][0]["change"] == "created" for m in received)

    # `notify` without its parameters is refused input: an incident at once (no retries), which
    # reaches the deal's room with the instance's.
    broken = engine.start("broken", deal_id)
    [incident] = _events(socket, "instance.incident")
    assert incident["instance_id"] == broken.id and incident["status"] == "open"


def test_a_group_board_hears_its_new_and_moved_cards_and_only_its_people_may_watch_it(app, engine):
    """The logistics board updates without a reload (S3): a delivery task created anywhere
    reaches `tasks:logistics`; a driver or a manager may not watch the whole group."""
    logist = connect(app, engine, "logist1")
    assert logist.emit("subscribe", {"room": "tasks:logistics"}, callback=True)["ok"] is True
    assert logist.emit("subscribe", {"room": "tasks:purchasing"}, callback=True) == {"ok": False}
    for login in ("driver1", "manager.north1"):
        other = connect(app, engine, login)
        assert other.emit("subscribe", {"room": "tasks:logistics"}, callback=True) == {"ok": False}, login
        other.disconnect()
    deal_id = make_deal(engine)
    with engine.unit() as rt:
        task = rt.crm.create_task(title="Deliver", deal=deal_id, group="logistics", cause=CAUSE)
        rt.crm.create_task(title="Buy", deal=deal_id, group="purchasing", cause=CAUSE)
        task_id = task.id
    with engine.unit() as rt:
        rt.crm.move_task(rt.crm.task(task_id), "problem", cause=CAUSE)
    changes = [(e["task_id"], e["change"], e["column"], e["group"]) for e in _events(logist, "task.changed")]
    assert changes == [(task_id, "created", "new", "logistics"), (task_id, "moved", "problem", "logistics")]
    logist.disconnect()


def test_socketio_accepts_the_servers_own_origin_on_any_host_and_port_and_refuses_others():
    from api.live import allowed_origin

    served = {"wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:43117"}
    assert allowed_origin("http://127.0.0.1:43117", served)  # the designer the server itself serves
    assert allowed_origin("http://localhost:5173", served)  # Vite's dev server
    assert not allowed_origin("http://evil.example", served)
    assert not allowed_origin("http://127.0.0.1:43118", served)
    proxied = {**served, "HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "crm.example.com"}
    assert allowed_origin("https://crm.example.com", proxied)  # behind a load balancer
    assert not allowed_origin("https://crm.example.com", served)


def test_a_deal_coming_into_a_managers_view_reaches_their_feed_and_nobody_who_may_not_see_it(app, engine):
    """Store staff cannot watch a whole pipeline, so their boards hear of a deal entering their
    view in their feed: a new deal of their store, and another store's deal once it is shipped
    (S9); a south manager hears nothing of a north deal before then."""
    with engine.unit() as rt:
        north_id, south_id = rt.crm.user("manager.north1").id, rt.crm.user("manager.south1").id
    north, south = connect(app, engine, "manager.north1"), connect(app, engine, "manager.south1")
    north.emit("subscribe", {"room": f"feed:{north_id}"})
    south.emit("subscribe", {"room": f"feed:{south_id}"})
    deal_id = make_deal(engine, department="store_north", responsible=None)
    assert [e["deal_id"] for e in _events(north, "deal.created")] == [deal_id]
    _move(engine, deal_id, "main.in_processing")
    assert [e["deal_id"] for e in _events(north, "deal.moved")] == [deal_id]
    assert south.get_received() == []
    _move(engine, deal_id, "main.shipped")
    [shipped] = _events(south, "deal.moved")
    assert (shipped["deal_id"], shipped["to"]["stage"]) == (deal_id, "shipped")
    north.disconnect()
    south.disconnect()
