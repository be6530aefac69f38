"""The action catalog: what robots and service tasks can call, custom actions included."""

from __future__ import annotations

from typing import Any

from api.context import engine
from api.parsing import Blueprint
from api.schemas.automation import ActionSchema

bp = Blueprint("actions", __name__, url_prefix="/api/v1/actions", description="Action catalog")


@bp.get("")
@bp.response(200, ActionSchema(many=True))
def list_actions() -> Any:
    """No unit of work: the catalog lives in the registry the engine was built with, not in the database."""
    # The ActionRunner protocol (engine/actions.py) does not declare catalog() yet; the registry has it.
    return engine().actions.catalog()  # type: ignore[attr-defined]
