"""S5 orders from the online store, S6 leads from channels, S7 duplicates — through HTTP alone.

The store, the telephony, the mail gateway and the site's forms are machines holding API
tokens the administrator issued them (POST /auth/tokens); they POST /events. Managers and
heads sign in (POST /auth/login) and read their deals, tasks and feeds as the CRM screen
does. Nothing here reads or writes the database: the one step outside HTTP is the passing
of time (`time_passes`: the virtual clock moves and the job loop runs what fell due).
Each test runs on SQLite and on PostgreSQL with the demo store, the shipped processes and
the shipped robots and triggers.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.http import Integration
from tests.support.world import store_order as order

NORTH_PRESENT = {"head.north", "manager.north1"}  # manager.north2 is away in the demo


def placed(store: Integration, order_id: str, **overrides: Any) -> dict[str, Any]:
    """The store sends "order created" and reads back the deal it made (`created_deal_ids`)."""
    return store.deal(created_deal(store.event("order.created", order(order_id, **overrides))))


def created_deal(result: dict[str, Any]) -> int:
    [deal_id] = result["created_deal_ids"]
    return deal_id


@pytest.fixture
def logins(admin) -> dict[int, str]:
    return {user["id"]: user["login"] for user in admin.get("/users", per_page=100)}


# ---------------------------------------------------------------------- S5 orders


def test_s5_1_an_order_becomes_a_deal_with_the_orders_address_amounts_payment_and_contact(store, signed_in):
    deal = placed(store, "A-1", payment_method="installment",
                  credit={"type": "installment", "bank": "Tinkoff", "term_months": 6, "down_payment": "0",
                          "id_document": "4612 654321"})
    assert (deal["title"], deal["amount"], deal["currency"], deal["source"]) == ("Order A-1", "45990.00", "RUB",
                                                                                "store")
    assert deal["fields"]["order_id"] == "A-1" and deal["fields"]["payment_status"] == "unpaid"
    assert deal["fields"]["delivery_address"] == "Tverskaya 1, Moscow"
    assert deal["fields"]["delivery_time"] == "after 18:00" and deal["fields"]["amount_to_collect"] == 45990
    credit = ("credit_type", "bank", "term_months", "down_payment", "id_document")
    assert {k: deal["fields"][k] for k in credit} == {
        "credit_type": "installment", "bank": "Tinkoff", "term_months": 6, "down_payment": 0,
        "id_document": "4612 654321"}
    assert deal["products"] == [{"name": "Dishwasher Bosch", "qty": 1, "price": 45990, "category": "kitchen"}]
    contact = signed_in("manager.north1").get(f"/contacts/{deal['contact_id']}")
    assert contact["name"] == "Irina Petrova"


def test_s5_1_the_contact_is_found_by_phone_or_email_however_typed_not_created_again(store, signed_in):
    first = placed(store, "A-2", customer={"name": "Irina", "phone": "+7 903 555-01-02", "email": "ira@example.com"})
    by_phone = placed(store, "A-3", customer={"name": "I. Petrova", "phone": "8 (903) 555 01 02"})
    by_email = placed(store, "A-4", customer={"name": "Irina P.", "email": "IRA@example.com"})
    assert first["contact_id"] == by_phone["contact_id"] == by_email["contact_id"]
    manager = signed_in("manager.north1")
    assert [c["id"] for c in manager.get("/contacts", phone="+79035550102")] == [first["contact_id"]]


def test_s5_2_a_new_unpaid_order_starts_in_processing(store):
    assert store.where(placed(store, "B-1")["id"]) == "main.in_processing"


def test_s5_2_an_order_already_paid_and_shipped_is_won_at_once(store):
    deal = placed(store, "B-2", paid=True, shipped=True, status="shipped")
    assert store.where(deal["id"]) == "main.won"


def test_s5_3_a_big_order_goes_to_the_head_of_the_store_by_its_amount(store, logins):
    assert logins[placed(store, "C-1", amount="450000")["responsible_id"]] == "head.north"


def test_s5_3_other_orders_go_in_turn_to_the_managers_present_in_the_office(store, logins):
    managers = [logins[placed(store, f"C-{n}", customer={"name": f"C{n}", "phone": f"+7 900 000-00-0{n}"})[
        "responsible_id"]] for n in range(2, 6)]
    assert set(managers) == NORTH_PRESENT and managers[:2] == managers[2:]


def test_s5_3_with_nobody_in_the_office_the_deal_waits_unassigned_and_a_manager_takes_it(store, signed_in):
    head = signed_in("head.north")
    for login in NORTH_PRESENT:  # the head marks the store's staff away for the day
        head.post(f"/users/{_id(head, login)}/presence", {"present": False})
    deal = placed(store, "C-9")
    assert deal["responsible_id"] is None
    anna = signed_in("manager.north1")
    assert deal["id"] in [d["id"] for d in anna.get("/deals", stage="in_processing", pipeline="main")]
    taken = anna.patch(f"/deals/{deal['id']}", {"responsible_id": anna.user["id"], "version": deal["version"]})
    assert taken["responsible_id"] == anna.user["id"]


def test_s5_4_the_responsible_manager_is_told_of_the_new_deal_and_the_robot_log_says_why(store, signed_in, logins):
    deal = placed(store, "D-1")
    manager = signed_in(logins[deal["responsible_id"]])
    assert manager.feed() == ["New order deal Order D-1: please call the client"]
    [note] = manager.get("/notifications", unread_only=True)
    assert note["deal_id"] == deal["id"]
    manager.post(f"/notifications/{note['id']}/read")
    assert manager.get("/notifications", unread_only=True) == []
    log = {(entry["name"], entry["outcome"]) for entry in manager.get(f"/deals/{deal['id']}/automation-log")}
    assert {("route the order", "ran"), ("check for duplicates", "ran")} <= log


def test_s5_5_order_paid_marks_the_deal_paid_and_tells_the_manager(store, signed_in, logins):
    deal = placed(store, "E-1")
    store.event("order.paid", {"order_id": "E-1", "paid": True})
    manager = signed_in(logins[deal["responsible_id"]])
    assert manager.deal(deal["id"])["fields"]["payment_status"] == "paid"
    assert manager.feed()[-1] == "Order E-1 is paid"


def test_s5_6_an_order_left_unpaid_a_day_makes_a_robot_remind_the_manager_to_call(store, signed_in, logins,
                                                                                 time_passes):
    unpaid = placed(store, "F-1")
    paid = placed(store, "F-2", customer={"name": "Oleg", "phone": "+7 903 555-07-07"})
    store.event("order.paid", {"order_id": "F-2", "paid": True})
    time_passes(hours=23)
    manager = signed_in(logins[unpaid["responsible_id"]])
    assert manager.tasks(deal_id=unpaid["id"]) == []
    time_passes(hours=1, minutes=1)
    [reminder] = manager.tasks(deal_id=unpaid["id"])
    assert reminder["title"] == "Call Irina Petrova: order F-1 is not paid yet"
    assert reminder["assignee_id"] == unpaid["responsible_id"] and reminder["deadline"] is not None
    assert store.tasks(deal_id=paid["id"]) == []


def test_s5_7_the_same_order_sent_twice_makes_one_deal(store, admin):
    first = store.send("order.created", order("G-1"), key="store-evt-1")
    again = store.send("order.created", order("G-1"), key="store-evt-1")
    other_key = store.send("order.created", order("G-1"), key="store-evt-2")
    no_key = store.send("order.created", order("G-1"))
    deal_id = created_deal(first.json)
    assert (first.status_code, again.status_code, other_key.status_code) == (202, 200, 202)
    assert again.json["duplicate"] is True and again.json["event_id"] == first.json["event_id"]
    assert again.json["created_deal_ids"] == [deal_id]  # the repeat is told the deal the first one made
    assert other_key.json["created_deal_ids"] == []
    assert other_key.json["deal_ids"] == [deal_id]
    assert other_key.json["note"] == f"order G-1 already has deal {deal_id}: no new deal"
    assert no_key.json["deal_ids"] == [deal_id]
    assert [d["id"] for d in admin.get("/deals", q="Order G-1")] == [deal_id]


def test_s9_a_new_order_deal_is_hidden_from_the_other_store_and_not_listed_there(store, signed_in):
    deal = placed(store, "H-1")
    south = signed_in("manager.south1")
    assert south.call("GET", f"/deals/{deal['id']}").status_code == 404
    assert deal["id"] not in [d["id"] for d in south.get("/deals", per_page=100)]
    assert south.call("GET", f"/deals/{deal['id']}/timeline").status_code == 404


# ---------------------------------------------------------------------- S6 channels


@pytest.fixture
def pbx(admin) -> Integration:
    return Integration.issued_by(admin, "pbx.integration", "pbx", create=True)


@pytest.fixture
def mail(admin) -> Integration:
    return Integration.issued_by(admin, "mail.integration", "mail", create=True)


def test_s6_1_a_call_from_an_unknown_number_creates_a_lead(pbx, signed_in):
    pbx.event("call.incoming", {"phone": "+7 999 000-00-01"})
    leads = signed_in("head.north").get("/leads")
    assert [(lead["title"], lead["source"], lead["phone"]) for lead in leads] == [
        ("Call from +7 999 000-00-01", "call", "+7 999 000-00-01")]


def test_s6_1_a_call_from_a_known_client_goes_to_that_clients_manager(store, pbx, signed_in, logins):
    deal = placed(store, "K-1")
    pbx.event("call.incoming", {"phone": "8 903 555 01 02"})
    manager = signed_in(logins[deal["responsible_id"]])
    assert manager.feed()[-1] == "Irina Petrova is calling (8 903 555 01 02) about Order K-1"
    assert manager.get("/leads") == []


def test_s6_2_marketplace_mail_makes_a_lead_other_mail_only_notifies_a_blocked_sender_is_ignored(mail, signed_in):
    mail.event("email.received", {"from": "orders@ozon.ru", "subject": "Order 77 from Ozon"})
    mail.event("email.received", {"from": "someone@example.com", "subject": "Question"})
    mail.event("email.received", {"from": "spam@mailer.example", "subject": "Buy now"})
    head = signed_in("head.north")
    assert [(lead["title"], lead["source"]) for lead in head.get("/leads")] == [("Order 77 from Ozon", "marketplace")]
    assert head.feed() == ["Mail from someone@example.com: Question"]


def test_s6_3_a_web_form_makes_a_lead_for_the_forms_responsible_who_is_told(admin, signed_in):
    site = Integration.issued_by(admin, "site.integration", "site", create=True)
    site.event("form.submitted", {"form": "callback", "name": "Pavel", "phone": "+7 911 222-33-44",
                                  "responsible": "manager.south1"})
    viktor = signed_in("manager.south1")
    [lead] = viktor.get("/leads")
    assert (lead["title"], lead["responsible_id"]) == ("Form callback: Pavel", viktor.user["id"])
    assert viktor.feed() == ["New lead from the form callback: Pavel"]


# ---------------------------------------------------------------------- S7 duplicates


def test_s7_one_clients_deals_in_two_stores_notify_both_managers_and_heads_once(store, signed_in, logins):
    north = placed(store, "M-1")
    south = placed(store, "M-2", department="store_south")
    people = {logins[north["responsible_id"]], logins[south["responsible_id"]], "head.north", "head.south"}

    def flagged() -> dict[str, int]:
        return {login: sum("duplicate" in text.lower() for text in signed_in(login).feed()) for login in people}

    assert set(flagged().values()) == {1}
    placed(store, "M-3", customer={"name": "Other", "phone": "+7 900 123-45-67"})
    south_manager = signed_in(logins[south["responsible_id"]])
    south_manager.post(f"/deals/{south['id']}/move", {"stage": "new"})  # checked again on re-entry
    south_manager.post(f"/deals/{south['id']}/move", {"stage": "in_processing"})
    assert set(flagged().values()) == {1}


def _id(caller: Any, login: str) -> int:
    return next(u["id"] for u in caller.get("/users", per_page=100) if u["login"] == login)
