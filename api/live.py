"""Live updates, transport side: a socket.io server that pushes committed changes to rooms.

Clients `subscribe` to a room (``deal:12``, ``pipeline:main``, ``instance:7``, ``test-run:3``,
``feed:5``, ``tasks:logistics``) and then receive what `engine.broadcast` hands out after each commit. With
`DEALFLOW_REDIS_URL` set, every server process publishes through one Redis message queue,
so a client connected to one process hears about changes made through any other.
Emits go through the `SocketIO` object, not a request's socket, so they also work from the
job loop's thread.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import SocketIO, emit, join_room, leave_room
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import principal_for_token, principal_from_request
from api.settings import Settings
from crm import access
from crm.auth import Principal
from crm.models import Deal
from engine.broadcast import Broadcast, broadcaster_for, feed_room
from engine.engine import Engine
from engine.models import ProcessInstance
from robots.log import broadcast_of
from robots.models import AutomationLogEntry

ROOM = re.compile(r"^(deal|instance|test-run|feed):[1-9][0-9]{0,17}$|^pipeline:[A-Za-z0-9_.-]{1,64}$"
                  r"|^tasks:[a-z][a-z0-9_]{0,63}$")
LOCAL_ORIGINS = [f"{scheme}://{host}{port}" for scheme in ("http", "https")
                 for host in ("localhost", "127.0.0.1") for port in ("", ":3000", ":5000", ":5173", ":8080")]


def allowed_origin(origin: str, environ: dict[str, Any]) -> bool:
    """Whether a socket.io request from a page at `origin` is accepted: the server's own origin
    (the designer it serves, on whatever host and port it answers, also as a proxy in front
    names it) and the local development servers (Vite's and the like)."""
    if origin in LOCAL_ORIGINS:
        return True
    host = environ.get("HTTP_HOST")
    if not host:
        return False
    own = {f"{environ.get('wsgi.url_scheme', 'http')}://{host}"}
    forwarded_proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip()
    forwarded_host = environ.get("HTTP_X_FORWARDED_HOST", "").split(",")[0].strip()
    if forwarded_proto or forwarded_host:
        own.add(f"{forwarded_proto or environ.get('wsgi.url_scheme', 'http')}://{forwarded_host or host}")
    return origin in own


def may_subscribe(session: Session, user: Principal, room: str) -> bool:
    """Whether `user` may watch `room`; the one place subscriptions are authorized.

    A room carries what its REST twin would show, so it follows the same rules: a deal or an
    instance as its deal is visible (crm/access.py, S9), the pipeline room (every deal of a
    pipeline) only for those who see every deal, test runs for those who may run the test
    bench, a feed for its own user only, and a task group's board (``tasks:logistics``) for
    those who may list that group's every task.
    """
    kind, _, ref = room.partition(":")
    if kind == "tasks":
        return access.can_watch_board(user, ref)
    if kind == "feed":
        return int(ref) == user.id
    if kind == "test-run":
        from api.blueprints.test_runs import may_use  # the bench lives with its blueprint

        return may_use(user, int(ref))
    if kind == "pipeline":
        return access.sees_every_deal(user)
    deal_id = int(ref) if kind == "deal" else session.scalar(
        select(ProcessInstance.deal_id).where(ProcessInstance.id == int(ref)))
    deal = session.get(Deal, deal_id) if deal_id is not None else None
    if deal is None:
        return kind == "instance" and access.sees_every_deal(user) and deal_id is None
    return access.can_see_deal(user, deal)


def tell_user(user_id: int, event: str, payload: dict[str, Any]) -> None:
    """Push `event` to one person's own room (``feed:<user id>``, which only they may watch) at
    once, not after a commit: how far a long request of theirs has got while it still runs (a
    bulk operation commits instance by instance, and its answer comes only at the end)."""
    socketio = current_app.extensions.get("dealflow.socketio")
    if socketio is not None:
        socketio.emit(event, payload, to=feed_room(user_id))


def parse_room(data: Any) -> str | None:
    """The room named in a subscribe/unsubscribe message, or None if it is not one we know."""
    room = data.get("room") if isinstance(data, dict) else data
    if isinstance(room, str) and ROOM.match(room):
        return room
    return None


def init_live(app: Flask, engine: Engine, settings: Settings) -> SocketIO:
    """Attach the socket.io server to `app` and announce the engine's commits through it."""
    socketio = SocketIO(app, message_queue=settings.redis_url or None, async_mode="threading",
                        # python-socketio takes a callable here; the Flask-SocketIO stubs allow only str or list.
                        cors_allowed_origins=allowed_origin)  # type: ignore[arg-type]
    app.extensions["dealflow.socketio"] = socketio
    broadcaster = broadcaster_for(engine)
    broadcaster.on_row(AutomationLogEntry, broadcast_of)

    def send(item: Broadcast) -> None:
        # python-socketio takes a list of rooms; the Flask-SocketIO stubs allow only one.
        socketio.emit(item.event, item.payload, to=list(item.rooms))  # type: ignore[arg-type]

    broadcaster.add_sink(send)
    _register_handlers(socketio, engine)
    return socketio


def _register_handlers(socketio: SocketIO, engine: Engine) -> None:
    connected: dict[str, Principal] = {}

    @socketio.on("connect")
    def connect(auth: Any = None) -> None:
        """The cookie of a signed-in browser, or `auth: {"token": ...}` from any other client."""
        token = auth.get("token") if isinstance(auth, dict) else None
        principal = principal_for_token(token) if isinstance(token, str) else principal_from_request()
        if principal is None:
            raise ConnectionRefusedError({"code": "unauthenticated", "message": "sign in or pass auth.token"})
        connected[request.sid] = principal  # type: ignore[attr-defined]

    @socketio.on("disconnect")
    def disconnect(*_: Any) -> None:
        connected.pop(request.sid, None)  # type: ignore[attr-defined]

    def checked_room(data: Any, action: str) -> str | None:
        room = parse_room(data)
        if room is None:
            _error(action, "bad_room", data)
            return None
        principal = connected.get(request.sid)  # type: ignore[attr-defined]
        with engine.db.sessions() as session:
            allowed = principal is not None and may_subscribe(session, principal, room)
        if not allowed:
            _error(action, "forbidden", data)
            return None
        return room

    @socketio.on("subscribe")
    def subscribe(data: Any) -> dict[str, Any]:
        room = checked_room(data, "subscribe")
        if room is None:
            return {"ok": False}
        join_room(room)
        return {"ok": True, "room": room}

    @socketio.on("unsubscribe")
    def unsubscribe(data: Any) -> dict[str, Any]:
        room = parse_room(data)
        if room is None:
            _error("unsubscribe", "bad_room", data)
            return {"ok": False}
        leave_room(room)
        return {"ok": True, "room": room}


def _error(action: str, code: str, data: Any) -> None:
    """Tell only the sender what was wrong; a bad message never raises in the server."""
    room = data.get("room") if isinstance(data, dict) else data
    messages = {"bad_room": "room must look like deal:<id>, pipeline:<code>, instance:<id>, "
                            "test-run:<id>, feed:<user id> or tasks:<group>",
                "forbidden": "you may not watch this room"}
    emit("error", {"action": action, "code": code, "room": room if isinstance(room, str) else None,
                   "message": messages[code]}, to=request.sid)  # type: ignore[attr-defined]
