"""engine.failures sorts real errors — provoked on a real PostgreSQL, a real evaluator, real
HTTP error objects — into transient, deterministic and unknown."""

from __future__ import annotations

import io
import urllib.error

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from dsl import DslError, compile_expression
from engine.actions import ActionInputError
from engine.failures import classify, describe_seen, is_database_transient, lost_race


def _error_of(db, *statements: str) -> DBAPIError:
    with pytest.raises(DBAPIError) as caught, db.engine.connect() as connection, connection.begin():
        for statement in statements:
            connection.execute(text(statement))
    return caught.value


def test_lock_and_statement_timeouts_and_a_killed_connection_are_transient(postgres_database):
    db = postgres_database
    with db.engine.connect() as holder, holder.begin():
        holder.execute(text("LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE"))
        lock_timeout = _error_of(db, "SET LOCAL lock_timeout = '50ms'", "SELECT count(*) FROM contacts")
    statement_timeout = _error_of(db, "SET LOCAL statement_timeout = '50ms'", "SELECT pg_sleep(1)")
    killed = _error_of(db, "SELECT pg_terminate_backend(pg_backend_pid())")
    for err in (lock_timeout, statement_timeout, killed):
        assert is_database_transient(err) and classify(err) == "transient", err
        assert not lost_race(err)


def test_a_unique_violation_is_deterministic_unless_it_is_a_race_key(postgres_database):
    db = postgres_database
    taken = _error_of(db, "INSERT INTO departments (code, name) VALUES ('x', 'X')",
                      "INSERT INTO departments (code, name) VALUES ('x', 'X')")
    assert isinstance(taken, IntegrityError)
    assert classify(taken) == "deterministic" and not lost_race(taken)


def test_dsl_errors_refused_input_and_4xx_are_deterministic_5xx_and_network_errors_transient():
    with pytest.raises(DslError) as dsl:
        compile_expression("deal.down_payment * 2").evaluate({"deal": {"down_payment": None}}, None)
    assert classify(dsl.value) == "deterministic"
    assert classify(ActionInputError("no phone")) == "deterministic"

    def http(code: int) -> urllib.error.HTTPError:
        return urllib.error.HTTPError("http://erp.example/hook", code, "x", {}, io.BytesIO())  # type: ignore[arg-type]

    assert classify(http(404)) == "deterministic" and classify(http(503)) == "transient"
    assert classify(http(429)) == "transient"
    assert classify(ConnectionResetError("reset")) == "transient" and classify(TimeoutError()) == "transient"
    wrapped = RuntimeError("step failed")
    wrapped.__cause__ = dsl.value
    assert classify(wrapped) == "deterministic"
    assert classify(RuntimeError("who knows")) == "unknown"


def test_the_values_an_expression_saw_read_as_a_person_would():
    assert describe_seen({"deal.down_payment": None, "deal.amount": 45990}) == \
        "deal.down_payment is empty, deal.amount = 45990"
