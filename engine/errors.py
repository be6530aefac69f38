"""Errors the engine reports to its callers; each carries a stable code and the details a
person needs to fix the input (which element, which field).

"No such process, instance or incident" is the CRM's `NotFound`, the one of every package;
`engine.errors.NotFound` is the name the engine's callers have imported it by.
"""

from __future__ import annotations

from typing import Any

from crm.errors import NotFound
from dsl.base_error import DealflowError

__all__ = ["EngineError", "InvalidProcess", "InvalidState", "NotFound", "StartRefused", "StepBudgetExceeded"]


class EngineError(DealflowError):
    code = "engine_error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message, details=details)


class InvalidProcess(EngineError):
    """A BPMN file that cannot be deployed; details list {element, message} per problem."""

    code = "invalid_process"
    status = 422


class StartRefused(EngineError):
    """A start whose parameters or deal fields are missing or wrong; nothing was written.

    details: {"missing_fields": [...], "invalid_parameters": {...}}
    """

    code = "start_refused"
    status = 422


class InvalidState(EngineError):
    code = "invalid_state"
    status = 409


class StepBudgetExceeded(InvalidState):
    """A transaction ran more automated steps than `Engine.step_budget` allows (a process that
    loops or calls itself, robots that keep triggering each other). Inside a process step the
    engine turns it into an incident on that instance; anywhere else the transaction is refused.

    details: {"element": the element that ran most, "steps": steps taken, "budget": the budget}
    """

    code = "step_budget_exceeded"
