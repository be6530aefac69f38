"""What the store is told when an event cannot be applied, and how a designer replays one
whose rule failed — through HTTP alone, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from tests.support.http import API, Integration
from tests.support.world import store_order as order

FAILING = '''pipeline main "Sales"

trigger "order paid" on order.paid:
  set_field("amount_to_collect", deal.down_payment * 2)
'''
FIXED = '''pipeline main "Sales"

trigger "order paid" on order.paid:
  set_field("payment_status", "paid")
'''


def save_main(designer, text: str) -> None:
    response = designer.client.put(f"{API}/robots/main", json={"text": text}, headers=designer.headers("PUT"))
    assert response.status_code == 200, response.json


def created(store: Integration, order_id: str) -> int:
    [deal_id] = store.event("order.created", order(order_id))["created_deal_ids"]
    return deal_id


def test_a_rule_that_fails_on_an_empty_field_is_recorded_and_the_event_replayed_after_the_fix(store, signed_in,
                                                                                              admin):
    designer = signed_in("designer")
    deal_id = created(store, "R-1")
    save_main(designer, FAILING)

    paid = store.send("order.paid", {"order_id": "R-1", "paid": True}, key="pay-R-1")
    assert paid.status_code == 202
    [evaluation] = paid.json["evaluations"]
    assert evaluation["outcome"] == "failed" and "deal.down_payment is empty" in evaluation["reason"]
    assert store.send("order.paid", {"order_id": "R-1", "paid": True}, key="pay-R-1").status_code == 200

    save_main(designer, FIXED)
    event = f"/events/{paid.json['event_id']}"
    assert store.call("POST", f"{event}/replay").status_code == 403  # the store sends, designers replay
    replayed = designer.call("POST", f"{event}/replay")
    assert replayed.status_code == 200, replayed.json
    assert [e["outcome"] for e in replayed.json["evaluations"]] == ["matched"]
    assert admin.deal(deal_id)["fields"]["payment_status"] == "paid"

    again = designer.call("POST", f"{event}/replay")
    assert (again.status_code, again.json["code"]) == (409, "not_replayable")
    stored = designer.get(event)
    assert stored["outcome"]["replaced"][0]["evaluations"][0]["outcome"] == "failed"
    assert designer.call("POST", "/events/999999/replay").status_code == 404


def test_order_paid_before_its_order_is_409_with_nothing_stored_and_its_resend_applies(store, admin):
    early = store.send("order.paid", {"order_id": "R-2", "paid": True}, key="pay-R-2")
    assert (early.status_code, early.json["code"]) == (409, "deal_not_yet")
    assert int(early.headers["Retry-After"]) > 0
    deal_id = created(store, "R-2")
    resent = store.send("order.paid", {"order_id": "R-2", "paid": True}, key="pay-R-2")
    assert resent.status_code == 202 and resent.json["deal_ids"] == [deal_id]
    assert admin.deal(deal_id)["fields"]["payment_status"] == "paid"


def test_an_order_with_a_lone_surrogate_is_422_and_the_corrected_resend_makes_the_deal(store):
    bad = {"type": "order.created", "source": "store", "idempotency_key": "order-R-3",
           "payload": order("R-3", customer={"name": "Irina PLACEHOLDER", "phone": "+7 903 555-01-02"})}
    raw = json.dumps(bad).replace("PLACEHOLDER", "\\ud800")  # valid JSON, not text
    refused = store.client.post(f"{API}/events", data=raw, content_type="application/json",
                                headers=store.headers("POST"))
    assert refused.status_code == 422, refused.json
    corrected = store.send("order.created", order("R-3"), key="order-R-3")
    assert corrected.status_code == 202 and len(corrected.json["created_deal_ids"]) == 1
