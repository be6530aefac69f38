"""An action for the browser tests that always fails the way an outside system that is down
does (a connection error: worth retrying), so a step shows as retrying and then as an incident.
Loaded by the test server through DEALFLOW_ACTION_MODULES."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from robots.actions.registry import registry


def register_actions(target: Any = registry) -> None:
    if not target.knows("call_bank"):
        target.register("call_bank", _call_bank, Schema, description="Call the bank (down in the tests)")


def _call_bank(ctx: Any) -> Any:
    raise ConnectionError("the bank did not answer")
