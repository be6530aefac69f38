"""Reading documents deployed as immutable versions by key: BPMN processes and DMN decisions.

Both are stored the same way (a row per version with `key`, `version` and the `xml` it came
from), so their endpoints answer the same questions the same way: the newest of each, every
version of one, one version's file, and the file a deploy request carries.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.schemas.automation import DeployJsonSchema
from crm.errors import NotFound

#: The request body of a deploy: the file itself, or JSON {"xml": ...}.
XML_BODY = {"content": {
    "application/xml": {"schema": {"type": "string"}},
    "application/json": {"schema": DeployJsonSchema},
}, "required": True}


def newest_of_each(session: Session, model: Any) -> list[Any]:
    """The newest version of every key."""
    latest: dict[str, Any] = {}
    for version in session.scalars(select(model).order_by(model.key, model.version)):
        latest[version.key] = version
    return list(latest.values())


def versions_of(session: Session, model: Any, key: str, what: str) -> list[Any]:
    """Every version of `key`, newest first; 404 when none is deployed."""
    versions = list(session.scalars(select(model).where(model.key == key).order_by(model.version.desc())))
    if not versions:
        raise NotFound(f"no {what} {key!r} is deployed")
    return versions


def xml_response(session: Session, model: Any, key: str, version: int | None, what: str) -> Response:
    """The file a version was deployed from (the newest when `version` is None)."""
    query = select(model.xml).where(model.key == key)
    newest = query.order_by(model.version.desc()).limit(1)
    xml = session.scalar(newest if version is None else query.where(model.version == version))
    if xml is None:
        raise NotFound(f"{what} {key!r} has no such version")
    return Response(xml, mimetype="application/xml")


def xml_of_request(empty: Exception) -> bytes | str:
    """The file a deploy request carries, as bytes in its declared encoding or JSON's text;
    `empty` is raised when there is none."""
    if request.is_json:
        return DeployJsonSchema().load(request.get_json(silent=True) or {})["xml"]
    xml = request.get_data(cache=False)
    if not xml.strip():
        raise empty
    return xml
