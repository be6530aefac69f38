"""The SQL statements a block sends, for the specifications and benches that count them.

Statement counts are what the speed work of issue 14 is measured by where timings are too noisy
to trust: they do not depend on the machine's load.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event


@contextmanager
def statements_sent(sa_engine: Any) -> Iterator[list[str]]:
    """Every statement sent while the block runs, whitespace folded (BEGIN included, COMMIT not:
    the drivers commit without a statement; an executemany counts once)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(sa_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(sa_engine, "before_cursor_execute", record)
