"""The shipped processes' labels in the store's languages (engine/labels.py), for every screen
that shows a process's names: the deal card's start form and steps, task titles."""

from __future__ import annotations

from typing import Any

from flask import current_app

from api.auth import current_user
from api.blueprints.hooks import SETTINGS_KEY
from api.parsing import Blueprint
from engine.labels import read_labels

bp = Blueprint("process_labels", __name__, url_prefix="/api/v1/process-labels",
               description="Translations of the shipped processes' labels")


@bp.get("")
@bp.response(200, description="process key -> language -> elements, parameters, forms, titles")
def labels() -> Any:
    """Read from the templates directory on each call: small files, and a redeploy of the
    templates brings their labels along without a restart."""
    current_user()
    settings = current_app.config.get(SETTINGS_KEY)
    return read_labels(getattr(settings, "templates_dir", None))
