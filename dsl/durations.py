"""Durations as people write them in robots (`2d 4h`) and as BPMN timers do (`PT2H`)."""

from __future__ import annotations

import re
from datetime import timedelta

from dsl.errors import DslSyntaxError

_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DSL_PART = re.compile(r"(\d{1,100})([wdhms])")
_DSL_FORM = re.compile(r"\s*\d{1,100}[wdhms](?:[ \t]*\d{1,100}[wdhms])*\s*", re.ASCII)
# Years and months have no fixed length, so a timedelta cannot hold them: not accepted.
_ISO_FORM = re.compile(
    r"\s*(?P<sign>-)?P(?:(?P<w>\d{1,12})W)?(?:(?P<d>\d{1,12})D)?"
    r"(?:T(?:(?P<h>\d{1,12})H)?(?:(?P<m>\d{1,12})M)?(?:(?P<s>\d{1,12}(?:[.,]\d{1,6})?)S)?)?\s*",
    re.ASCII,
)


def parse_duration(text: str) -> timedelta:
    """Read `2d 4h`, `30m`, `1w`, `2d4h` or ISO 8601 `PT2H`, `P1DT30M`, `P2W`.

    Raises DslSyntaxError for anything else, including ISO years and months.
    """
    if not isinstance(text, str):
        raise DslSyntaxError(f"a duration must be text, not {type(text).__name__}")
    try:
        if _DSL_FORM.fullmatch(text):
            return dsl_duration(text)
        match = _ISO_FORM.fullmatch(text)
        if match and text.strip() not in ("P", "-P") and not text.strip().endswith("T"):
            return _iso_duration(match)
    except OverflowError:
        raise DslSyntaxError(f"duration {text.strip()!r} is too long") from None
    raise DslSyntaxError(
        f"{text!r} is not a duration; write it like '2d 4h', '30m' or 'PT2H'",
        expected=["a duration"],
    )


def dsl_duration(text: str) -> timedelta:
    """The value of a DSL duration literal already matched by the grammar."""
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DSL_PART.findall(text))
    return timedelta(seconds=seconds)


def _iso_duration(match: re.Match[str]) -> timedelta:
    parts = {k: match.group(k) for k in "wdhms"}
    if not any(parts.values()):
        raise DslSyntaxError(f"{match.string!r} is an empty duration", expected=["a duration"])
    seconds = (parts["s"] or "0").replace(",", ".")
    value = timedelta(
        weeks=int(parts["w"] or 0),
        days=int(parts["d"] or 0),
        hours=int(parts["h"] or 0),
        minutes=int(parts["m"] or 0),
        seconds=float(seconds),
    )
    return -value if match.group("sign") else value


def format_duration(value: timedelta) -> str:
    """The canonical DSL spelling (`1w 2d 4h`); `0s` for zero, a leading '-' if negative."""
    micros = value // timedelta(microseconds=1)
    sign = "-" if micros < 0 else ""
    total, micros = divmod(abs(micros), 1_000_000)
    parts = []
    for unit, size in _UNIT_SECONDS.items():
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    text = " ".join(parts) or "0s"
    if micros:
        text = f"{text} {micros}us" if parts else f"{micros}us"
    return sign + text
