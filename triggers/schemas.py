"""The events dealflow accepts and the shape of each payload.

Every outside system (the store, the bank, telephony, mail, web forms) is a stranger whose
data ends up in trigger conditions (`event.amount > 100000`) and BPMN variables, so each
payload is checked against a schema before anything is stored, and every problem is
reported at once. Unknown keys are refused so a typo in an integration (`ammount`) is an
error rather than a silently missing value; the store's order events have an explicit
`extra` object for whatever else a store wants to pass along. Generic webhooks
(`webhook.<name>`) carry any JSON object, limited only in size.

`EVENT_FIELDS` is derived from the same schemas, so the DSL's save-time check
(`dsl.automation.Catalog.events`) can never disagree with what the intake accepts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from triggers.errors import InvalidEvent

#: A typed event's JSON may not exceed this; webhooks have their own, smaller, limit.
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_WEBHOOK_BYTES = 64 * 1024
WEBHOOK_PREFIX = "webhook."
WEBHOOK_NAME = re.compile(r"^webhook\.[a-z0-9][a-z0-9_.-]{0,63}$")
TEXT = 2000
LONG_TEXT = 100_000


class Reference(fields.Field[str]):
    """An outside system's id: stores send order numbers as numbers or as text; kept as text."""

    dealflow_type = "text"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            raise ValidationError("must be a non-empty text or number")
        text = str(value).strip()
        if len(text) > 100:
            raise ValidationError("is longer than 100 characters")
        return text


def _text(*, required: bool = False, max_length: int = TEXT) -> fields.String:
    return fields.String(required=required, allow_none=not required, validate=validate.Length(max=max_length))


def _money(*, required: bool = False) -> fields.Decimal:
    field = fields.Decimal(required=required, allow_none=not required, allow_nan=False,
                           validate=validate.Range(min=0))
    field.dealflow_type = "money"  # type: ignore[attr-defined]
    return field


def _currency() -> fields.String:
    return fields.String(allow_none=True, validate=validate.Regexp(r"^[A-Za-z]{3}$", error="must be a currency code"))


class _Strict(Schema):
    class Meta:
        unknown = RAISE


# ---------------------------------------------------------------------- store orders


class CustomerSchema(_Strict):
    name = _text()
    phone = _text(max_length=50)
    email = fields.Email(allow_none=True)


class ItemSchema(_Strict):
    name = _text(required=True)
    qty = fields.Integer(load_default=1, validate=validate.Range(min=1))
    price = _money(required=True)
    category = _text()


class CreditSchema(_Strict):
    type = fields.String(required=True, validate=validate.OneOf(["credit", "installment"]))
    bank = _text()
    term_months = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=600))
    down_payment = _money()
    id_document = _text(max_length=100)


class OrderSchema(_Strict):
    """order.paid and order.cancelled: only the order id is required."""

    order_id = Reference(required=True)
    status = _text(max_length=100)
    amount = _money()
    currency = _currency()
    paid = fields.Boolean(allow_none=True)
    shipped = fields.Boolean(allow_none=True)
    payment_method = _text(max_length=100)
    credit = fields.Nested(CreditSchema, allow_none=True)
    customer = fields.Nested(CustomerSchema, allow_none=True)
    address = _text()
    preferred_time = _text(max_length=200)
    items = fields.List(fields.Nested(ItemSchema), validate=validate.Length(max=500))
    department = _text(max_length=64)
    vip = fields.Boolean(allow_none=True)
    comment = _text(max_length=LONG_TEXT)
    reason = _text()
    extra = fields.Dict(keys=fields.String(), allow_none=True)


class OrderCreatedSchema(OrderSchema):
    """A new order must say what it costs and who the client is (found by phone or email)."""

    amount = _money(required=True)
    customer = fields.Nested(CustomerSchema, required=True)

    @validates_schema
    def _reachable_customer(self, data: dict[str, Any], **kwargs: Any) -> None:
        customer = data.get("customer") or {}
        if not customer.get("phone") and not customer.get("email"):
            raise ValidationError("a phone or an email is required", "customer")


