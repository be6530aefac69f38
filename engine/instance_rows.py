"""The process_instances row, written with precompiled Core statements on the hot path.

Saving an instance is the engine's most frequent write: every step of every instance. Through
the ORM's unit of work it cost about as much as the step itself (change tracking, a flush, the
version counter), so the runtime writes the row with three fixed statements instead and keeps
the ORM object in step with what it wrote (`set_committed_value`, `make_transient_to_detached`),
so other code keeps reading `ProcessInstance` objects as before:

- a new instance is INSERTed once, with the state it reached at its first wait (or its end),
  not inserted empty and updated;
- when the start used the cached latest version of its process (engine.Engine.latest_version_id),
  the INSERT carries the check that no newer version exists: a deploy by another process is
  seen at the moment of the insert, at no extra statement, and the start is run again;
- a saved instance is UPDATEd under its revision, as the ORM's version counter did: a writer
  that lost the race gets StaleDataError and is retried (engine.failures.lost_race).

Ids: the runtime needs an instance's id before the insert only when something during the step
uses it (an action, a CRM task of a user task, a wait, a timer, a retry). It then reserves one:
`nextval` on PostgreSQL; on SQLite, whose units hold the write lock from BEGIN IMMEDIATE, one
above the largest id in the table and the ids already reserved in this transaction.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Update, bindparam, exists, func, select, text
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine.models import ProcessInstance, ProcessVersion

TABLE = ProcessInstance.__table__
VERSIONS = ProcessVersion.__table__
#: Every column but the id, in the order they are inserted.
COLUMNS = ("version_id", "key", "deal_id", "status", "state", "derived", "started_by", "started_at",
           "updated_at", "ended_at", "is_sandbox", "revision")
#: What a save changes.
SAVED = ("status", "state", "derived", "updated_at", "ended_at")
_RESERVED = "dealflow.reserved_instance_ids"
_LARGEST = select(func.max(TABLE.c.id))


class StaleLatest(Exception):
    """The cached latest version of a process is no longer the latest (deployed elsewhere)."""


@cache
def _insert(with_id: bool, guarded: bool) -> Insert:
    names = (("id",) if with_id else ()) + COLUMNS
    if not guarded:
        return TABLE.insert().returning(TABLE.c.id)
    newer = exists().where(VERSIONS.c.key == bindparam("key"), VERSIONS.c.version > bindparam("latest_version"))
    still = exists().where(VERSIONS.c.id == bindparam("version_id"), VERSIONS.c.key == bindparam("key"),
                           VERSIONS.c.version == bindparam("latest_version"))
    values = select(*(bindparam(name, type_=TABLE.c[name].type) for name in names)).where(~newer, still)
    return TABLE.insert().from_select([TABLE.c[name] for name in names], values).returning(TABLE.c.id)


@cache
def _update() -> Update:
    return (TABLE.update()
            .where(TABLE.c.id == bindparam("b_id"), TABLE.c.revision == bindparam("b_revision"))
            .values({**{name: bindparam(name, type_=TABLE.c[name].type) for name in SAVED},
                     "revision": TABLE.c.revision + 1}))


def reserve_id(session: Session) -> int:
    """An id no other instance has or will get, before the instance is inserted."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return int(connection.execute(text("SELECT nextval(pg_get_serial_sequence('process_instances', 'id'))"))
                   .scalar_one())
    reserved = _reserved(session)
    # A bare max(id): SQLite answers it from the primary key's b-tree; wrapped (coalesce) it scans.
    largest = connection.execute(_LARGEST).scalar_one()
    new_id = max(largest or 0, max(reserved, default=0)) + 1
    reserved.add(new_id)
    return new_id


def _reserved(session: Session) -> set[int]:
    """The ids reserved in the session's current (outermost) transaction; SQLite only."""
    root = session.get_transaction()
    held = session.info.get(_RESERVED)
    if held is None or held[0] is not root:
        held = (root, set())
        session.info[_RESERVED] = held
    ids: set[int] = held[1]
    return ids


def insert(session: Session, instance: ProcessInstance, latest: tuple[str, int] | None) -> None:
    """INSERT a transient instance with all its columns set; it is then persistent in the session,
    as if loaded. `latest` (key, version): refuse with StaleLatest if a newer version exists."""
    connection = session.connection()
    if instance.id is None and connection.dialect.name == "sqlite" and _reserved(session):
        instance.id = reserve_id(session)  # SQLite would hand out an id reserved by an outer step
    params: dict[str, Any] = {name: getattr(instance, name) for name in COLUMNS}
    if instance.id is not None:
        params["id"] = instance.id
    if latest is not None:
        params["latest_version"] = latest[1]
    row = connection.execute(_insert(instance.id is not None, latest is not None), params).first()
    if row is None:
        raise StaleLatest(latest[0] if latest else "")
    instance.id = row[0]
    make_transient_to_detached(instance)
    session.add(instance)


def update(session: Session, instance: ProcessInstance, values: dict[str, Any]) -> None:
    """UPDATE the saved columns of a persistent instance under its revision."""
    params = {**values, "b_id": instance.id, "b_revision": instance.revision}
    result = session.connection().execute(_update(), params)
    if result.rowcount != 1:
        raise StaleDataError(f"process instance {instance.id} was changed by another transaction "
                             f"(expected revision {instance.revision})")
    for name, value in values.items():
        set_committed_value(instance, name, value)
    set_committed_value(instance, "revision", instance.revision + 1)

