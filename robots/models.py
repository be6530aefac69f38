"""Tables of the robots runtime: the automation texts and the automation log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base


class AutomationSource(Base):
    """The DSL text of one pipeline's robots and triggers (or of the `global` rules).

    Every save is a new row, so what ran when can always be read back; the newest row of a
    scope is the one in force.
    """

    __tablename__ = "automation_sources"
    __table_args__ = (Index("ix_automation_sources_scope_version", "scope", "version", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    # sha256 of the text: parsed files are cached by it, so two databases (tests, sandboxes)
    # holding different texts under the same version never share a cache entry.
    checksum: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime]
    saved_by: Mapped[str | None] = mapped_column(String(200))


class AutomationLogEntry(Base):
    """One evaluation of a robot or trigger for a deal, with its outcome and the reason.

    "Why did my robot not fire?" is answered from these rows alone: scheduled (and for
    when), waiting, ran, skipped (with the values the condition saw), cancelled (by which
    move), failed (with the error), stopped by the loop guard.
    """

    __tablename__ = "automation_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int | None] = mapped_column(index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))  # robot / trigger
    scope: Mapped[str | None] = mapped_column(String(100))
    stage: Mapped[str | None] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    job_id: Mapped[int | None]
