"""When failed work is tried again: one policy for jobs, robots, process steps and the outbox.

A failure that may pass (engine.failures: transient) is tried again after a delay that grows
by `factor` with each attempt, never longer than `cap`, until `attempts` attempts were made;
then the caller gives up (an incident, a failed robot, a failed outbox row). The two policies
in use are configured in `api.settings.Settings` (DEALFLOW_JOB_RETRY_*, DEALFLOW_OUTBOX_RETRY_*)
and handed to the engine and to outbox delivery; the defaults here are those values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` in all (the first included); the n-th retry waits base_delay * factor**(n-1), at most `cap`."""

    attempts: int
    base_delay: timedelta
    factor: float = 2.0
    cap: timedelta | None = None

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"a retry policy makes at least 1 attempt, not {self.attempts}")
        if self.base_delay < timedelta(0):
            raise ValueError(f"a retry delay cannot be negative ({self.base_delay})")
        if self.factor < 1:
            raise ValueError(f"a backoff factor below 1 would shrink the delays ({self.factor})")
        if self.cap is not None and self.cap < timedelta(0):
            raise ValueError(f"a retry delay cap cannot be negative ({self.cap})")

    def delay(self, failed_attempts: int) -> timedelta | None:
        """How long to wait after the `failed_attempts`-th failed attempt; None: no attempt is left."""
        if failed_attempts >= self.attempts:
            return None
        delay = self.base_delay * (self.factor ** (max(failed_attempts, 1) - 1))
        return min(delay, self.cap) if self.cap is not None else delay

    def next_attempt(self, failed_attempts: int, now: datetime) -> datetime | None:
        """When to try again after `failed_attempts` attempts failed, the last one at `now`;
        None when that was the last attempt."""
        delay = self.delay(failed_attempts)
        return None if delay is None else now + delay


#: A failed job, robot or process step: 3 attempts, 30 s then 60 s apart.
JOB_RETRY = RetryPolicy(attempts=3, base_delay=timedelta(seconds=30))
#: A failed outbox delivery (email, SMS, webhook): 5 attempts, 1, 2, 4, 8 minutes apart.
OUTBOX_RETRY = RetryPolicy(attempts=5, base_delay=timedelta(minutes=1))
