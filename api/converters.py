"""Path converters the routes need beyond Flask's own."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter

SCOPE_PATTERN = r"(?!validate$)[a-z][a-z0-9_]{0,63}"


class ScopeConverter(BaseConverter):
    """A pipeline code or `global`; never `validate`, so `/robots/validate` is only the POST
    that checks a text and its Allow header does not also list the scope's GET and PUT."""

    regex = SCOPE_PATTERN


def scope_schema(converter: Any) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^{SCOPE_PATTERN}$"}
