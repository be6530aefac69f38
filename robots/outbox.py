"""The outbox: external calls (email, SMS, webhooks) leave dealflow through here, at least once.

An action never talks to the outside world in the middle of a transaction that may still
roll back. It writes an outbox row in the caller's transaction instead, so the message
exists exactly when the deal change that caused it commits. `deliver_due` sends due rows
later, retrying with exponential backoff; after the last attempt the row is `failed` and the
deal's timeline says so, for a person to look at and `retry`. Every attempt carries the same
idempotency key, so a receiver can drop repeats: a crash between sending and committing
means the message goes again.

Several workers deliver at once: each claims a batch of due rows (engine.jobs.claim_due) and
sends them with no transaction open, so a slow receiver holds no lock and no connection; the
result is recorded afterwards, if the row is still pending. The job loop's heartbeat
(engine.jobs.Heartbeat) renews the claims of the batch in hand, so a slow receiver never
makes a live worker lose its message to another; a worker killed mid-delivery stops
renewing, its claim expires one lease later, and another worker sends the message again,
same key.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.clock import Clock
from crm.db import Database
from crm.events import Cause
from crm.models import Deal
from crm.service import Crm
from engine.actions import ActionContext
from engine.jobs import DEFAULT_LEASE, HeldClaims, claim_due, new_worker_id
from engine.retry import OUTBOX_RETRY, RetryPolicy
from engine.scripting import to_json_safe as json_safe
from robots.actions.tables import OUTBOX_KINDS, OutboxMessage, savepoint

log = logging.getLogger(__name__)

OUTBOX_CAUSE = Cause.system("outbox")


@dataclass(frozen=True)
class Delivery:
    """What a transport is handed: the message, and which attempt this is (1 for the first)."""

    id: int
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    attempt: int
    deal_id: int | None


class Transport(Protocol):
    def send(self, delivery: Delivery) -> None:
        """Deliver or raise; raise PermanentDeliveryError when retrying cannot help."""


class DeliveryError(Exception):
    """A delivery attempt failed; it will be retried."""


class PermanentDeliveryError(DeliveryError):
    """A delivery that can never succeed as it is (refused address, 4xx): no more attempts."""


def idempotency_key(action: str, deal_id: int | None, source: str | None, payload: Mapping[str, Any]) -> str:
    """sha256 of what makes a message this message: the same step sending the same thing again
    (a retried service task, a re-run robot) gets the same key and is not sent twice."""
    body = json.dumps([action, deal_id, source, json_safe(dict(payload))], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def source_of(cause: Cause, instance_id: int | None = None) -> str:
    """`process:12` for a BPMN instance, else the cause (`robot:credit.documents.1`)."""
    if instance_id is not None:
        return f"process:{instance_id}"
    parts = [f"{cause.kind}:{cause.ref or cause.label or ''}", *cause.chain]
    return "/".join(parts)[:200]


def enqueue(
    crm: Crm,
    kind: str,
    payload: Mapping[str, Any],
    *,
    deal: Deal | None,
    source: str | None,
    cause: Cause,
    action: str | None = None,
    key: str | None = None,
    summary: str | None = None,
) -> tuple[OutboxMessage, bool]:
    """Queue a message in the caller's transaction; (row, True) if new, (existing row, False) if
    a message with the same idempotency key was queued before."""
    if kind not in OUTBOX_KINDS:
        raise ValueError(f"outbox kind must be one of {OUTBOX_KINDS}, not {kind!r}")
    body = json_safe(dict(payload))
    deal_id = deal.id if deal is not None else None
    key = key or idempotency_key(action or kind, deal_id, source, body)
    existing = _by_key(crm, key)
    if existing is not None:
        return existing, False
    now = crm.now()
    message = OutboxMessage(kind=kind, idempotency_key=key, deal_id=deal_id, source=source, payload=body,
                            status="pending", attempts=0, next_attempt_at=now, created_at=now)
    try:
        with savepoint(crm.session):
            crm.session.add(message)
            crm.session.flush()
    except IntegrityError:  # queued at the same moment by another transaction
        found = _by_key(crm, key)
        if found is None:
            raise
        return found, False
    if deal is not None:
        crm.add_note(deal, f"{kind}_queued", summary or f"{kind.capitalize()} queued", cause=cause,
                     data={"outbox_id": message.id, "idempotency_key": key})
    return message, True


def queue(ctx: ActionContext, kind: str, payload: Mapping[str, Any], *, action: str,
          summary: str | None = None) -> tuple[OutboxMessage, bool]:
    """The author API's way to send something outside dealflow: queue a `kind` ("webhook",
    "email", "sms") message for `ctx.deal` in the caller's transaction; it is delivered after
    the commit, retried with backoff, with one idempotency key for every attempt (the same
    action with the same payload for the same deal and caller is queued once). Returns
    (message, True) if new, (the message queued before, False) otherwise."""
    return enqueue(ctx.service, kind, payload, deal=ctx.deal, cause=ctx.cause, action=action,
                   source=source_of(ctx.cause, ctx.instance_id), summary=summary)


def deliver_due(
    db: Database,
    clock: Clock,
    transports: Mapping[str, Transport],
    limit: int = 100,
    *,
    retry: RetryPolicy = OUTBOX_RETRY,
    worker: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    claims: HeldClaims | None = None,
) -> int:
    """Claim the messages due by the clock and attempt each; returns how many were sent.

    A failed attempt is tried again when `retry` (engine.retry) says; the last attempt it
    allows (or a permanent failure) marks the row `failed` and notes it on the deal.
    The claimed ids are kept in `claims` while they are in hand, for the heartbeat of
    `worker` to renew; without one (a bare call) a delivery longer than `lease` may be sent
    by another worker at the same time too (harmless, same key, but wasteful).
    """
    worker = worker or new_worker_id()  # claims live within this call, so a fresh name will do
    with db.transaction() as session:
        ids = claim_due(session, OutboxMessage, OutboxMessage.next_attempt_at, worker=worker, now=clock.now(),
                        lease=lease, limit=limit)
    if claims is not None:
        claims.hold(OutboxMessage, ids)
    try:
        return _deliver_claimed(db, clock, transports, ids, worker, lease, retry)
    finally:
        if claims is not None:
            claims.drop(OutboxMessage, ids)


def _deliver_claimed(db: Database, clock: Clock, transports: Mapping[str, Transport], ids: list[int],
                     worker: str, lease: timedelta, retry: RetryPolicy) -> int:
    sent = 0
    for message_id in ids:
        with db.transaction() as session:
            delivery = _start(session, clock, message_id, worker, lease)
        if delivery is None:
            continue
        error = _send(delivery, transports)
        with db.transaction() as session:
            message = session.scalar(
                select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
                .with_for_update()
            )
            if message is None:
                continue  # a worker that took over after our claim ran out recorded it first
            if _record(Crm(session, clock), message, error, retry):
                sent += 1
    return sent


def _start(session: Session, clock: Clock, message_id: int, worker: str, lease: timedelta) -> Delivery | None:
    """The delivery to attempt, with this message's claim renewed for the length of one attempt;
    None if the message is no longer ours (sent, or taken over after our claim ran out)."""
    message = session.scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "pending",
                                    OutboxMessage.claimed_by == worker).with_for_update()
    )
    if message is None:
        return None
    message.claimed_until = clock.now() + lease
    return Delivery(message.id, message.kind, message.idempotency_key, dict(message.payload),
                    message.attempts + 1, message.deal_id)


def _send(delivery: Delivery, transports: Mapping[str, Transport]) -> Exception | None:
    """Hand the delivery to its transport; the error if it failed."""
    try:
        transport = transports.get(delivery.kind)
        if transport is None:
            raise PermanentDeliveryError(f"no transport is configured for {delivery.kind}")
        transport.send(delivery)
    except Exception as err:  # any failure of a transport is a failed attempt, recorded on the row
        return err
    return None


def retry(crm: Crm, message_id: int, *, cause: Cause) -> OutboxMessage:
    """Give a failed message a fresh set of attempts (a person fixed the address or the receiver)."""
    message = crm.session.get(OutboxMessage, message_id)
    if message is None:
        raise LookupError(f"outbox message {message_id} does not exist")
    if message.status == "failed":
        message.status, message.attempts, message.next_attempt_at = "pending", 0, crm.now()
        if message.deal_id is not None:
            crm.add_note(crm.deal(message.deal_id), "delivery_retried",
                         f"{message.kind.capitalize()} delivery retried", cause=cause,
                         data={"outbox_id": message.id})
    return message


def pending(crm: Crm, deal: Deal | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id)
    if deal is not None:
        query = query.where(OutboxMessage.deal_id == deal.id)
    return list(crm.session.scalars(query))


def _record(crm: Crm, message: OutboxMessage, error: Exception | None, retry: RetryPolicy) -> bool:
    """Write down how the attempt went; True if the message is now sent."""
    now = crm.now()
    message.attempts += 1
    message.claimed_by, message.claimed_until = None, None
    if error is None:
        message.status, message.sent_at, message.last_error = "sent", now, None
        return True
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    retry_at = retry.next_attempt(message.attempts, now)
    if retry_at is not None and not isinstance(error, PermanentDeliveryError):
        message.next_attempt_at = retry_at
        log.warning("outbox %s attempt %s failed: %s", message.id, message.attempts, message.last_error)
        return False
    message.status = "failed"
    log.error("outbox %s failed for good: %s", message.id, message.last_error)
    if message.deal_id is not None:
        crm.add_note(
            crm.deal(message.deal_id), "delivery_failed",
            f"{message.kind.capitalize()} could not be delivered after {message.attempts} attempt(s): "
            f"{message.last_error}",
            cause=OUTBOX_CAUSE, data={"outbox_id": message.id, "attempts": message.attempts},
        )
    return False


def _by_key(crm: Crm, key: str) -> OutboxMessage | None:
    return crm.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
