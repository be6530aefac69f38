"""What every benchmark shares: percentiles, a scratch PostgreSQL schema, JSON results, the machine.

Each bench prints its own table and, with `--json PATH`, also writes its figures there, so
`bench/report.py` can run them all and render docs/benchmarks.md from measured numbers only.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

# Import this module before any dealflow package: a script run as `python bench/x.py` has bench/
# first on sys.path, where bench/api.py would shadow the `api` package.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
elif sys.path[0] != str(ROOT):
    sys.path.remove(str(ROOT))
    sys.path.insert(0, str(ROOT))

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; with 200 samples p99 is the second slowest, not an interpolation."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def latency_ms(values: list[float]) -> dict[str, float]:
    """Median and p99 of durations in seconds, in milliseconds."""
    return {"median_ms": statistics.median(values) * 1000, "p99_ms": percentile(values, 99) * 1000}


def write_json(path: str | None, results: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


@contextmanager
def postgres_schema(url: str, prefix: str = "dealflow_bench") -> Iterator[str]:
    """A URL whose connections use a fresh schema of their own; the schema is dropped afterwards.

    The search_path travels in the URL (not only in connect_args) so that a server or worker
    started as a separate process with DEALFLOW_DATABASE_URL lands in the same schema."""
    from sqlalchemy import text

    from crm.db import Database

    schema = f"{prefix}_{time.monotonic_ns()}"
    admin = Database(url)
    with admin.transaction() as session:
        session.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.transaction() as session:
            session.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def machine(postgres_url: str | None = None) -> dict[str, Any]:
    """The machine the figures were measured on, read at run time."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(), "cores": os.cpu_count(), "ram_gib": _ram_gib(),
        "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "load_average": os.getloadavg(),
    }
    if postgres_url:
        from sqlalchemy import text

        from crm.db import Database

        try:
            db = Database(postgres_url)
            with db.transaction() as session:
                info["postgres"] = session.scalar(text("SHOW server_version"))
            db.dispose()
        except Exception as err:  # the report still renders; it says why the version is missing
            info["postgres"] = f"unavailable ({type(err).__name__})"
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def rss_mib() -> float:
    """This process's resident memory now."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def bulk_deals(engine: Any, count: int, title: str) -> list[int]:
    """Deals inserted directly on main.new (set-up, not measured); their ids."""
    from sqlalchemy import func, insert, select

    from crm.models import Deal

    with engine.unit() as rt:
        new = rt.crm.stage("main.new")
        responsible = rt.crm.user("manager.north1").id
        now = rt.clock.now()
        first = (rt.session.scalar(select(func.max(Deal.id))) or 0) + 1
        rows = [{"title": f"{title} {n}", "amount": 1000, "currency": "RUB", "pipeline_id": new.pipeline_id,
                 "stage_id": new.id, "responsible_id": responsible, "products": [], "fields": {},
                 "created_at": now, "updated_at": now, "stage_entered_at": now, "is_sandbox": False,
                 "version": 1} for n in range(count)]
        for start in range(0, count, 5000):
            rt.session.execute(insert(Deal), rows[start:start + 5000])
        return list(range(first, first + count))
