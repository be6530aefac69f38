"""What every handler needs from the request: the engine, who is acting, one unit of work."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g

from api.database import fresh_request_session, request_session
from crm.events import Cause
from engine.engine import Engine

ENGINE_KEY = "dealflow.engine"


def engine() -> Engine:
    return current_app.extensions[ENGINE_KEY]


def request_cause() -> Cause:
    """Who is acting for this request (api.auth put them in `g`); timelines and histories record it."""
    principal = g.get("principal")
    return Cause.user(principal.id, principal.login) if principal is not None else Cause("user", None, "api")


def unit_of_work(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run the view in ONE transaction handed to it as `rt`, on the request's session
    (Flask-SQLAlchemy's, api.database).

    Placed outside flask-smorest's response decorator, the response is serialized while the
    session is still open (relationships load) and the commit comes after it, so a conflict
    found at commit still becomes a 409 instead of a 200 for a write that never happened.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with engine().unit(request_session()) as rt:
            return view(*args, rt=rt, **kwargs)

    return wrapper


def retrying_unit_of_work(view: Callable[..., Any]) -> Callable[..., Any]:
    """`unit_of_work`, run again in a fresh transaction when it loses a race to another writer
    (engine.failures.lost_race: a deadlock, a serialization failure, the second deal of one
    order), so the loser sees the winner's work instead of failing. For views that are safe
    to repeat: the body is parsed once, everything they wrote rolled back with the loser."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return engine().retrying(lambda rt: view(*args, rt=rt, **kwargs), sessions=fresh_request_session)

    return wrapper
