"""Errors the CRM raises, shaped so the API can turn them into a 4xx body as they are.

Each carries a stable `code` for machines and a sentence for people (dsl.base_error, the one
base every family shares); `InvalidInput` lists every bad field at once so a form (or a
refused process start) can show them all together instead of one per round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dsl.base_error import DealflowError


class CrmError(DealflowError):
    """Base of every error the CRM raises on purpose; nothing has been written when raised."""

    code: str = "crm_error"

    def as_dict(self) -> dict[str, Any]:
        """The body as the CRM's callers first read it: InvalidInput's fields under `fields`
        (the API's body, `body()`, has them under `details` like every other error)."""
        return {"code": self.code, "message": self.message}


class NotFound(CrmError):
    """The one "no such thing" of every package (a deal, a task, a process, an incident...)."""

    code = "not_found"
    status = 404


class Conflict(CrmError):
    """The request is well-formed but the current state forbids it (e.g. completing twice)."""

    code = "conflict"
    status = 409


class InvalidInput(CrmError):
    code = "invalid_input"
    status = 422

    def __init__(self, message: str | None = None, *, fields: Mapping[str, str], code: str | None = None) -> None:
        self.fields = dict(fields)
        if message is None:
            message = "; ".join(f"{name}: {reason}" for name, reason in self.fields.items())
        super().__init__(message, code=code)

    @property
    def details(self) -> dict[str, str] | None:
        return self.fields or None

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "fields": dict(self.fields)}


class StageGateRefused(CrmError):
    """A move into a stage whose gate is not satisfied: the required fields still empty, or a
    lost stage without a loss reason from the pipeline's list. It carries what a form needs to
    ask for exactly that (field code, label, type, options) so the board, a robot's log and an
    incident all say the same thing; nothing has been written."""

    code = "stage_gate"
    status = 422

    def __init__(self, stage_ref: str, stage_name: str, missing: list[dict[str, Any]],
                 loss_reasons: list[str] | None = None) -> None:
        self.stage_ref = stage_ref
        self.missing = missing
        self.loss_reasons = loss_reasons
        parts = []
        if missing:
            parts.append("fill in " + ", ".join(item["label"] for item in missing))
        if loss_reasons is not None:
            parts.append("give a loss reason (" + ", ".join(loss_reasons) + ")")
        super().__init__(f"The deal cannot enter {stage_name} ({stage_ref}): {' and '.join(parts)}")

    @property
    def details(self) -> dict[str, Any]:
        body: dict[str, Any] = {"stage": self.stage_ref, "missing": list(self.missing)}
        if self.loss_reasons is not None:
            body["loss_reasons"] = list(self.loss_reasons)
        return body

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "details": self.details}
