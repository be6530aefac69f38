"""Tables of the process engine: definitions, instances, jobs, waits, history, incidents.

A BPMN spec is stored once per deployed version; an instance stores only its own task tree
and data. Jobs are the single durable queue for everything that happens later (timers,
retries, delayed robots): a restart loses nothing because nothing waits only in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base


class ProcessVersion(Base):
    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    xml: Mapped[str] = mapped_column(Text, deferred=True)
    checksum: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(deferred=True)
    parameters: Mapped[list[Any]]
    required_fields: Mapped[list[Any]]
    messages: Mapped[list[Any]]
    start_messages: Mapped[list[Any]]
    created_at: Mapped[datetime]


@dataclass(frozen=True)
class VersionSummary:
    """What running an instance needs to know of its (immutable) version, cached per process."""

    id: int
    key: str
    version: int
    name: str
    parameters: list[Any]
    required_fields: list[Any]

    @staticmethod
    def of(row: ProcessVersion) -> VersionSummary:
        return VersionSummary(row.id, row.key, row.version, row.name, row.parameters, row.required_fields)


class ProcessInstance(Base):
    __tablename__ = "process_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    deal_id: Mapped[int | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # running/completed/cancelled/incident
    state: Mapped[str] = mapped_column(Text)
    # What the derived rows (CRM tasks, message waits, timer jobs) were after the last save.
    derived: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_by: Mapped[dict[str, Any]]
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    is_sandbox: Mapped[bool] = mapped_column(default=False)
    revision: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": revision}


class Job(Base):
    """Something due at a time: a timer, a retry of a failed step, a delayed robot."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # timer / retry / robot ...
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending/done/cancelled/failed
    due_at: Mapped[datetime]
    instance_id: Mapped[int | None] = mapped_column(index=True)
    deal_id: Mapped[int | None] = mapped_column(index=True)
    task_id: Mapped[str | None] = mapped_column(String(40))
    element_id: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class MessageWait(Base):
    """An instance waiting for a message; correlation is by deal and correlation key value,
    decided here, not by Spiff."""

    __tablename__ = "message_waits"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(index=True)
    deal_id: Mapped[int | None] = mapped_column(index=True)
    message: Mapped[str] = mapped_column(String(200), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    # The correlation key value the wait is correlated by, once its conversation has one
    # (engine/collaboration.py); None: any message of its name for its deal.
    correlation: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime]


class HistoryEntry(Base):
    __tablename__ = "instance_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(index=True)
    at: Mapped[datetime]
    element_id: Mapped[str] = mapped_column(String(200))
    element_name: Mapped[str | None] = mapped_column(String(300))
    element_type: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(30))  # completed / waiting / error / message / timer ...
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Incident(Base):
    """A step that failed after its retries; kept until someone retries it after a fix."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(index=True)
    element_id: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="open")  # open / resolved
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    # What failed, beyond the message: the expression and the values it saw (engine.operations).
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DecisionVersion(Base):
    """One immutable version of a DMN decision table (engine.dmn), beside the process versions:
    `table` is the table compiled to dsl at deploy; `xml` the whole DMN file it came from."""

    __tablename__ = "decision_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    hit_policy: Mapped[str] = mapped_column(String(20))
    xml: Mapped[str] = mapped_column(Text, deferred=True)
    checksum: Mapped[str] = mapped_column(String(64))
    table: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
