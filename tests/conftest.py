"""Shared fixtures: a real, migrated database on SQLite and on PostgreSQL.

Every test that takes `database` runs twice, once per backend. PostgreSQL tests use a
schema of their own per test session so parallel runs and other databases on the server
are left alone; tables are emptied between tests.

Every test that reaches the PostgreSQL server gets the `postgres` marker here (the
`database[postgresql]` run, anything built on `postgres_schema`, and modules marked by hand
that talk to the server themselves), so `-m "not postgres"` is a run with SQLite alone
(`make test-quick`).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from crm.clock import VirtualClock
from crm.db import Base, Database
from tests.support.schema import create_schema

POSTGRES_URL = os.environ.get(
    "DEALFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database") == "postgresql"
        if on_postgres or "postgres_schema" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    schema = f"dealflow_test_{uuid.uuid4().hex[:10]}"
    admin = Database(POSTGRES_URL)
    with admin.transaction() as session:
        session.execute(text(f'CREATE SCHEMA "{schema}"'))
    url_db = Database(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    create_schema(url_db)
    url_db.dispose()
    yield schema
    with admin.transaction() as session:
        session.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _postgres(schema: str) -> Database:
    db = Database(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.transaction() as session:
        session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return db


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """Migrated once per run; each test gets a copy, which is much faster than migrating again."""
    path = tmp_path_factory.mktemp("template") / "dealflow.sqlite3"
    db = Database(f"sqlite:///{path}")
    create_schema(db)
    db.dispose()
    return path


def _sqlite(tmp_path: Path, template: Path) -> Database:
    path = tmp_path / "dealflow.sqlite3"
    shutil.copyfile(template, path)
    return Database(f"sqlite:///{path}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> Iterator[Database]:
    """A migrated, empty database; the test runs once per backend."""
    if request.param == "sqlite":
        db = _sqlite(tmp_path, request.getfixturevalue("sqlite_template"))
    else:
        db = _postgres(request.getfixturevalue("postgres_schema"))
    yield db
    db.dispose()


@pytest.fixture
def postgres_database(postgres_schema) -> Iterator[Database]:
    """For behaviour only PostgreSQL has (row locks); such tests run on it alone, never skipped."""
    db = _postgres(postgres_schema)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(tmp_path, sqlite_template) -> Iterator[Database]:
    """For tests whose subject does not depend on the backend."""
    db = _sqlite(tmp_path, sqlite_template)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()
