"""S1 send to bank, S2 warehouse buffer, S4 purchase request — through HTTP alone.

Managers sign in (POST /auth/login, then the session cookie and the X-CSRF-Token header),
create their deal, start the shipped process from it (POST /processes/{key}/start) and read
what happened: the deal, its timeline, the instance, their tasks and their feed. The bank
and the purchasers answer the way they really do: the bank's gateway POSTs its decision to
/events with an API token, a purchaser works the task on the purchasing board. The one step
outside HTTP is the passing of time (`time_passes`: the virtual clock moves and the job loop
runs what fell due). Each test runs on SQLite and on PostgreSQL with the demo store, the
shipped processes and the shipped robots; the demo clock starts on 2026-01-05 09:00 UTC.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.http import Browser, Integration

CREDIT = {"credit_type": "credit", "bank": "Sberbank", "id_document": "4510 123456", "term_months": 12,
          "down_payment": 10000}
INSTALLMENT = {**CREDIT, "credit_type": "installment", "bank": "Tinkoff", "term_months": 6, "down_payment": 0}


@pytest.fixture
def anna(signed_in) -> Browser:
    """manager.north1 of store North; her supervisor is head.north."""
    return signed_in("manager.north1")


@pytest.fixture
def bank(admin) -> Integration:
    return Integration.issued_by(admin, "bank.gateway", "bank", create=True)


def new_deal(manager: Browser, title: str, stage: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manager's own deal in her store, with a client to call."""
    contact = manager.post("/contacts", {"name": "Anna Petrova", "phones": ["+7 900 111-22-33"]})
    return manager.post("/deals", {
        "title": title, "pipeline": "main", "stage": stage, "amount": "85000", "contact_id": contact["id"],
        "responsible_id": manager.user["id"], "department_id": manager.user["department_id"],
        "products": [{"name": "Fridge", "qty": 1, "price": 85000}], "fields": fields or {}})


def start(manager: Browser, key: str, deal_id: int, **params: Any) -> Any:
    return manager.call("POST", f"/processes/{key}/start", {"deal_id": deal_id, "params": params})


def sent_to_bank(manager: Browser, fields: dict[str, Any], ready_date: str = "2026-01-08T09:00:00Z"):
    deal = new_deal(manager, "Fridge on credit", "product_agreement", fields)
    started = start(manager, "send_to_bank", deal["id"], ready_date=ready_date)
    assert started.status_code == 201, started.json
    return deal, started.json


# ---------------------------------------------------------------------- S1 send to bank


def test_s1_1_to_4_a_manager_starts_send_to_bank_with_a_ready_date_and_the_deal_moves_to_credit(anna):
    deal, instance = sent_to_bank(anna, CREDIT)
    assert instance["key"] == "send_to_bank" and instance["status"] == "running"
    moved = anna.deal(deal["id"])
    assert f"{moved['pipeline']}.{moved['stage']}" == "credit.new"
    assert moved["fields"]["ready_date"].startswith("2026-01-08")
    assert anna.get(f"/instances/{instance['id']}")["active_elements"] == ["wait_bank_decision"]
    assert [i["id"] for i in anna.get("/instances", deal_id=deal["id"])] == [instance["id"]]
    moves = [e for e in anna.timeline(deal["id"]) if e["kind"] == "stage_moved"]
    assert moves[-1]["cause"]["kind"] == "process"


def test_s1_4_an_installment_goes_to_the_installment_pipeline(anna):
    deal, _ = sent_to_bank(anna, INSTALLMENT)
    assert anna.where(deal["id"]) == "installment.new"


def test_s1_2_the_start_is_refused_naming_every_missing_credit_field_and_the_deal_is_untouched(anna):
    deal = new_deal(anna, "Oven, credit half filled in", "product_agreement", {"credit_type": "credit"})
    timeline = anna.timeline(deal["id"])
    refused = start(anna, "send_to_bank", deal["id"], ready_date="2026-01-08T09:00:00Z")
    assert refused.status_code == 422 and refused.json["code"] == "start_refused"
    assert refused.json["details"]["missing_fields"] == ["bank", "id_document", "term_months", "down_payment"]
    assert anna.deal(deal["id"]) == deal
    assert anna.timeline(deal["id"]) == timeline
    assert anna.get("/instances", deal_id=deal["id"]) == []


