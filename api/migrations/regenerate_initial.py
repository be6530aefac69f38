"""Rewrite revision 0001 from the models (only while nothing has been released).

Usage: python -m api.migrations.regenerate_initial
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from api.migrations import HERE, autogenerate
from crm.db import Database


def main() -> None:
    for old in (HERE / "versions").glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'empty.sqlite3'}")
        autogenerate(db, "initial schema", "0001")
        db.dispose()


if __name__ == "__main__":
    main()
