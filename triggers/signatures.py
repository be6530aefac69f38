"""Is this webhook really from the store? HMAC-SHA256 of the raw body with a shared secret.

The signature is checked on the bytes exactly as received, before any parsing, and compared
in constant time so the check leaks nothing about the expected value. Secrets are per source
(`DEALFLOW_SOURCE_SECRETS='store=abc,bank=def'`), so a leaked bank secret cannot forge a
store order.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

SECRETS_VARIABLE = "DEALFLOW_SOURCE_SECRETS"


def sign(secret: bytes, body: bytes) -> str:
    """The hex signature a sender puts in its header (also what tests and clients use)."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str) -> bool:
    """True if `header` ("<hex>" or "sha256=<hex>") is the HMAC-SHA256 of `body` under `secret`."""
    if not secret or not isinstance(header, str):
        return False
    given = header.strip()
    if given.lower().startswith("sha256="):
        given = given[len("sha256="):]
    return hmac.compare_digest(sign(secret, body).encode("ascii"), given.lower().encode("utf-8", "replace"))


def source_secrets(environ: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """source -> secret from `DEALFLOW_SOURCE_SECRETS`; entries without a name or secret are ignored."""
    raw = (os.environ if environ is None else environ).get(SECRETS_VARIABLE, "")
    secrets: dict[str, bytes] = {}
    for entry in raw.split(","):
        name, _, secret = entry.partition("=")
        if name.strip() and secret.strip():
            secrets[name.strip()] = secret.strip().encode("utf-8")
    return secrets


def secret_for(source: str, environ: Mapping[str, str] | None = None) -> bytes | None:
    return source_secrets(environ).get(source)
