"""The database: one declarative base for every table, and the session factory.

All domain packages (crm, engine, robots, triggers) declare their tables on `Base`, so one
Alembic history (api/migrations) covers them and one transaction can span them. The domain
uses plain SQLAlchemy because it must run the same without Flask: under the CLI, the
scheduler and the tests. The web app (api/database.py) runs Flask-SQLAlchemy over this same
`Base`, builds its engine from `Database.engine_options()`, tunes it with `tune_engine` and
hands it to the Database (`use_engine`), so a server process has one engine and one pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, MetaData, Table, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, registry, sessionmaker
from sqlalchemy.types import TypeDecorator

from crm import json_codec
from crm.clock import as_utc

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use the clock")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    __table__: ClassVar[Table]  # every model maps one Table (DeclarativeBase types it as any FromClause)
    # On the registry rather than as `metadata` / `type_annotation_map` attributes, so a base
    # built over this one (Flask-SQLAlchemy's `model_class=Base`) shares them as they are.
    registry = registry(metadata=MetaData(naming_convention=NAMING),
                        type_annotation_map={datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON})


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling commits at odd moments (a savepoint released before
    # the first write ends the outer transaction); we issue BEGIN ourselves instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """Units of work begin IMMEDIATE: they take the write lock up front, so concurrent units
    queue (busy_timeout) instead of failing when an outdated snapshot tries to write. Plain
    read sessions begin DEFERRED."""
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def engine_options(url: str, **kwargs: Any) -> dict[str, Any]:
    """The `create_engine` arguments dealflow relies on for each backend, with the caller's
    (`connect_args` merged): SQLite's connections cross threads, PostgreSQL's are pinged, and
    JSON columns go through the one codec (crm.json_codec)."""
    kwargs = {"json_serializer": json_codec.dumps, "json_deserializer": json_codec.loads, **kwargs}
    if url.startswith("sqlite"):
        return {**kwargs, "connect_args": {"check_same_thread": False, **kwargs.get("connect_args", {})}}
    return {"pool_pre_ping": True, **kwargs}


def tune_engine(engine: Engine) -> Engine:
    """Give an engine dealflow's per-connection settings (on SQLite: the pragmas and our own
    BEGIN); call it before the engine's first connection."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings dealflow relies on for each backend."""
    return tune_engine(create_engine(url, **engine_options(url, **kwargs)))


class Database:
    """Owns the engine and hands out sessions; every unit of work is one transaction."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self._engine_kwargs = engine_kwargs
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._unit_sessions = sessionmaker(
            self.engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
        )
        self._adopted: list[sessionmaker[Any]] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def engine_options(self) -> dict[str, Any]:
        """What `create_engine` needs, besides the URL, to make an engine like this one (the
        backend's settings and the caller's, e.g. `connect_args` with a lock_timeout)."""
        return engine_options(self.url, **self._engine_kwargs)

    def use_engine(self, engine: Engine) -> None:
        """Hand this database's sessions to `engine`, made elsewhere from `engine_options()`
        and tuned with `tune_engine` (the web app's, by Flask-SQLAlchemy), and close its own:
        everything in the process then shares one pool. The session factories stay the same
        objects, so listeners installed on them keep hearing every session."""
        previous, self.engine = self.engine, engine
        self.sessions.configure(bind=engine)
        self._unit_sessions.configure(bind=engine.execution_options(sqlite_begin="IMMEDIATE"))
        if previous is not engine:
            previous.dispose()

    def adopt_sessions(self, factory: sessionmaker[Any]) -> None:
        """Count `factory`'s sessions among this database's (`session_makers`): the web app's
        per-request sessions, which its units of work run on."""
        if factory not in self._adopted:
            self._adopted.append(factory)

    @contextmanager
    def transaction(self, session: Session | None = None) -> Iterator[Session]:
        """Commit everything done in the block at once, or nothing if it raises.

        On `session` when given (one its owner closes, the web app's per-request session),
        begun the way units begin (IMMEDIATE on SQLite); else on a session of its own."""
        if session is None:
            with self._unit_sessions() as session, session.begin():
                yield session
            return
        with session.begin():
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            yield session

    @property
    def session_makers(self) -> tuple[sessionmaker[Any], ...]:
        """Every factory of this database's sessions, for listeners that must see them all."""
        return (self.sessions, self._unit_sessions, *self._adopted)

    def dispose(self) -> None:
        self.engine.dispose()

    def reopen(self) -> Database:
        """A new Database on the same URL and settings, as another process would open it."""
        return Database(self.url, **self._engine_kwargs)
