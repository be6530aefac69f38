"""The clock every part of dealflow asks for "now".

Time is injected so that tests and the designer's test bench can jump forward without
sleeping. It lives in `crm`, the lowest layer that needs it, so that the engine, robots and
triggers share one notion of time with the CRM's own timestamps.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class WallClock:
    """Production time: the system clock in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that only moves when told to; used by tests and sandbox runs."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> datetime:
        moment = moment.astimezone(UTC)
        with self._lock:
            if moment < self._now:
                raise ValueError("time only moves forward")
            self._now = moment
            return self._now


def as_utc(moment: datetime) -> datetime:
    """Database drivers hand back naive datetimes on SQLite; we store UTC, so mark it."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
