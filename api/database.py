"""Flask-SQLAlchemy in the web layer, over the domain's own declarative base.

The app's engine is made by Flask-SQLAlchemy from the app config (SQLALCHEMY_DATABASE_URI,
SQLALCHEMY_ENGINE_OPTIONS), with the options and per-connection tuning of the engine's own
`Database` (crm.db: SQLite's pragmas and BEGIN, PostgreSQL's pre-ping, a caller's
connect_args such as a lock_timeout), and then handed to that Database, so the server has
one pool. A request's unit of work runs on Flask-SQLAlchemy's per-request session, which its
teardown closes; the domain never sees Flask, and the CLI, the workers and the tests keep
the Database's plain sessions.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from crm.db import Base, Database, tune_engine

EXTENSION_KEY = "sqlalchemy"  # where Flask-SQLAlchemy registers itself in app.extensions


def init_database(app: Flask, database: Database) -> SQLAlchemy:
    """Flask-SQLAlchemy for `app`, on the engine `database` would make; `database` uses it too.

    One extension per app: its sessions are the app's own, and the engine's listeners (the
    live broadcaster among them) are told of them through `Database.adopt_sessions`."""
    app.config.update(SQLALCHEMY_DATABASE_URI=_absolute(database.url),
                      SQLALCHEMY_ENGINE_OPTIONS=database.engine_options())
    extension = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
    extension.init_app(app)
    with app.app_context():
        database.use_engine(tune_engine(extension.engine))
    database.adopt_sessions(extension.session.session_factory)
    return extension


def request_session() -> Session:
    """This request's session (made on first use, closed at the request's teardown)."""
    extension: SQLAlchemy = current_app.extensions[EXTENSION_KEY]
    return extension.session()


def fresh_request_session() -> Session:
    """This request's session, anew: an attempt that lost a race leaves its session behind,
    with whatever its unit had hooked onto it."""
    extension: SQLAlchemy = current_app.extensions[EXTENSION_KEY]
    extension.session.remove()
    return extension.session()


def _absolute(url: str) -> str:
    """The URL with a relative SQLite path made absolute as SQLAlchemy reads it (from the
    working directory); Flask-SQLAlchemy would otherwise put it under the app's instance folder."""
    parsed = make_url(url)
    path = parsed.database
    if (parsed.get_backend_name() != "sqlite" or not path or path == ":memory:" or path.startswith("file:")
            or Path(path).is_absolute()):
        return url
    return parsed.set(database=str(Path(path).resolve())).render_as_string(hide_password=False)
