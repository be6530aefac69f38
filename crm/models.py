"""The tables of the embedded CRM.

Only `crm.service.Crm` writes them, so every change gets its timeline entry and its event.
Flexible parts (custom fields, products, task data) are JSON so that a new field type or a
store's extra order data needs no migration; everything that is looked up by (stage, phone,
BPMN element, assignee...) is a real, indexed column.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Base

Money = Numeric(14, 2)

STAGE_KINDS = ("in_progress", "won", "lost")
CREDENTIAL_KINDS = ("session", "token")
FIELD_TYPES = ("string", "number", "money", "date", "datetime", "bool", "enum", "user")
ROLES = (
    "administrator", "director", "designer", "head", "manager", "driver", "purchaser", "logistician", "integration",
)
TASK_STATUSES = ("open", "done", "archived")
# The languages the app has catalogs for (designer/src/locales, api/messages.py).
LANGUAGES = ("en", "uk", "ru")
LEAD_STATUSES = ("new", "converted", "junk")
CHANNEL_KINDS = ("phone", "email")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # No FK: departments and users point at each other, and Alembic's autogenerate drops a
    # deferred (use_alter) constraint; the service checks the head exists instead.
    head_id: Mapped[int | None] = mapped_column(index=True)

    head: Mapped[User | None] = relationship(primaryjoin="foreign(Department.head_id) == User.id", post_update=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    roles: Mapped[list[Any]] = mapped_column(default=list)
    present: Mapped[bool] = mapped_column(default=True)
    working_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The language the person reads the app in (en, uk, ru): kept on the user, not the browser,
    # so a shared shop computer or a new phone opens in the person's own language at sign-in.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Consecutive wrong passwords, and the lock they earned (guessing passwords gets slow).
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    supervisor: Mapped[User | None] = relationship(remote_side=[id])


class Pipeline(Base):
    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    sort: Mapped[int] = mapped_column(default=0)
    # The pick list a lost stage asks for (stage gates, S1/S3): short phrases in the store's words.
    loss_reasons: Mapped[list[Any]] = mapped_column(default=list)

    stages: Mapped[list[Stage]] = relationship(
        back_populates="pipeline", order_by="Stage.sort", cascade="all, delete-orphan"
    )


class Stage(Base):
    __tablename__ = "stages"
    __table_args__ = (
        UniqueConstraint("pipeline_id", "code", name="uq_stages_pipeline_id_code"),
        CheckConstraint(_one_of("kind", STAGE_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    sort: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16), default="in_progress")
    is_start: Mapped[bool] = mapped_column(default=False)
    # The stage gate: field codes that must be filled before a deal may enter (checked in
    # Crm.move_deal, the one place every move passes).
    required_fields: Mapped[list[Any]] = mapped_column(default=list)

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")

    @property
    def is_closing(self) -> bool:
        return self.kind != "in_progress"

    @property
    def ref(self) -> str:
        """The qualified name used in the DSL and the API: "credit.documents"."""
        return f"{self.pipeline.code}.{self.code}"


class FieldDef(Base):
    """A typed custom deal field; pipeline_id NULL means it applies to every pipeline."""

    __tablename__ = "field_defs"
    __table_args__ = (
        UniqueConstraint("pipeline_id", "code", name="uq_field_defs_pipeline_id_code"),
        CheckConstraint(_one_of("type", FIELD_TYPES), name="type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int | None] = mapped_column(ForeignKey("pipelines.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    options: Mapped[list[Any]] = mapped_column(default=list)
    sort: Mapped[int] = mapped_column(default=0)


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phones: Mapped[list[Any]] = mapped_column(default=list)
    emails: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]

    channels: Mapped[list[ContactChannel]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", order_by="ContactChannel.id"
    )


class ContactChannel(Base):
    """A normalized phone or email of a contact: the index behind "find by phone or email"."""

    __tablename__ = "contact_channels"
    __table_args__ = (
        Index("ix_contact_channels_kind_value", "kind", "value"),
        CheckConstraint(_one_of("kind", CHANNEL_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(200))

    contact: Mapped[Contact] = relationship(back_populates="channels")


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (CheckConstraint(_one_of("status", LEAD_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class Deal(Base):
    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_pipeline_id_stage_id", "pipeline_id", "stage_id"),
        # One outside order is one deal, whatever idempotency keys its events carried: the
        # database refuses the second deal of the same (source, order number), so two workers
        # making it at the same moment cannot both win (NULLs — deals not made from an order —
        # never collide).
        UniqueConstraint("order_source", "order_number", name="uq_deals_order_source_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"), index=True)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    source: Mapped[str | None] = mapped_column(String(100))
    products: Mapped[list[Any]] = mapped_column(default=list)
    # Custom field values by FieldDef code, JSON-safe (dates as ISO strings): see crm.values.
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    stage_entered_at: Mapped[datetime]
    # Why a lost deal was lost, from its pipeline's pick list; cleared when it leaves the lost stage.
    loss_reason: Mapped[str | None] = mapped_column(String(200))
    is_sandbox: Mapped[bool] = mapped_column(default=False)
    # The outside order this deal was made from: who sent it (the event's source) and its number.
    order_source: Mapped[str | None] = mapped_column(String(64))
    order_number: Mapped[str | None] = mapped_column(String(100))
    # Optimistic locking: a writer holding a stale copy gets StaleDataError, not a lost update.
    version: Mapped[int] = mapped_column(default=1)

    pipeline: Mapped[Pipeline] = relationship()
    stage: Mapped[Stage] = relationship()
    responsible: Mapped[User | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    department: Mapped[Department | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_group_column", "group", "column"),
        CheckConstraint(_one_of("status", TASK_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    group: Mapped[str | None] = mapped_column(String(64))
    column: Mapped[str] = mapped_column(String(64), default="new")
    deadline: Mapped[datetime | None]
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The BPMN user task this stands for; no FK so crm does not depend on engine tables.
    process_instance_id: Mapped[int | None] = mapped_column(index=True)
    element_id: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_kind: Mapped[str | None] = mapped_column(String(16))
    created_by_ref: Mapped[str | None] = mapped_column(String(200))
    # Two people completing or dragging the same card at once: the second one is told.
    version: Mapped[int] = mapped_column(default=1)

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    deal: Mapped[Deal | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="info")
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    deal: Mapped[Deal | None] = relationship()


class TimelineEntry(Base):
    """One line of a deal's history, with who or what caused it (crm.events.Cause)."""

    __tablename__ = "timeline_entries"
    __table_args__ = (Index("ix_timeline_entries_deal_id_at", "deal_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    cause_kind: Mapped[str] = mapped_column(String(16))
    cause_ref: Mapped[str | None] = mapped_column(String(200))
    cause_label: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Credential(Base):
    """A browser session or an API token: only a hash of its secret is kept, so a leaked
    database does not let anyone sign in, and revoking is setting `revoked_at`."""

    __tablename__ = "credentials"
    __table_args__ = (CheckConstraint(_one_of("kind", CREDENTIAL_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
