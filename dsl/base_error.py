"""The one base of every error dealflow raises on purpose, and the one shape the API answers it in.

It lives in `dsl` because that is the package every other one may import (the top level is
fixed, and `dsl` imports nothing of ours); it knows no Flask. Each family (crm, dsl, engine,
robots, triggers) derives from it, so `api/errors.py` renders them all with one handler:

    {"code": <stable, for machines>, "message": <a sentence for people>, "details": <optional>}

`status` is the HTTP status the API answers with: the class says what kind of refusal it is
(invalid 422, not found 404, conflict 409...), the transport only reads it.
"""

from __future__ import annotations

from typing import Any


class DealflowError(Exception):
    """A refusal with a stable `code`, a `message` and, when there is more to say, `details`.

    `details` is whatever lets a caller fix the input (the bad fields, the missing ones, the
    problems with their line and column); None means the body has no `details` key at all.
    A subclass may compute it as a property instead of passing it.
    """

    code: str = "error"
    status: int = 400
    #: Seconds after which the same request may succeed ("too early, send it again"), else None.
    retry_after: int | None = None
    details: Any = None

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if details is not None:
            self.details = details

    def body(self) -> dict[str, Any]:
        """The JSON body the API answers with (its message in English, translated later)."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body
