"""flask-smorest's Blueprint with one schema object per argument schema, not one per request.

A view declared `@bp.arguments(SomeSchema)` (a class, as flask-smorest's docs write it) has
webargs build `SomeSchema()` on every request: marshmallow binds and copies every declared
field each time, a measurable part of a small request (issue 14). A schema holds no
per-request state (no `context`, no hooks that keep anything on `self`), so one instance per
class serves every request and thread. The OpenAPI document still sees the class itself.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import flask_smorest
import marshmallow as ma
from webargs.flaskparser import FlaskParser


@cache
def _schema_of(schema_class: type[ma.Schema]) -> ma.Schema:
    return schema_class()


class OneSchemaParser(FlaskParser):
    """webargs' Flask parser, building a schema class once."""

    def _get_schema(self, argmap: Any, req: Any) -> ma.Schema:
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            return _schema_of(argmap)
        return super()._get_schema(argmap, req)


class Blueprint(flask_smorest.Blueprint):
    """Every dealflow blueprint: flask-smorest's, with the parser above."""

    ARGUMENTS_PARSER = OneSchemaParser()
