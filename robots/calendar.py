"""Working hours: when a robot set to run "in working hours" may fire.

Hours are a weekly table like {"mon": ["09:00", "18:00"], ...} in a timezone; a day missing
from the table is a day off. The company calendar's timezone comes from configuration
(DEALFLOW_TIMEZONE, handed to the engine as its `timezone`); a user's own table
(User.working_hours) is used for "in working hours of responsible".
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COMPANY_HOURS = {day: ["09:00", "18:00"] for day in DAYS[:5]}


def _span(hours: dict[str, list[str]], day: str) -> tuple[time, time] | None:
    span = hours.get(day)
    if not span or len(span) != 2:
        return None
    start, end = (time.fromisoformat(v) for v in span)
    return (start, end) if start < end else None


def next_working_moment(moment: datetime, hours: dict[str, list[str]] | None, tz: ZoneInfo) -> datetime:
    """`moment` itself if it falls in working hours, else the start of the next working period."""
    table = hours or COMPANY_HOURS
    local = moment.astimezone(tz)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        span = _span(table, DAYS[day.weekday()])
        if span is None:
            continue
        start = datetime.combine(day, span[0], tz)
        end = datetime.combine(day, span[1], tz)
        if offset == 0 and start <= local < end:
            return moment
        if local < start:
            return start.astimezone(moment.tzinfo)
    return moment  # no working day at all in the table: do not hold the robot forever


def at_time_of_day(moment: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The first `at` o'clock at or after `moment`, in the company's timezone."""
    local = moment.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tz)
    if candidate < local:
        candidate += timedelta(days=1)
    return candidate.astimezone(moment.tzinfo)
