"""Webhook bodies signed with HMAC-SHA256 under a secret per source."""

from __future__ import annotations

import hashlib
import hmac

from triggers.signatures import secret_for, sign, source_secrets, verify_signature

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
