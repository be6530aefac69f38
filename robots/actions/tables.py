"""Tables of the action library: the outbox, round-robin turns, and duplicate pairs already flagged.

They are state the actions must keep across transactions and restarts (a message not yet
delivered, whose turn it is, which pair was already reported), so they are rows in the
shared database, written in the caller's transaction like everything else.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm.db import Base

OUTBOX_KINDS = ("email", "sms", "webhook")
OUTBOX_STATUSES = ("pending", "sent", "failed")


class OutboxMessage(Base):
    """One external call to make at least once: an email, an SMS, a webhook.

    `idempotency_key` is unique: enqueueing the same message again (a retried service task)
    finds the row instead of sending twice, and every delivery attempt carries the key so the
    receiver can drop repeats.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in OUTBOX_KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in OUTBOX_STATUSES)})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    # What queued it: "process:12", "robot:credit.documents.1", "trigger:..."; for people reading the queue.
    source: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The worker delivering it and until when (engine.jobs.claim_due): a worker killed in the
    # middle of a delivery stops renewing, and another one sends again with the same key.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class AssignmentTurn(Base):
    """Whose turn it was last in a round-robin pool ("department:store_north/role:manager")."""

    __tablename__ = "assignment_turns"
    __table_args__ = (UniqueConstraint("pool", name="uq_assignment_turns_pool"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pool: Mapped[str] = mapped_column(String(200))
    last_user_id: Mapped[int | None]
    turns: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class DuplicateFlag(Base):
    """A pair of deals already reported as possible duplicates; the lower id comes first."""

    __tablename__ = "duplicate_flags"
    __table_args__ = (UniqueConstraint("first_deal_id", "second_deal_id", name="uq_duplicate_flags_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    first_deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    second_deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    matched_by: Mapped[str] = mapped_column(String(16))
    flagged_at: Mapped[datetime]


def savepoint(session: Session) -> AbstractContextManager[Any]:
    """A savepoint around an insert that may lose a race to another transaction (unique key):
    the loser catches IntegrityError and reads the winner's row, its own transaction intact."""
    return session.begin_nested()
