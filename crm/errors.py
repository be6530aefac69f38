"""Errors the CRM raises, shaped so the API can turn them into a 4xx body as they are.

Each carries a stable `code` for machines and a sentence for people; `InvalidInput` lists
every bad field at once so a form (or a refused process start) can show them all together
instead of one per round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class CrmError(Exception):
    """Base of every error the CRM raises on purpose; nothing has been written when raised."""

    code: str = "crm_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


class NotFound(CrmError):
    code = "not_found"


class Conflict(CrmError):
    """The request is well-formed but the current state forbids it (e.g. completing twice)."""

    code = "conflict"


class InvalidInput(CrmError):
    code = "invalid_input"

    def __init__(self, message: str | None = None, *, fields: Mapping[str, str], code: str | None = None) -> None:
        self.fields = dict(fields)
        if message is None:
            message = "; ".join(f"{name}: {reason}" for name, reason in self.fields.items())
        super().__init__(message, code=code)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "fields": dict(self.fields)}
