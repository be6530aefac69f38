"""Tables of the event intake: every accepted outside event, stored once.

A store, a bank or a telephony provider retries when it gets no answer, so the same event can
arrive twice, even at the same moment on two workers. `(source, idempotency_key)` is UNIQUE:
the database, not a read-then-write check, decides which copy is the first. The stored
outcome is what a repeat gets back, so a retry sees the same answer as the original call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("source", "idempotency_key", name="uq_events_source_idempotency_key"),
        Index("ix_events_deal_id_received_at", "deal_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    source: Mapped[str] = mapped_column(String(64))
    # NULL for events that came without one: those are never deduplicated.
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    # The deal the event was about (the first, if several: outcome lists them all); no FK so
    # an event about a deal is kept as evidence whatever happens to the deal.
    deal_id: Mapped[int | None]
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    outcome: Mapped[dict[str, Any]] = mapped_column(default=dict)
