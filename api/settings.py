"""Configuration from environment variables; every one is listed in the README."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'var' / 'dealflow.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_database_url)
    host: str = "127.0.0.1"
    port: int = 5000
    scheduler_interval: float = 1.0
    secret_key: str = "dev-only-change-me"
    templates_dir: Path = ROOT / "bpmn"
    load_demo: bool = True
    # Several server processes share live updates through this Redis (socket.io message queue).
    redis_url: str | None = None
    # `dealflow run` runs the job loop too unless dedicated `dealflow worker` processes do it.
    run_jobs: bool = True
    # Jobs (and outbox messages) a worker claims at once, and how long a claim holds before
    # another worker may take the work over (the claimer died).
    job_batch: int = 100
    job_lease: float = 60.0

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        defaults = cls()
        return cls(
            database_url=env.get("DEALFLOW_DATABASE_URL", defaults.database_url),
            host=env.get("DEALFLOW_HOST", defaults.host),
            port=int(env.get("DEALFLOW_PORT", defaults.port)),
            scheduler_interval=float(env.get("DEALFLOW_SCHEDULER_INTERVAL", defaults.scheduler_interval)),
            secret_key=env.get("DEALFLOW_SECRET_KEY", defaults.secret_key),
            templates_dir=Path(env.get("DEALFLOW_TEMPLATES_DIR", defaults.templates_dir)),
            load_demo=env.get("DEALFLOW_DEMO", "1") not in ("0", "false", "no"),
            redis_url=env.get("DEALFLOW_REDIS_URL") or None,
            run_jobs=env.get("DEALFLOW_RUN_JOBS", "1") not in ("0", "false", "no"),
            job_batch=int(env.get("DEALFLOW_JOB_BATCH", defaults.job_batch)),
            job_lease=float(env.get("DEALFLOW_JOB_LEASE", defaults.job_lease)),
        )
