"""Actions that reach outside dealflow: email, SMS, webhooks. Each only queues an outbox row.

The row is written in the caller's transaction and sent later by `robots.outbox.deliver_due`,
so a rolled-back step sends nothing and a retried one does not send twice (same
idempotency key). The result says what was queued; delivery is on the deal's timeline.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from crm import channels
from crm.models import Contact, User
from engine.actions import ActionContext, ActionInputError
from engine.scripting import to_json_safe
from robots import outbox
from robots.actions.addresses import AddressRefused, check_url
from robots.actions.fields import NOT_GIVEN, Recipient, Recipients, Text
from robots.actions.registry import action

KEY_DESCRIPTION = "idempotency key; by default derived from the action, deal, caller and payload"


def _queue(ctx: ActionContext, name: str, kind: str, payload: dict[str, Any], key: str | None,
           summary: str) -> dict[str, Any]:
    source = outbox.source_of(ctx.cause, ctx.instance_id)
    message, created = outbox.enqueue(ctx.service, kind, payload, deal=ctx.deal, source=source, cause=ctx.cause,
                                      action=name, key=key, summary=summary)
    return {"outbox_id": message.id, "idempotency_key": message.idempotency_key, "queued": created,
            "status": message.status}


def _email_of(ctx: ActionContext, to: Recipients) -> str:
    if to is NOT_GIVEN:
        to = _client(ctx, "email")
    if isinstance(to, tuple):
        kind, ref = to
        record = ctx.crm.user(ref) if kind == "user" else ctx.crm.contact(ref)
        address = record.email if isinstance(record, User) else next(iter(record.emails or []), None)
        if not address:
            raise ActionInputError(f"{record.name} has no email address")
        return address
    if "@" in to:
        normalized = channels.normalize_email(to)
        if normalized is None:
            raise ActionInputError(f"{to!r} is not an email address", {"to": "not an email address"})
        return to
    user = ctx.crm.user(to)  # a login
    if not user.email:
        raise ActionInputError(f"{user.name} has no email address")
    return user.email


def _phone_of(ctx: ActionContext, to: Recipients) -> str:
    if to is NOT_GIVEN:
        to = _client(ctx, "phone")
    if isinstance(to, tuple):
        kind, ref = to
        record = ctx.crm.user(ref) if kind == "user" else ctx.crm.contact(ref)
        phone = record.phone if isinstance(record, User) else next(iter(record.phones or []), None)
        if not phone:
            raise ActionInputError(f"{record.name} has no phone number")
        to = phone
    if not any(char.isdigit() for char in to):  # a login
        user = ctx.crm.user(to)
        if not user.phone:
            raise ActionInputError(f"{user.name} has no phone number")
        to = user.phone
    normalized = channels.normalize_phone(to)
    if normalized is None or len(normalized) < 5:
        raise ActionInputError(f"{to!r} is not a phone number", {"to": "not a phone number"})
    return f"+{normalized}"


def _client(ctx: ActionContext, what: str) -> tuple[str, int]:
    deal = ctx.deal
    contact: Contact | None = deal.contact if deal is not None else None
    if contact is None:
        raise ActionInputError(f"no recipient given and the deal has no contact to take the {what} from")
    return "contact", contact.id


class SendEmailSchema(Schema):
    to = Recipient(load_default=NOT_GIVEN, metadata={
        "description": "address, user or contact; the deal's contact if not given"})
    subject = Text(required=True)
    body = Text(load_default="")
    idempotency_key = fields.String(load_default=None, metadata={"description": KEY_DESCRIPTION})


@action("send_email", SendEmailSchema, category="messages", positional=("to", "subject", "body"),
        description="Send an email (queued in the outbox, delivered with retries)")
def send_email(ctx: ActionContext, to: Recipients, subject: str, body: str,
               idempotency_key: str | None) -> dict[str, Any]:
    address = _email_of(ctx, to)
    payload = {"to": address, "subject": subject, "body": body, "deal_id": ctx.deal.id if ctx.deal else None}
    return _queue(ctx, "send_email", "email", payload, idempotency_key, f"Email to {address} queued: {subject}")


class SendSmsSchema(Schema):
    to = Recipient(load_default=NOT_GIVEN, metadata={
        "description": "phone number, user or contact; the deal's contact if not given"})
    text = Text(required=True)
    idempotency_key = fields.String(load_default=None, metadata={"description": KEY_DESCRIPTION})


@action("send_sms", SendSmsSchema, category="messages", positional=("to", "text"),
        description="Send an SMS (queued in the outbox, delivered with retries)")
def send_sms(ctx: ActionContext, to: Recipients, text: str, idempotency_key: str | None) -> dict[str, Any]:
    phone = _phone_of(ctx, to)
    payload = {"to": phone, "text": text, "deal_id": ctx.deal.id if ctx.deal else None}
    return _queue(ctx, "send_sms", "sms", payload, idempotency_key, f"SMS to {phone} queued: {text}")


class WebhookSchema(Schema):
    url = fields.String(required=True, metadata={"description": "http(s) URL; private addresses need the allow-list"})
    payload = fields.Raw(load_default=None, allow_none=True,
                         metadata={"description": "JSON body; {deal_id, deal_title} if empty"})
    headers = fields.Dict(keys=fields.String(), values=fields.String(), load_default=None,
                          metadata={"description": "extra HTTP headers"})
    idempotency_key = fields.String(load_default=None, metadata={"description": KEY_DESCRIPTION})


@action("webhook", WebhookSchema, category="messages", positional=("url", "payload"),
        description="POST JSON to a URL (queued in the outbox, retried, with an Idempotency-Key header)")
def webhook(ctx: ActionContext, url: str, payload: Any, headers: dict[str, str] | None,
            idempotency_key: str | None, *, allow: str = "") -> dict[str, Any]:
    """`allow` is the operator's allow-list (DEALFLOW_WEBHOOK_ALLOW), bound per engine by
    `ActionRegistry.configure` (api.wiring.build_engine); not a parameter a caller gives."""
    try:
        url = check_url(url, allow)
    except AddressRefused as err:
        raise ActionInputError(f"webhook: {err}", {"url": str(err)}) from err
    if payload is None:
        payload = {"deal_id": ctx.deal.id, "deal_title": ctx.deal.title} if ctx.deal is not None else {}
    body = {"url": url, "body": to_json_safe(payload), "headers": dict(headers or {})}
    return _queue(ctx, "webhook", "webhook", body, idempotency_key, f"Webhook queued: POST {url}")