# ---------------------------------------------------------------------- money, mail, calls, forms


class PaymentReceivedSchema(_Strict):
    deal_id = fields.Integer(allow_none=True)
    order_id = Reference(allow_none=True)
    amount = _money(required=True)
    currency = _currency()
    payment_id = Reference(allow_none=True)
    method = _text(max_length=100)

    @validates_schema
    def _about_something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("deal_id") is None and data.get("order_id") is None:
            raise ValidationError("deal_id or order_id is required", "deal_id")


EmailReceivedSchema = Schema.from_dict(
    {
        "from": fields.Email(required=True),
        "to": _text(max_length=500),
        "subject": _text(max_length=1000),
        "body": _text(max_length=LONG_TEXT),
        "message_id": _text(max_length=500),
    },
    name="EmailReceivedSchema",
)


class CallSchema(_Strict):
    phone = fields.String(required=True, validate=[validate.Length(max=50),
                                                   validate.Regexp(r"^\D*\d", error="has no digits")])
    line = _text(max_length=100)
    duration = fields.Integer(load_default=0, validate=validate.Range(min=0))
    call_id = Reference(allow_none=True)


class FormSubmittedSchema(_Strict):
    form = Reference(required=True)
    name = _text()
    phone = _text(max_length=50)
    email = fields.Email(allow_none=True)
    message = _text(max_length=LONG_TEXT)
    responsible = Reference(allow_none=True)

    @validates_schema
    def _reachable(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("phone") and not data.get("email"):
            raise ValidationError("a phone or an email is required", "phone")


# ---------------------------------------------------------------------- CRM and bank


class TaskEventSchema(_Strict):
    """task.completed and task.moved, from the CRM itself or from an outside task board."""

    task_id = fields.Integer(required=True)
    deal_id = fields.Integer(allow_none=True)
    title = _text(max_length=300)
    group = _text(max_length=64)
    column = _text(max_length=64)
    from_column = _text(max_length=64)
    result = fields.Dict(keys=fields.String(), allow_none=True)


class FieldChangedSchema(_Strict):
    deal_id = fields.Integer(required=True)
    field = fields.String(required=True, validate=validate.Length(min=1, max=64))
    old = fields.Raw(allow_none=True)
    new = fields.Raw(allow_none=True)


class BankDecisionSchema(_Strict):
    deal_id = fields.Integer(required=True)
    approved = fields.Boolean(required=True)
    bank = _text(max_length=200)
    comment = _text(max_length=LONG_TEXT)


SCHEMAS: dict[str, Schema] = {
    "order.created": OrderCreatedSchema(),
    "order.paid": OrderSchema(),
    "order.cancelled": OrderSchema(),
    "payment.received": PaymentReceivedSchema(),
    "email.received": EmailReceivedSchema(unknown=RAISE),
    "call.incoming": CallSchema(),
    "call.missed": CallSchema(),
    "form.submitted": FormSubmittedSchema(),
    "task.completed": TaskEventSchema(),
    "task.moved": TaskEventSchema(),
    "deal.field_changed": FieldChangedSchema(),
    "bank.decision": BankDecisionSchema(),
}


def is_known(event_type: str) -> bool:
    return event_type in SCHEMAS or bool(WEBHOOK_NAME.match(event_type))


def validate_payload(event_type: str, payload: Any) -> dict[str, Any]:
    """The payload as typed Python values (Decimal money, bools), or InvalidEvent naming every bad field."""
    if not isinstance(event_type, str) or not is_known(event_type):
        known = ", ".join(sorted(SCHEMAS))
        raise InvalidEvent(str(event_type), {"type": f"unknown event type; known: {known}, webhook.<name>"})
    if not isinstance(payload, Mapping):
        raise InvalidEvent(event_type, {"payload": "must be a JSON object"})
    limit = MAX_WEBHOOK_BYTES if event_type.startswith(WEBHOOK_PREFIX) else MAX_PAYLOAD_BYTES
    try:
        size = len(json.dumps(payload, default=str).encode("utf-8"))
    except (TypeError, ValueError) as err:
        raise InvalidEvent(event_type, {"payload": f"is not JSON data ({err})"}) from None
    if size > limit:
        raise InvalidEvent(event_type, {"payload": f"is {size} bytes; the limit is {limit}"})
    unstorable = unstorable_text(payload)
    if unstorable:
        raise InvalidEvent(event_type, unstorable)
    if event_type.startswith(WEBHOOK_PREFIX):
        return dict(payload)
    try:
        loaded: dict[str, Any] = SCHEMAS[event_type].load(dict(payload))  # marshmallow types load() as Any
        return loaded
    except ValidationError as err:
        raise InvalidEvent(event_type, flatten_messages(err.messages)) from None


_SURROGATE = re.compile("[\ud800-\udfff]")


def unstorable_text(value: Any, path: str = "payload") -> dict[str, str]:
    """Every text in `value` (keys too) that no database can store: a lone UTF-16 surrogate
    (`"\\ud800"` is valid JSON but not Unicode text) or a NUL character (PostgreSQL's text
    cannot hold it). Found here, before anything is stored, it is a 422 the sender can fix; found
    by the database halfway through a rule, it used to fail the rule and swallow the event."""
    problems: dict[str, str] = {}
    if isinstance(value, str):
        if _SURROGATE.search(value):
            problems[path] = "holds a lone surrogate (\\ud800-\\udfff), which is not text"
        elif "\x00" in value:
            problems[path] = "holds a NUL character"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{path}.{key}" if path != "payload" else str(key)
            if isinstance(key, str) and (_SURROGATE.search(key) or "\x00" in key):
                problems[path] = f"has a key that is not text ({key.encode('utf-8', 'backslashreplace')!r})"
                continue
            problems.update(unstorable_text(item, name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            problems.update(unstorable_text(item, f"{path}[{index}]"))
    return problems


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as {"customer.phone": "...", "items[0].price": "..."}."""
    flat: dict[str, str] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key == "_schema":
                name = prefix or "payload"
            elif isinstance(key, int):
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for sub_key, text in flatten_messages(value, name).items():
                flat[sub_key] = f"{flat[sub_key]} {text}" if sub_key in flat else text
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        flat[prefix or "payload"] = " ".join(messages)
    elif isinstance(messages, list | tuple):
        for item in messages:
            flat.update(flatten_messages(item, prefix))
    else:
        flat[prefix or "payload"] = str(messages)
    return flat


# ---------------------------------------------------------------------- for the DSL's checks

_TYPES: tuple[tuple[type, str], ...] = (
    (fields.Boolean, "bool"),
    (fields.Integer, "number"),
    (fields.Decimal, "number"),
    (fields.DateTime, "datetime"),
    (fields.Date, "date"),
    (fields.List, "list"),
    (fields.Nested, "dict"),
    (fields.Dict, "dict"),
    (fields.String, "text"),
)


def dsl_type(field: fields.Field[Any]) -> str:
    declared = getattr(field, "dealflow_type", None)
    if declared:
        return str(declared)
    return next((name for cls, name in _TYPES if isinstance(field, cls)), "any")


def _fields_of(schema: Schema) -> dict[str, str]:
    return {name: dsl_type(field) for name, field in schema.fields.items()}


#: event type -> payload field -> dsl type name, for `dsl.automation.Catalog.events`.
#: "webhook.*" stands for every `webhook.<name>` event: its payload is free, so any field.
EVENT_FIELDS: dict[str, dict[str, str]] = {
    **{event_type: _fields_of(schema) for event_type, schema in SCHEMAS.items()},
    "webhook.*": {},
}