def test_s1_2_once_the_fields_are_filled_in_the_same_start_goes_through(anna):
    deal = new_deal(anna, "Oven, credit half filled in", "product_agreement", {"credit_type": "credit"})
    assert start(anna, "send_to_bank", deal["id"], ready_date="2026-01-08T09:00:00Z").status_code == 422
    anna.patch(f"/deals/{deal['id']}", {"fields": {k: v for k, v in CREDIT.items() if k != "credit_type"},
                                        "version": deal["version"]})
    assert start(anna, "send_to_bank", deal["id"], ready_date="2026-01-08T09:00:00Z").status_code == 201
    assert anna.where(deal["id"]) == "credit.new"


def test_s1_3_the_start_is_refused_without_the_estimated_ready_date(anna):
    deal = new_deal(anna, "Fridge on credit, no date", "product_agreement", CREDIT)
    refused = start(anna, "send_to_bank", deal["id"])
    assert refused.status_code == 422 and "ready_date" in refused.json["details"]["invalid_parameters"]
    assert anna.where(deal["id"]) == "main.product_agreement"


def test_s1_5_at_the_ready_date_a_robot_gives_the_manager_a_task_with_a_deadline_and_a_notification(
        anna, time_passes):
    deal, _ = sent_to_bank(anna, INSTALLMENT, ready_date="2026-01-08T09:00:00Z")
    time_passes(days=2, hours=23)
    assert anna.tasks(deal_id=deal["id"]) == [] and anna.feed() == []
    time_passes(hours=1)
    [task] = anna.tasks(deal_id=deal["id"])
    assert task["title"] == "Contact Anna Petrova again about the installment for Fridge on credit"
    assert task["assignee_id"] == anna.user["id"] and task["deadline"].startswith("2026-01-08T09:00:00")
    assert anna.feed() == ["Ready date for the installment of Fridge on credit: contact the client"]


def test_s1_6_approved_by_the_bank_the_deal_returns_to_order_assembly(anna, bank):
    deal, instance = sent_to_bank(anna, CREDIT)
    answer = bank.event("bank.decision", {"deal_id": deal["id"], "approved": True})
    assert answer["resumed"] == [instance["id"]]
    assert anna.where(deal["id"]) == "main.order_assembly"
    assert anna.get(f"/instances/{instance['id']}")["status"] == "completed"


def test_s1_6_rejected_the_deal_returns_to_product_agreement_with_a_task_and_the_supervisor_is_told(
        anna, bank, signed_in):
    deal, instance = sent_to_bank(anna, CREDIT)
    bank.event("bank.decision", {"deal_id": deal["id"], "approved": False})
    assert anna.where(deal["id"]) == "main.product_agreement"
    [task] = anna.tasks(deal_id=deal["id"], status="open")
    assert task["title"] == "Offer new conditions or another product" and task["assignee_id"] == anna.user["id"]
    assert signed_in("head.north").feed() == [
        "Take the deal Fridge on credit under control: the bank rejected the credit."]
    assert anna.get(f"/instances/{instance['id']}")["status"] == "completed"


def test_s9_the_deal_in_the_bank_pipelines_stays_hidden_from_the_other_store(anna, signed_in):
    deal, instance = sent_to_bank(anna, CREDIT)
    south = signed_in("manager.south1")
    assert south.call("GET", f"/deals/{deal['id']}").status_code == 404
    assert south.call("GET", f"/instances/{instance['id']}").status_code == 404
    assert signed_in("head.north").where(deal["id"]) == "credit.new"


# ---------------------------------------------------------------------- S2 warehouse buffer


def to_warehouse(manager: Browser, return_date: str, stage: str = "order_assembly") -> dict[str, Any]:
    deal = new_deal(manager, "Paid fridge, collected later", stage, {"payment_status": "paid"})
    started = start(manager, "warehouse_buffer", deal["id"], return_date=return_date)
    assert started.status_code == 201, started.json
    return manager.deal(deal["id"])


def test_s2_1_2_the_paid_deal_leaves_the_funnel_for_the_warehouse(anna):
    deal = to_warehouse(anna, "2026-01-10T09:00:00Z")
    assert f"{deal['pipeline']}.{deal['stage']}" == "warehouse.stored"
    assert deal["fields"]["return_date"].startswith("2026-01-10")


