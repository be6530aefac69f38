"""Hostile uploads through the HTTP API end as a 4xx JSON answer with nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.models import ProcessVersion


def versions(engine) -> int:
    with engine.unit() as rt:
        return rt.session.scalar(select(func.count()).select_from(ProcessVersion))


@pytest.mark.parametrize(("body", "content_type"), [
    ('{"xml": "<a>\\ud800</a>"}', "application/json"),  # JSON lets a lone surrogate through
    (b'<?xml version="1.0" encoding="UTF-7"?><a/>', "application/xml"),  # expat: multi-byte encoding
    (b'<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>', "application/xml"),
])
def test_hostile_bpmn_is_a_422_not_a_500(client, engine, body, content_type):
    response = client.post("/api/v1/processes", data=body, content_type=content_type)
    assert response.status_code == 422, response.json
    assert response.json["code"] and response.json["message"]
    assert versions(engine) == 0
