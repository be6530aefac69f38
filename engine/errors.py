"""Errors the engine reports to its callers; each carries a stable code and the details a
person needs to fix the input (which element, which field)."""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    code = "engine_error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidProcess(EngineError):
    """A BPMN file that cannot be deployed; details list {element, message} per problem."""

    code = "invalid_process"


class StartRefused(EngineError):
    """A start whose parameters or deal fields are missing or wrong; nothing was written.

    details: {"missing_fields": [...], "invalid_parameters": {...}}
    """

    code = "start_refused"


class NotFound(EngineError):
    code = "not_found"


class InvalidState(EngineError):
    code = "invalid_state"


class StepBudgetExceeded(InvalidState):
    """A transaction ran more automated steps than `Engine.step_budget` allows (a process that
    loops or calls itself, robots that keep triggering each other). Inside a process step the
    engine turns it into an incident on that instance; anywhere else the transaction is refused.

    details: {"element": the element that ran most, "steps": steps taken, "budget": the budget}
    """

    code = "step_budget_exceeded"