def test_s2_1_the_start_is_refused_without_a_return_date(anna):
    deal = new_deal(anna, "Paid kettle", "order_assembly")
    refused = start(anna, "warehouse_buffer", deal["id"])
    assert refused.status_code == 422 and "return_date" in refused.json["details"]["invalid_parameters"]
    assert anna.where(deal["id"]) == "main.order_assembly"


def test_s2_3_on_the_return_date_the_deal_comes_back_to_the_stage_it_left_and_the_manager_is_told(
        anna, time_passes):
    deal = to_warehouse(anna, "2026-01-10T09:00:00Z", stage="shipped")
    time_passes(days=4, hours=23)
    assert anna.where(deal["id"]) == "warehouse.stored" and anna.feed() == []
    time_passes(hours=1)
    assert anna.where(deal["id"]) == "main.shipped"
    assert any("back from the warehouse" in text for text in anna.feed())


def test_s2_3_the_date_moved_later_while_waiting_delays_the_return(anna, time_passes):
    deal = to_warehouse(anna, "2026-01-07T09:00:00Z")
    time_passes(days=1)
    anna.patch(f"/deals/{deal['id']}", {"fields": {"return_date": "2026-01-12T09:00:00Z"}})
    time_passes(days=5, hours=23)
    assert anna.where(deal["id"]) == "warehouse.stored"
    time_passes(hours=1)
    assert anna.where(deal["id"]) == "main.order_assembly"


def test_s2_3_the_date_moved_earlier_while_waiting_brings_the_deal_back_sooner(anna, time_passes):
    deal = to_warehouse(anna, "2026-01-20T09:00:00Z")
    anna.patch(f"/deals/{deal['id']}", {"fields": {"return_date": "2026-01-07T09:00:00Z"}})
    time_passes(days=2)
    assert anna.where(deal["id"]) == "main.order_assembly"
    assert any("back from the warehouse" in text for text in anna.feed())


# ---------------------------------------------------------------------- S4 purchase request


def purchase(manager: Browser, signed_in) -> tuple[dict[str, Any], dict[str, Any], Browser]:
    deal = new_deal(manager, "Dishwasher for Pavel", "product_agreement")
    started = start(manager, "purchase_request", deal["id"], product_name="Dishwasher Bosch SMV", sale_price=55000)
    assert started.status_code == 201, started.json
    purchaser = signed_in("purchaser1")
    [task] = purchaser.tasks(group="purchasing", status="open")
    return deal, task, purchaser


def test_s4_1_2_the_manager_starts_a_purchase_request_and_purchasing_gets_a_task(anna, signed_in):
    deal, task, purchaser = purchase(anna, signed_in)
    assert task["title"] == "Purchase Dishwasher Bosch SMV" and task["deal_id"] == deal["id"]
    assert task["data"]["product_name"] == "Dishwasher Bosch SMV" and task["data"]["sale_price"] == 55000
    assert task["column"] == "new" and task["assignee_id"] is None
    assert purchaser.deal(deal["id"])["title"] == "Dishwasher for Pavel"  # the purchaser may open the deal


def test_s4_1_the_start_is_refused_without_product_and_price(anna):
    deal = new_deal(anna, "Something", "product_agreement")
    refused = start(anna, "purchase_request", deal["id"])
    assert refused.status_code == 422
    assert sorted(refused.json["details"]["invalid_parameters"]) == ["product_name", "sale_price"]


def test_s4_3_the_purchaser_closes_the_task_and_the_manager_hears_the_goods_arrived(anna, signed_in):
    deal, task, purchaser = purchase(anna, signed_in)
    assert anna.feed() == []
    purchaser.post(f"/tasks/{task['id']}/complete")
    assert anna.feed() == ["Dishwasher Bosch SMV for Dishwasher for Pavel has arrived and can be shipped."]
    [instance] = anna.get("/instances", deal_id=deal["id"])
    assert instance["status"] == "completed"


def test_s4_4_a_task_moved_to_problem_tells_the_manager_at_once_to_contact_purchasing(anna, signed_in):
    _, task, purchaser = purchase(anna, signed_in)
    purchaser.post(f"/tasks/{task['id']}/move", {"column": "problem"})
    [text] = anna.feed()
    assert "contact purchasing" in text
    assert purchaser.get(f"/tasks/{task['id']}")["column"] == "problem"
