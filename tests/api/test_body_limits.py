"""Request bodies have one size limit, answered as JSON 413 before anything is parsed, and it
agrees with the BPMN file limit: whatever the engine accepts can be uploaded."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.app import create_app
from api.schemas.automation import MAX_TEXT
from api.settings import DEFAULT_MAX_BODY_BYTES, Settings
from engine.bpmn import MAX_BYTES as BPMN_MAX_BYTES
from engine.models import ProcessVersion
from tests.support.auth import bearer, token_for
from triggers.models import Event
from triggers.signatures import sign_request

BPMN = Path(__file__).resolve().parents[2] / "bpmn" / "purchase_request.bpmn"


def count(engine, model) -> int:
    with engine.unit() as rt:
        return rt.session.scalar(select(func.count()).select_from(model))


def padded(size: int) -> bytes:
    """The purchase process padded with trailing whitespace (still the same XML) to `size` bytes."""
    xml = BPMN.read_bytes()
    return xml + b" " * (size - len(xml))


def test_an_oversized_json_body_is_a_413_with_a_stable_code_and_nothing_is_stored(client, engine):
    body = {"type": "call.missed", "payload": {"phone": "+7 916 000-00-01", "line": "x" * DEFAULT_MAX_BODY_BYTES}}
    response = client.post("/api/v1/events", json=body)
    assert response.status_code == 413
    assert response.json == {"code": "request_entity_too_large", "message": response.json["message"],
                             "details": {"max_bytes": DEFAULT_MAX_BODY_BYTES}}
    assert count(engine, Event) == 0


def test_a_body_without_a_length_is_cut_off_at_the_limit_too(engine):
    app = create_app(engine, Settings(database_url=engine.db.url, max_body_bytes=BPMN_MAX_BYTES))
    stream = io.BytesIO(padded(BPMN_MAX_BYTES + 10))
    response = app.test_client().post("/api/v1/processes", input_stream=stream, content_type="application/xml",
                                      headers=bearer(token_for(engine, "designer")),
                                      environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413 and response.json["code"] == "request_entity_too_large"
    assert count(engine, ProcessVersion) == 0


def test_a_bpmn_file_at_the_engines_limit_passes_the_http_limit(client, engine):
    response = client.post("/api/v1/processes", data=padded(BPMN_MAX_BYTES), content_type="application/xml")
    assert response.status_code == 201, response.json
    assert count(engine, ProcessVersion) == 1


def test_a_bpmn_file_over_the_engines_limit_is_refused_by_the_engine_with_its_reason(client, engine):
    response = client.post("/api/v1/processes", data=padded(BPMN_MAX_BYTES + 1), content_type="application/xml")
    assert response.status_code == 422 and "larger than" in response.json["message"]
    assert count(engine, ProcessVersion) == 0


def test_a_text_field_over_its_length_is_told_on_the_field_even_fully_escaped(client):
    # The worst case: every character a \uXXXX\uXXXX surrogate pair, 12 bytes of JSON each.
    body = json.dumps({"text": "\U0001F600" * (MAX_TEXT + 1)}).encode()
    response = client.post("/api/v1/robots/validate", data=body, content_type="application/json")
    assert response.status_code == 422 and "text" in response.json["details"]


def test_a_signed_webhook_over_the_limit_is_413_before_its_signature_is_checked(engine):
    secret = b"s"
    app = create_app(engine, Settings(database_url=engine.db.url, max_body_bytes=BPMN_MAX_BYTES,
                                      source_secrets={"store": secret}))
    raw = json.dumps({"type": "call.missed", "payload": {"phone": "1", "line": "x" * BPMN_MAX_BYTES}}).encode()
    response = app.test_client().post("/api/v1/hooks/store", data=raw, content_type="application/json",
                                      headers=sign_request(secret, raw, 1_800_000_000))
    assert response.status_code == 413 and response.json["code"] == "request_entity_too_large"
    assert count(engine, Event) == 0


def test_the_limit_comes_from_the_environment_and_cannot_undercut_bpmn_uploads(monkeypatch):
    monkeypatch.setenv("DEALFLOW_MAX_BODY_BYTES", str(8 * 1024 * 1024))
    assert Settings.from_env().max_body_bytes == 8 * 1024 * 1024
    with pytest.raises(ValueError, match="BPMN file limit"):
        Settings(max_body_bytes=BPMN_MAX_BYTES - 1)
