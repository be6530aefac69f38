"""Is a failure worth retrying? One answer for the engine's job retry, robots and triggers.

A failure is one of:

- **transient**: the same work may well succeed in a moment — the database was busy or went
  away (SQLAlchemy `OperationalError`, a dropped connection, a deadlock, a serialization
  failure, a lock or statement timeout), a network timeout, an outgoing HTTP call answered
  5xx or 429. Such work is retried with backoff; an outside event that hits one is rolled
  back whole and answered 503, so the sender's retry with the same key applies it.
- **deterministic**: it fails the same way every time until a person changes something — a
  dsl evaluation error (`deal.down_payment` is empty), refused action input, an action
  calling the author API (`ctx.crm`) wrongly, a refused address, a 4xx answer, a bad value.
  Retrying only hides it: a BPMN step becomes an incident at once, a robot is logged as
  failed once, a trigger rule is recorded as failed.
- **unknown**: anything else (a bug in a custom action, say). Treated like transient by the
  retrying callers — a few attempts with backoff, then an incident — because giving up at
  once on something we cannot judge would turn every hiccup of a custom action into a page.

Exceptions from elsewhere may say which they are with a boolean `transient` attribute (the
outbox's delivery errors do), so this module needs no import from the layers above it.
"""

from __future__ import annotations

import socket
import urllib.error
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError

from crm.errors import CrmError
from dsl import DslError
from engine.action_api import ActionApiError
from engine.actions import ActionInputError

Kind = Literal["transient", "deterministic", "unknown"]

#: SQLSTATE classes and codes of PostgreSQL that mean "the same statement may work in a moment".
TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57")  # connection, rollback, resources, operator intervention
TRANSIENT_SQLSTATES = ("55P03",)  # lock_not_available (lock_timeout, NOWAIT)
#: ... and the subset that means "another writer won a race": run it again at once on fresh data.
CONFLICT_SQLSTATES = ("40001", "40P01")  # serialization failure, deadlock detected

#: UNIQUE keys that concurrent writers race for on purpose: losing the race means "someone
#: else just did it", so the loser runs again and finds the winner's row.
RACE_KEYS = ("uq_deals_order_source_number",)
RACE_KEY_COLUMNS = ("deals.order_source, deals.order_number",)  # how SQLite names the same key


def causes(err: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps: SpiffWorkflow's `.exception`, a DBAPI error's `.orig`, `__cause__`
    (not `__context__`: an error raised while handling another is not caused by it)."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        inner = getattr(current, "exception", None)
        if not isinstance(inner, BaseException):
            inner = getattr(current, "orig", None) if isinstance(current, DBAPIError) else None
        current = inner if isinstance(inner, BaseException) else current.__cause__


def sqlstate(err: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE of a database error (psycopg's `sqlstate`), None elsewhere."""
    orig = err.orig if isinstance(err, DBAPIError) else err
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state if isinstance(state, str) else None


def lost_race(err: BaseException) -> bool:
    """True for a write that lost a race and may simply be run again at once on fresh data: a
    stale version column, a deadlock or serialization failure, a busy SQLite, or the
    loser's insert into one of the `RACE_KEYS` (another worker made the same order's deal)."""
    for error in causes(err):
        if isinstance(error, StaleDataError):
            return True
        if isinstance(error, IntegrityError):
            return _race_key(error)
        if isinstance(error, DBAPIError):
            return sqlstate(error) in CONFLICT_SQLSTATES or "database is locked" in str(error.orig)
    return False


def _race_key(err: IntegrityError) -> bool:
    diag = getattr(err.orig, "diag", None)
    if getattr(diag, "constraint_name", None) in RACE_KEYS:
        return True
    text = str(err.orig)
    return "UNIQUE constraint failed" in text and any(columns in text for columns in RACE_KEY_COLUMNS)


def is_database_transient(err: BaseException) -> bool:
    """A transient failure of the database itself: the whole transaction must be rolled back
    and run again (a savepoint does not help once the connection is gone or the server has
    aborted the transaction), so callers re-raise it instead of recording it."""
    for error in causes(err):
        if lost_race(error):
            return True
        if isinstance(error, DisconnectionError | PoolTimeout):
            return True
        if isinstance(error, DBAPIError):
            if error.connection_invalidated or isinstance(error, OperationalError):
                return True
            state = sqlstate(error)
            return state is not None and (state[:2] in TRANSIENT_SQLSTATE_CLASSES or state in TRANSIENT_SQLSTATES)
    return False


def classify(err: BaseException) -> Kind:
    """transient, deterministic or unknown (see the module docstring); the first error in
    the chain that says decides."""
    if is_database_transient(err):
        return "transient"
    for error in causes(err):
        marked = getattr(error, "transient", None)
        if isinstance(marked, bool):
            return "transient" if marked else "deterministic"
        kind = _kind_of(error)
        if kind is not None:
            return kind
    return "unknown"


def _kind_of(error: BaseException) -> Kind | None:
    if isinstance(error, DslError | ActionInputError | ActionApiError | ValidationError | CrmError | IntegrityError):
        return "deterministic"
    if isinstance(error, urllib.error.HTTPError):
        return "transient" if error.code >= 500 or error.code == 429 else "deterministic"
    status = getattr(getattr(error, "response", None), "status_code", None)  # a client error carrying its answer
    if isinstance(status, int):
        return "transient" if status >= 500 or status == 429 else "deterministic"
    if isinstance(error, socket.timeout | TimeoutError | ConnectionError | urllib.error.URLError):
        return "transient"
    if isinstance(error, ValueError | TypeError | LookupError | ArithmeticError):
        return "deterministic"  # the same value fails the same way next time
    return None


def is_deterministic(err: BaseException) -> bool:
    return classify(err) == "deterministic"


def describe_seen(seen: Mapping[str, Any]) -> str:
    """The values an expression saw, the way a person reads them: "deal.down_payment is empty,
    deal.amount = 45990"."""
    parts = []
    for path, value in seen.items():
        if value is None or value == "":
            parts.append(f"{path} is empty")
        elif isinstance(value, str) and value.startswith("<") and value.endswith(">"):
            parts.append(f"{path}: {value[1:-1]}")
        else:
            parts.append(f"{path} = {value!r}")
    return ", ".join(parts)
