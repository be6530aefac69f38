"""Alembic environment: runs on the engine handed in by `api.migrations`."""

from __future__ import annotations

from alembic import context

from api.migrations.env_options import comparison_options
from api.migrations.models import metadata


def run() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            **comparison_options(),
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
