"""How Alembic compares the models with a database: shared by the migration environment and
the test that holds migrations and models to the same schema."""

from __future__ import annotations

from typing import Any

from crm.db import UTCDateTime


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def comparison_options() -> dict[str, Any]:
    return {"render_item": render_item, "render_as_batch": True, "compare_type": True}
