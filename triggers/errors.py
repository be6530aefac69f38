"""Errors of the event intake.

They are `crm.errors.InvalidInput`s so the API turns them into a 4xx body listing every bad
field, the same way it does for a refused deal or task; nothing has been written when one is
raised.
"""

from __future__ import annotations

from collections.abc import Mapping

from crm.errors import InvalidInput


class InvalidEvent(InvalidInput):
    """The event cannot be accepted: unknown type, bad payload, or it names a deal that does not exist."""

    code = "invalid_event"

    def __init__(self, event_type: str, fields: Mapping[str, str]) -> None:
        problems = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
        super().__init__(f"{event_type} event refused: {problems}", fields=fields, code=self.code)
        self.event_type = event_type
