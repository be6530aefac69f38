"""The action the chaos workers run in the middle of robots and service tasks.

`chaos_pause()` sleeps a little inside the job's transaction, so a worker killed from outside
is often killed in the middle of an action; in a worker (DEALFLOW_CHAOS_CRASH set) it also
kills its own process there: the first few times for certain (one marker file each, created
atomically, so exactly that many crashes happen across all workers), then at random.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

from marshmallow import Schema

from robots.actions import action

CRASH_ENV = "DEALFLOW_CHAOS_CRASH"  # "<forced count>:<probability>:<marker dir>"
PAUSE_SECONDS = 0.15
_random = random.Random(os.environ.get("DEALFLOW_CHAOS_SEED"))


class PauseSchema(Schema):
    pass


@action("chaos_pause", PauseSchema, category="custom",
        description="Sleep a moment mid-transaction; in a chaos worker, sometimes crash right there")
def chaos_pause(ctx: Any) -> dict[str, Any]:
    time.sleep(_random.uniform(0, PAUSE_SECONDS))
    setting = os.environ.get(CRASH_ENV)
    if setting:
        forced, probability, markers = setting.split(":", 2)
        if _claim_forced_crash(Path(markers), int(forced)) or _random.random() < float(probability):
            with (Path(markers) / "crashes.log").open("a") as log:
                log.write(f"{os.getpid()}\n")
            os.kill(os.getpid(), signal.SIGKILL)
    return {}


def _claim_forced_crash(markers: Path, forced: int) -> bool:
    for n in range(forced):
        try:
            os.close(os.open(markers / f"forced-crash-{n}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        return True
    return False
