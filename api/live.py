"""Live updates, transport side: a socket.io server that pushes committed changes to rooms.

Clients `subscribe` to a room (``deal:12``, ``pipeline:main``, ``instance:7``, ``test-run:3``,
``feed:5``) and then receive what `engine.broadcast` hands out after each commit. With
`DEALFLOW_REDIS_URL` set, every server process publishes through one Redis message queue,
so a client connected to one process hears about changes made through any other.
Emits go through the `SocketIO` object, not a request's socket, so they also work from the
job loop's thread.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request
from flask_socketio import SocketIO, emit, join_room, leave_room
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import principal_for_token, principal_from_request
from api.settings import Settings
from crm import access
from crm.auth import Principal
from crm.models import Deal
from engine.broadcast import Broadcast, broadcaster_for
from engine.engine import Engine
from engine.models import ProcessInstance
from robots.log import broadcast_of
from robots.models import AutomationLogEntry

ROOM = re.compile(r"^(deal|instance|test-run|feed):[1-9][0-9]{0,17}$|^pipeline:[A-Za-z0-9_.-]{1,64}$")
LOCAL_ORIGINS = [f"{scheme}://{host}{port}" for scheme in ("http", "https")
                 for host in ("localhost", "127.0.0.1") for port in ("", ":3000", ":5000", ":5173", ":8080")]


def may_subscribe(session: Session, user: Principal, room: str) -> bool:
    """Whether `user` may watch `room`; the one place subscriptions are authorized.

    A room carries what its REST twin would show, so it follows the same rules: a deal or an
    instance as its deal is visible (crm/access.py, S9), the pipeline room (every deal of a
    pipeline) only for those who see every deal, test runs for those who may run the test
    bench, and a feed for its own user only.
    """
    kind, _, ref = room.partition(":")
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


def parse_room(data: Any) -> str | None:
    """The room named in a subscribe/unsubscribe message, or None if it is not one we know."""
    room = data.get("room") if isinstance(data, dict) else data
    if isinstance(room, str) and ROOM.match(room):
        return room
    return None


def init_live(app: Flask, engine: Engine, settings: Settings) -> SocketIO:
    """Attach the socket.io server to `app` and announce the engine's commits through it."""
    # The server's own address too: served on another port than the usual ones (DEALFLOW_PORT,
    # the browser tests' random port), the designer's own page was refused its live updates.
    own = [f"http://{host}:{settings.port}" for host in dict.fromkeys((settings.host, "127.0.0.1", "localhost"))]
    socketio = SocketIO(app, message_queue=settings.redis_url or None, async_mode="threading",
                        cors_allowed_origins=[*LOCAL_ORIGINS, *own])
    app.extensions["dealflow.socketio"] = socketio
    broadcaster = broadcaster_for(engine)
    broadcaster.on_row(AutomationLogEntry, broadcast_of)

    def send(item: Broadcast) -> None:
        socketio.emit(item.event, item.payload, to=list(item.rooms))

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
                            "test-run:<id> or feed:<user id>",
                "forbidden": "you may not watch this room"}
    emit("error", {"action": action, "code": code, "room": room if isinstance(room, str) else None,
                   "message": messages[code]}, to=request.sid)  # type: ignore[attr-defined]
