"""Bring a test database to the current schema the way production does."""

from __future__ import annotations

from crm.db import Database


def create_schema(db: Database) -> None:
    # Import every package that declares tables so they are registered on Base.
    from api.migrations import upgrade

    upgrade(db)
