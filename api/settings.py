"""Configuration from environment variables; every one is listed in the README."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from engine.bpmn import MAX_BYTES as BPMN_MAX_BYTES
from engine.engine import DEFAULT_STEP_BUDGET, DEFAULT_STEP_SECONDS
from engine.retry import JOB_RETRY, OUTBOX_RETRY, RetryPolicy
from robots.actions.addresses import ALLOW_ENV
from robots.actions.custom import MODULES_ENV
from robots.actions.transports import TRANSPORT_VARIABLES
from triggers.signatures import DEFAULT_TOLERANCE, TOLERANCE_VARIABLE, source_secrets

ROOT = Path(__file__).resolve().parent.parent
DESIGNER_DIST = ROOT / "designer" / "dist"

# A request body (4 MiB) holds the largest BPMN file the engine accepts (2 MiB) sent as
# application/xml, and the longest text a JSON field takes (api/schemas/automation.MAX_TEXT
# characters, even escaped as \uXXXX), so those limits answer first with their own reasons;
# anything larger is a 413 before any of it is parsed. Derived from the BPMN limit so the two
# cannot drift apart.
DEFAULT_MAX_BODY_BYTES = 2 * BPMN_MAX_BYTES


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
    # Behind HTTPS, session cookies must be marked Secure so they never travel in clear text.
    secure_cookies: bool = False
    # Largest request body in bytes (DEALFLOW_MAX_BODY_BYTES); never below the BPMN file limit.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # source -> HMAC secret for the webhook endpoints (DEALFLOW_SOURCE_SECRETS='store=abc,bank=def').
    source_secrets: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    # How far (seconds) a webhook's signed timestamp may be from our clock (DEALFLOW_SIGNATURE_TOLERANCE).
    signature_tolerance: float = DEFAULT_TOLERANCE
    # `dealflow run` runs the job loop too unless dedicated `dealflow worker` processes do it.
    run_jobs: bool = True
    # Jobs (and outbox messages) a worker claims at once, and how long a claim holds unrenewed
    # before another worker may take the work over: a live worker renews it every lease/3, so
    # this is how late a dead worker's jobs run, not a limit on how long one may take.
    job_batch: int = 100
    job_lease: float = 10.0
    # Threads of `dealflow run`'s one gunicorn worker (api/server.py): requests at once, and each
    # connected socket.io client holds one for as long as it stays connected.
    server_threads: int = 100
    # One transaction's automated steps and the seconds spent on them before the engine stops
    # a process as a loop (it goes to incident; docs/processes.md, "Bounded execution").
    step_budget: int = DEFAULT_STEP_BUDGET
    step_seconds: float = DEFAULT_STEP_SECONDS
    # When failed work is tried again (engine.retry): jobs, robots and process steps
    # (DEALFLOW_JOB_RETRY_*), and outbox deliveries (DEALFLOW_OUTBOX_RETRY_*).
    job_retry: RetryPolicy = JOB_RETRY
    outbox_retry: RetryPolicy = OUTBOX_RETRY
    # Custom action modules (DEALFLOW_ACTION_MODULES, comma-separated; robots.actions.custom).
    action_modules: tuple[str, ...] = ()
    # How email, SMS and webhooks leave (robots.actions.transports): the DEALFLOW_MAILBOX_DIR,
    # _SMTP_URL, _MAIL_FROM, _SMS_URL and _HTTP_TIMEOUT variables that are set.
    transport_env: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Where test-bench runs keep their databases (DEALFLOW_SANDBOX_DIR; api/sandbox.default_directory).
    sandbox_dir: Path | None = None
    # The browser app's build served at / (DEALFLOW_DESIGNER_DIST).
    designer_dist: Path = DESIGNER_DIST
    # The company calendar's timezone (DEALFLOW_TIMEZONE): robots' "at 10:00", "in working hours".
    timezone: str = "UTC"
    # Hosts and networks webhooks may reach although private (DEALFLOW_WEBHOOK_ALLOW; robots.actions.addresses).
    webhook_allow: str = ""

    def __post_init__(self) -> None:
        if self.max_body_bytes < BPMN_MAX_BYTES:
            raise ValueError(f"DEALFLOW_MAX_BODY_BYTES must be at least {BPMN_MAX_BYTES}, the BPMN file limit, "
                             f"or a BPMN file the engine accepts could not be uploaded")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings `env` (by default the process environment) asks for."""
        env = os.environ if env is None else env
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
            secure_cookies=env.get("DEALFLOW_SECURE_COOKIES", "0") in ("1", "true", "yes"),
            max_body_bytes=int(env.get("DEALFLOW_MAX_BODY_BYTES") or defaults.max_body_bytes),
            source_secrets=source_secrets(env),
            signature_tolerance=float(env.get(TOLERANCE_VARIABLE) or defaults.signature_tolerance),
            run_jobs=env.get("DEALFLOW_RUN_JOBS", "1") not in ("0", "false", "no"),
            job_batch=int(env.get("DEALFLOW_JOB_BATCH", defaults.job_batch)),
            job_lease=float(env.get("DEALFLOW_JOB_LEASE", defaults.job_lease)),
            server_threads=int(env.get("DEALFLOW_SERVER_THREADS", defaults.server_threads)),
            step_budget=int(env.get("DEALFLOW_STEP_BUDGET", defaults.step_budget)),
            step_seconds=float(env.get("DEALFLOW_STEP_SECONDS", defaults.step_seconds)),
            job_retry=_retry_policy(env, "DEALFLOW_JOB_RETRY", defaults.job_retry),
            outbox_retry=_retry_policy(env, "DEALFLOW_OUTBOX_RETRY", defaults.outbox_retry),
            action_modules=tuple(m.strip() for m in env.get(MODULES_ENV, "").split(",") if m.strip()),
            transport_env={name: env[name] for name in TRANSPORT_VARIABLES if env.get(name)},
            sandbox_dir=Path(env["DEALFLOW_SANDBOX_DIR"]) if env.get("DEALFLOW_SANDBOX_DIR") else None,
            designer_dist=Path(env.get("DEALFLOW_DESIGNER_DIST") or defaults.designer_dist),
            timezone=env.get("DEALFLOW_TIMEZONE") or defaults.timezone,
            webhook_allow=env.get(ALLOW_ENV, defaults.webhook_allow),
        )


def _retry_policy(env: Mapping[str, str], prefix: str, default: RetryPolicy) -> RetryPolicy:
    """<prefix>_ATTEMPTS, _DELAY (seconds), _FACTOR and _CAP (seconds; empty: no cap), each
    defaulting to `default`'s value."""
    delay, cap = env.get(f"{prefix}_DELAY"), env.get(f"{prefix}_CAP")
    return RetryPolicy(
        attempts=int(env.get(f"{prefix}_ATTEMPTS") or default.attempts),
        base_delay=timedelta(seconds=float(delay)) if delay else default.base_delay,
        factor=float(env.get(f"{prefix}_FACTOR") or default.factor),
        cap=default.cap if cap is None else (timedelta(seconds=float(cap)) if cap else None),
    )
