"""The migrations build exactly the tables the models declare: on a database migrated to head,
Alembic's autogenerate finds nothing to add, drop or alter. A model changed without its
migration (or a migration that drifts from its model) fails here, on both backends, instead of
in production's first `dealflow db upgrade`."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from api.migrations.env_options import comparison_options
from api.migrations.models import metadata


def _differences(database: Any) -> list[Any]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=comparison_options())
        return compare_metadata(context, metadata)


def test_a_migrated_database_matches_the_models(database) -> None:
    assert _differences(database) == []
