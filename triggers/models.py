"""Tables of the event intake (stored events, idempotency keys)."""
