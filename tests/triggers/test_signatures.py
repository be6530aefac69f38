"""Webhook bodies signed with HMAC-SHA256 under a secret per source."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from triggers.signatures import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureRefused,
    replay_key,
    secret_for,
    sign,
    sign_request,
    source_secrets,
    verify_request,
    verify_signature,
)

BODY = b'{"order_id": "A-1001", "paid": true}'


def test_a_body_signed_with_the_secret_passes():
    header = hmac.new(b"abc", BODY, hashlib.sha256).hexdigest()
    assert verify_signature(b"abc", BODY, header)
    assert verify_signature(b"abc", BODY, "sha256=" + header.upper())
    assert sign(b"abc", BODY) == header


def test_anything_else_fails():
    header = sign(b"abc", BODY)
    assert not verify_signature(b"other", BODY, header)
    assert not verify_signature(b"abc", BODY + b" ", header)
    assert not verify_signature(b"abc", BODY, header[:-1])
    assert not verify_signature(b"abc", BODY, "")
    assert not verify_signature(b"abc", BODY, "подпись")
    assert not verify_signature(b"", BODY, sign(b"", BODY))  # no secret configured: nothing is trusted


def test_secrets_come_from_the_environment_per_source():
    env = {"DEALFLOW_SOURCE_SECRETS": "store=abc, bank = def ,broken, =x,empty="}
    assert source_secrets(env) == {"store": b"abc", "bank": b"def"}
    assert secret_for("bank", env) == b"def"
    assert secret_for("pbx", env) is None
    assert source_secrets({}) == {}


class TestSignedRequests:
    """`<timestamp>.<body>` signed, checked for age only once the signature is known good."""

    NOW = 1_800_000_000

    def headers(self, secret: bytes = b"abc", at: int = NOW, body: bytes = BODY) -> tuple[str, str]:
        signed = sign_request(secret, body, at)
        return signed[SIGNATURE_HEADER], signed[TIMESTAMP_HEADER]

    def code(self, secret: bytes | None, body: bytes, signature: str | None, stamp: str | None) -> str:
        with pytest.raises(SignatureRefused) as refused:
            verify_request(secret, body, signature, stamp, now=self.NOW, tolerance=300)
        return refused.value.code

    def test_a_fresh_signed_request_passes(self):
        signature, stamp = self.headers(at=self.NOW - 300)
        verify_request(b"abc", BODY, signature, stamp, now=self.NOW, tolerance=300)
        assert signature == "sha256=" + sign(b"abc", f"{stamp}.".encode() + BODY)

    def test_each_kind_of_refusal_has_its_code(self):
        signature, stamp = self.headers()
        assert self.code(None, BODY, signature, stamp) == "unknown_source"
        assert self.code(b"", BODY, signature, stamp) == "unknown_source"
        assert self.code(b"abc", BODY, None, stamp) == "missing_signature"
        assert self.code(b"abc", BODY, signature, "") == "missing_signature"
        assert self.code(b"abc", BODY + b" ", signature, stamp) == "bad_signature"
        assert self.code(b"abc", BODY, signature, str(self.NOW + 1)) == "bad_signature"
        assert self.code(b"abc", BODY, sign(b"abc", BODY), stamp) == "bad_signature"  # body alone is not enough
        assert self.code(b"abc", BODY, *self.headers(at=self.NOW - 301)) == "stale_signature"
        assert self.code(b"abc", BODY, *self.headers(at=self.NOW + 301)) == "stale_signature"

    def test_a_forged_old_request_is_bad_not_stale(self):
        signature, stamp = self.headers(secret=b"guess", at=self.NOW - 3600)
        assert self.code(b"abc", BODY, signature, stamp) == "bad_signature"

    def test_the_replay_key(self):
        assert replay_key("call.missed", "k-1", "sha256=AB") == "k-1"
        assert replay_key("order.created", None, "sha256=ab") is None  # keyed by order number
        assert replay_key("call.missed", None, "sha256=AB") == replay_key("call.missed", None, "ab") == "sig:ab"
