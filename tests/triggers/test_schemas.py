"""What each event must carry: every problem reported at once, unknown fields refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from triggers.errors import InvalidEvent
from triggers.schemas import EVENT_FIELDS, MAX_WEBHOOK_BYTES, SCHEMAS, validate_payload

GOOD = {
    "order.created": {"order_id": 1001, "amount": "45990.50", "customer": {"phone": "+7 916 111-22-33"},
                      "credit": {"type": "installment", "bank": "Tinkoff", "term_months": 6, "down_payment": 0},
                      "items": [{"name": "Bosch", "price": 45990.5, "category": "washing_machines"}],
                      "extra": {"utm": "ads"}},
    "order.paid": {"order_id": "A-1", "amount": 10, "paid": True},
    "order.cancelled": {"order_id": "A-1", "reason": "client changed mind"},
    "payment.received": {"deal_id": 5, "amount": "100.00"},
    "email.received": {"from": "shop@market.example.com", "to": "sales@store.example.com", "subject": "Hi"},
    "call.incoming": {"phone": "+7 916 111-22-33", "line": "sales", "duration": 0},
    "call.missed": {"phone": "89161112233"},
    "form.submitted": {"form": "contact_us", "name": "Olga", "email": "olga@example.com",
                       "responsible": "manager.north1"},
    "task.completed": {"task_id": 3, "deal_id": 5, "group": "logistics", "column": "done", "result": {}},
    "task.moved": {"task_id": 3, "column": "problem", "from_column": "new"},
    "deal.field_changed": {"deal_id": 5, "field": "bank", "old": None, "new": "Sber"},
    "bank.decision": {"deal_id": 5, "approved": False, "comment": "income"},
}


@pytest.mark.parametrize("event_type", sorted(SCHEMAS))
def test_every_event_type_accepts_a_typical_payload_and_refuses_unknown_fields(event_type):
    assert validate_payload(event_type, GOOD[event_type])
    with pytest.raises(InvalidEvent) as refused:
        validate_payload(event_type, {**GOOD[event_type], "surprise": 1})
    assert refused.value.fields == {"surprise": "Unknown field."}


def test_values_come_out_typed():
    order = validate_payload("order.created", GOOD["order.created"])
    assert order["order_id"] == "1001"
    assert order["amount"] == Decimal("45990.50")
    assert order["items"][0] == {"name": "Bosch", "qty": 1, "price": Decimal("45990.5"),
                                 "category": "washing_machines"}
    assert order["extra"] == {"utm": "ads"}


def test_every_problem_is_listed_with_its_path():
    with pytest.raises(InvalidEvent) as refused:
        validate_payload("order.created", {"amount": -1, "customer": {"email": "not-mail"},
                                           "items": [{"name": "x", "price": 1}, {"price": "cheap"}]})
    assert refused.value.fields == {
        "order_id": "Missing data for required field.",
        "amount": "Must be greater than or equal to 0.",
        "customer.email": "Not a valid email address.",
        "items[1].name": "Missing data for required field.",
        "items[1].price": "Not a valid number.",
    }
    assert refused.value.code == "invalid_event"


@pytest.mark.parametrize(("event_type", "payload", "field"), [
    ("order.created", {"order_id": "1", "amount": 1, "customer": {"name": "Anon"}}, "customer"),
    ("payment.received", {"amount": 1}, "deal_id"),
    ("form.submitted", {"form": "f"}, "phone"),
    ("call.incoming", {"phone": "none"}, "phone"),
    ("bank.decision", {"deal_id": 1}, "approved"),
])
def test_what_an_event_cannot_do_without(event_type, payload, field):
    with pytest.raises(InvalidEvent) as refused:
        validate_payload(event_type, payload)
    assert field in refused.value.fields


def test_webhooks_carry_any_object_up_to_a_size():
    assert validate_payload("webhook.delivery_done", {"anything": [1, {"x": None}]}) == {"anything": [1, {"x": None}]}
    with pytest.raises(InvalidEvent) as too_big:
        validate_payload("webhook.big", {"blob": "x" * MAX_WEBHOOK_BYTES})
    assert "limit" in too_big.value.fields["payload"]
    for bad_type in ("webhook.", "webhook.Bad Name", "order.exploded", "Order.Created"):
        with pytest.raises(InvalidEvent) as unknown:
            validate_payload(bad_type, {})
        assert "type" in unknown.value.fields
    with pytest.raises(InvalidEvent):
        validate_payload("webhook.list", [1, 2])  # type: ignore[arg-type]


def test_event_fields_describe_every_payload_in_dsl_types():
    assert set(EVENT_FIELDS) == {*SCHEMAS, "webhook.*"}
    assert EVENT_FIELDS["bank.decision"] == {"deal_id": "number", "approved": "bool", "bank": "text",
                                             "comment": "text"}
    assert EVENT_FIELDS["order.created"]["amount"] == "money"
    assert EVENT_FIELDS["order.created"]["customer"] == "dict"
    assert EVENT_FIELDS["order.created"]["items"] == "list"
    assert EVENT_FIELDS["email.received"]["from"] == "text"
    dsl_types = {"text", "number", "money", "bool", "date", "datetime", "duration", "user", "stage", "list",
                 "dict", "any"}
    assert {t for fields in EVENT_FIELDS.values() for t in fields.values()} <= dsl_types
