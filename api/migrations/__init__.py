"""The one Alembic history for every dealflow table, run programmatically.

It lives in `api` because this is the layer that knows every domain package; the domain
packages only declare tables on `crm.db.Base`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from crm.db import Database

HERE = Path(__file__).parent


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(HERE / "versions"))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database to `revision`; safe to run on every start."""
    command.upgrade(alembic_config(db), revision)


def autogenerate(db: Database, message: str, rev_id: str) -> None:
    """Write a new revision from the difference between the models and `db`."""
    command.revision(alembic_config(db), message=message, autogenerate=True, rev_id=rev_id)
