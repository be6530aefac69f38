"""Is this webhook really from the store? HMAC-SHA256 of the raw body with a shared secret.

The signature is checked on the bytes exactly as received, before any parsing, and compared
in constant time so the check leaks nothing about the expected value. Secrets are per source
(`DEALFLOW_SOURCE_SECRETS='store=abc,bank=def'`), so a leaked bank secret cannot forge a
store order.

A webhook request (`POST /api/v1/hooks/<source>`) signs `<timestamp>.<body>`, not the body
alone: the timestamp is then covered by the signature, so a captured request cannot be
replayed later with a fresh timestamp, and one older than the tolerance window is refused.
Inside the window a replay is an exact copy, and `replay_key` makes the intake store it once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from dsl.base_error import DealflowError
from triggers.intake import NATURAL_KEYS

SECRETS_VARIABLE = "DEALFLOW_SOURCE_SECRETS"
TOLERANCE_VARIABLE = "DEALFLOW_SIGNATURE_TOLERANCE"
SIGNATURE_HEADER = "X-Dealflow-Signature"
TIMESTAMP_HEADER = "X-Dealflow-Timestamp"
DEFAULT_TOLERANCE = 300.0  # seconds either side of our clock; covers clock skew and a slow retry


class SignatureRefused(DealflowError):
    """The request cannot be trusted; `code` is stable for the sender to act on (401, nothing read)."""

    status = 401

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


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


def source_secrets(environ: Mapping[str, str]) -> dict[str, bytes]:
    """source -> secret from `DEALFLOW_SOURCE_SECRETS` in `environ` (api.settings hands it the
    environment); entries without a name or secret are ignored."""
    raw = environ.get(SECRETS_VARIABLE, "")
    secrets: dict[str, bytes] = {}
    for entry in raw.split(","):
        name, _, secret = entry.partition("=")
        if name.strip() and secret.strip():
            secrets[name.strip()] = secret.strip().encode("utf-8")
    return secrets


def secret_for(source: str, environ: Mapping[str, str]) -> bytes | None:
    return source_secrets(environ).get(source)


def signed_content(timestamp: str, body: bytes) -> bytes:
    """What a webhook signature covers: the timestamp header, a dot, then the raw body."""
    return timestamp.encode("ascii") + b"." + body


def sign_request(secret: bytes, body: bytes, timestamp: int) -> dict[str, str]:
    """The two headers a sender adds to `body` sent at unix time `timestamp`."""
    stamp = str(int(timestamp))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: "sha256=" + sign(secret, signed_content(stamp, body))}


def verify_request(secret: bytes | None, body: bytes, signature: str | None, timestamp: str | None, *,
                   now: float, tolerance: float = DEFAULT_TOLERANCE) -> None:
    """Raise SignatureRefused unless `signature` signs `timestamp` + `body` under `secret` and
    the timestamp is within `tolerance` seconds of `now`.

    The HMAC is checked before the age, so `stale_signature` is only ever said about a request
    the sender really signed (an honest hint to fix its clock); a forger learns nothing more
    than `bad_signature`.
    """
    if not secret:
        raise SignatureRefused("unknown_source", "no secret is configured for this source")
    if not signature or not timestamp:
        raise SignatureRefused("missing_signature",
                               f"the {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} headers are required")
    stamp = timestamp.strip()
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise SignatureRefused("bad_signature", f"{TIMESTAMP_HEADER} must be unix time in whole seconds")
    if not verify_signature(secret, signed_content(stamp, body), signature):
        raise SignatureRefused("bad_signature", "the signature does not match the body")
    if abs(now - int(stamp)) > tolerance:
        raise SignatureRefused("stale_signature",
                               f"the timestamp is more than {tolerance:g} s away from the server's clock")


def replay_key(event_type: str, given: str | None, signature: str) -> str | None:
    """The idempotency key for a signed event: the sender's own key if it gave one; none for
    order events (the intake keys them by order number); otherwise the signature itself, so
    an exact replay inside the tolerance window is recognised as the repeat it is."""
    if given is not None or event_type in NATURAL_KEYS:
        return given
    digest = signature.strip().lower().removeprefix("sha256=")
    return f"sig:{digest}"
