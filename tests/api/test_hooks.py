"""Signed webhooks through the real app, intake and database: what is trusted is stored once,
what is not is refused with 401 and leaves no row behind."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from api.app import create_app
from api.settings import Settings
from triggers.models import Event
from triggers.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, sign_request

SECRETS = {"store": b"store-secret", "bank": b"bank-secret"}
ORDER = {
    "order_id": "W-1", "status": "new", "amount": "45990.00", "currency": "RUB", "paid": False,
    "shipped": False, "payment_method": "card",
    "customer": {"name": "Ivan Sokolov", "phone": "+7 916 111-22-33", "email": "ivan.sokolov@example.com"},
    "address": "Moscow, Tverskaya 1",
    "items": [{"name": "Bosch WAN28", "qty": 1, "price": 45990, "category": "washing_machines"}],
    "department": "store_north", "vip": False,
}
CALL = {"type": "call.missed", "payload": {"phone": "+7 916 000-00-01"}}


@pytest.fixture
def app(engine):
    return create_app(engine, Settings(database_url=engine.db.url, source_secrets=SECRETS, signature_tolerance=300))


def encode(body: dict) -> bytes:
    return json.dumps(body).encode("utf-8")


def signed(client, source: str, raw: bytes, *, secret: bytes | None = None, at: float | None = None,
           headers: dict[str, str] | None = None):
    """POST `raw` as the sender would: signed with `secret` (the source's own by default) at `at`."""
    signing = sign_request(secret or SECRETS[source], raw, int(time.time() if at is None else at))
    return client.post(f"/api/v1/hooks/{source}", data=raw, content_type="application/json",
                       headers={**signing, **(headers or {})})


def events(engine) -> list[tuple[str, str, str | None]]:
    with engine.unit() as rt:
        return [(e.source, e.type, e.idempotency_key) for e in rt.session.scalars(select(Event).order_by(Event.id))]


class TestAccepted:
    def test_a_signed_store_order_is_accepted_once(self, client, engine):
        raw = encode({"type": "order.created", "payload": ORDER})
        first = signed(client, "store", raw)
        assert first.status_code == 202, first.json
        assert first.json["source"] == "store" and first.json["duplicate"] is False
        again = signed(client, "store", raw)  # the store retries: new timestamp, same order
        assert again.status_code == 200 and again.json["duplicate"] is True
        assert again.json["event_id"] == first.json["event_id"]
        assert events(engine) == [("store", "order.created", "order.created:W-1")]

    def test_a_replayed_request_without_a_key_is_stored_once(self, client, engine):
        raw, at = encode(CALL), time.time()
        first = signed(client, "store", raw, at=at)
        replay = signed(client, "store", raw, at=at)  # the very same request captured and sent again
        assert (first.status_code, replay.status_code) == (202, 200)
        assert replay.json["duplicate"] is True and len(events(engine)) == 1
        fresh = signed(client, "store", raw, at=at + 1)  # the sender really sent it a second time
        assert fresh.status_code == 202 and len(events(engine)) == 2

    def test_the_idempotency_key_may_come_in_a_header(self, client, engine):
        raw = encode(CALL)
        first = signed(client, "store", raw, at=time.time(), headers={"Idempotency-Key": "call-1"})
        second = signed(client, "store", raw, at=time.time() - 5, headers={"Idempotency-Key": "call-1"})
        assert (first.status_code, second.status_code) == (202, 200)
        assert events(engine) == [("store", "call.missed", "call-1")]

    def test_the_same_key_from_another_source_is_another_event(self, client, engine):
        raw = encode({**CALL, "idempotency_key": "k-1"})
        assert signed(client, "store", raw).status_code == 202
        assert signed(client, "bank", raw).status_code == 202
        assert {source for source, _, _ in events(engine)} == {"store", "bank"}

    def test_the_openapi_document_shows_the_signature_headers(self, client):
        operation = client.get("/api/openapi.json").json["paths"]["/api/v1/hooks/{source}"]["post"]
        headers = {p["name"]: p.get("required", False) for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {SIGNATURE_HEADER: True, TIMESTAMP_HEADER: True, "Idempotency-Key": False}
        assert {"202", "200", "401", "413"} <= set(operation["responses"])


class TestRefused:
    def refused(self, response, engine, code: str, status: int = 401) -> None:
        assert response.status_code == status, response.json
        assert response.json["code"] == code
        assert events(engine) == []

    def test_without_headers(self, client, engine):
        response = client.post("/api/v1/hooks/store", json={"type": "order.created", "payload": ORDER})
        self.refused(response, engine, "missing_signature")

    def test_without_the_timestamp(self, client, engine):
        raw = encode(CALL)
        response = client.post("/api/v1/hooks/store", data=raw, content_type="application/json",
                               headers={SIGNATURE_HEADER: sign(SECRETS["store"], raw)})
        self.refused(response, engine, "missing_signature")

    def test_signed_with_another_sources_secret(self, client, engine):
        self.refused(signed(client, "store", encode(CALL), secret=SECRETS["bank"]), engine, "bad_signature")

    def test_a_body_changed_after_signing(self, client, engine):
        raw = encode({"type": "order.created", "payload": ORDER})
        headers = sign_request(SECRETS["store"], raw, int(time.time()))
        tampered = raw.replace(b"45990.00", b"1.00")
        response = client.post("/api/v1/hooks/store", data=tampered, content_type="application/json",
                               headers=headers)
        self.refused(response, engine, "bad_signature")

    def test_a_new_timestamp_on_an_old_signature(self, client, engine):
        raw = encode(CALL)
        headers = sign_request(SECRETS["store"], raw, int(time.time()) - 3600)
        headers[TIMESTAMP_HEADER] = str(int(time.time()))
        response = client.post("/api/v1/hooks/store", data=raw, content_type="application/json", headers=headers)
        self.refused(response, engine, "bad_signature")

    @pytest.mark.parametrize("stamp", ["soon", "-5", "1e9", "99999999999999"])
    def test_a_timestamp_that_is_not_unix_seconds(self, client, engine, stamp):
        raw = encode(CALL)
        headers = {SIGNATURE_HEADER: sign(SECRETS["store"], stamp.encode() + b"." + raw), TIMESTAMP_HEADER: stamp}
        response = client.post("/api/v1/hooks/store", data=raw, content_type="application/json", headers=headers)
        self.refused(response, engine, "bad_signature")

    @pytest.mark.parametrize("offset", [-3600, -301, 301, 86400])
    def test_a_correctly_signed_request_outside_the_window(self, client, engine, offset):
        self.refused(signed(client, "store", encode(CALL), at=time.time() + offset), engine, "stale_signature")

    def test_a_source_without_a_secret(self, client, engine):
        raw = encode(CALL)
        self.refused(signed(client, "pbx", raw, secret=b"anything"), engine, "unknown_source")

    def test_a_body_claiming_another_source_is_invalid(self, client, engine):
        self.refused(signed(client, "store", encode({**CALL, "source": "bank"})), engine, "invalid_payload", 422)

    def test_a_signed_but_invalid_event_stores_nothing(self, client, engine):
        raw = encode({"type": "order.created", "payload": {**ORDER, "amount": "lots"}})
        self.refused(signed(client, "store", raw), engine, "invalid_event", 422)

    def test_a_header_key_and_a_different_body_key(self, client, engine):
        raw = encode({**CALL, "idempotency_key": "a"})
        self.refused(signed(client, "store", raw, headers={"Idempotency-Key": "b"}), engine, "invalid_input", 422)

    def test_signed_garbage_is_a_json_error_not_a_500(self, client, engine):
        self.refused(signed(client, "store", b"{not json"), engine, "invalid_json", 400)
