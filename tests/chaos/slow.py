"""`slow_step()`: an action that, the first time it runs, blocks until its worker is killed.

For the takeover test in tests/chaos/test_worker_command.py: each run appends its process id
to the file named by DEALFLOW_SLOW_LOG; the first run then waits (inside the job's transaction,
up to a minute) for the test to SIGKILL its worker; a later run, in the worker that took the job
over, returns at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from marshmallow import Schema

from robots.actions import action

LOG_ENV = "DEALFLOW_SLOW_LOG"


class SlowSchema(Schema):
    pass


@action("slow_step", SlowSchema, category="custom",
        description="The first run blocks until its worker is killed (a test action)")
def slow_step(ctx: Any) -> dict[str, Any]:
    log = Path(os.environ[LOG_ENV])
    first = not log.exists() or not log.read_text().strip()
    with log.open("a") as out:
        out.write(f"{os.getpid()}\n")
    if first:
        time.sleep(60)
    return {}
