"""The store's orders and the warehouse buffer played in the browser (SCENARIOS.md S5 and S2).

S5: the online store is a machine (an integration token, POST /events) and the north store's
staff sit in front of their deals boards: the new order's deal appears on both boards without a
reload, a manager opens its card and finds the order there, and the responsible one's bell rings
for the new deal and again when the store says it is paid.

S2: the manager sends a paid deal to the warehouse from its card, finds it on the warehouse
board in `stored`, moves its return date on the card to a day already past, and watches the
deal come back to sales with the bell telling her. The API is only read to confirm the screens.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import requests
from playwright.sync_api import expect

from tests.designer.browser import integration, person, users_by_login
from tests.support.world import store_order


def _send(store: requests.Session, event_type: str, payload: dict) -> dict:
    sent = store.post(f"{store.base}/events", json={
        "type": event_type, "source": "store", "idempotency_key": f"{event_type}-{uuid.uuid4().hex}",
        "payload": payload}, timeout=30)
    assert sent.status_code == 202, sent.text
    return sent.json()


def _open_bell(page, text: str) -> None:
    page.locator(".bell").click()
    expect(page.locator(".feed-item", has_text=text).first).to_be_visible()


def test_s5_a_store_order_appears_live_on_the_north_boards_and_its_card_holds_the_order(browser, base_url, http):
    order_id = f"W-{uuid.uuid4().hex[:8]}"
    title = f"Order {order_id}"
    people = {login: person(browser, base_url, login) for login in ("manager.north1", "head.north")}
    for page, _ in people.values():
        assert page.url.endswith("#/board")
        expect(page.locator('.board-cards[data-stage="in_processing"]')).to_be_visible()
        expect(page.locator(f'.board-card:has-text("{title}")')).to_have_count(0)

    store = integration(http, base_url, "online store")
    customer = {"name": f"Irina {order_id}", "phone": f"+7 903 {uuid.uuid4().int % 10**7:07d}"}
    # An order of 300,000 or more goes to the head by the shipped routing rule, whatever the hour:
    # in turn among the managers would leave a night or weekend order unassigned until morning.
    big = {"amount": "329990",
           "items": [{"name": "Dishwasher Bosch", "qty": 1, "price": "329990", "category": "kitchen"}]}
    [deal_id] = _send(store, "order.created", store_order(order_id, customer=customer, **big))["created_deal_ids"]

    # No reload: the store's staff hear of a deal of their store as it is made.
    for page, _ in people.values():
        card = page.locator(f'.board-cards[data-stage="in_processing"] .board-card[data-id="{deal_id}"]')
        expect(card).to_be_visible()
        expect(card).to_contain_text(title)
        expect(card).to_contain_text(customer["name"])

    deal = http.get(f"{http.base}/deals/{deal_id}", timeout=30).json()
    responsible = next(login for login, u in users_by_login(http).items() if u["id"] == deal["responsible_id"])
    assert responsible in people, "an order of store North goes to someone present in that store"
    manager, _ = people[responsible]
    manager.locator(f'.board-card[data-id="{deal_id}"] .board-card-title').click()
    expect(manager.locator("#deal-title")).to_have_text(title)
    expect(manager.locator("#deal-contact .contact-name")).to_have_text(customer["name"])
    expect(manager.locator('#deal-details [data-field="delivery_address"] input')).to_have_value("Tverskaya 1, Moscow")
    expect(manager.locator("#deal-products input[name=product-0-name]")).to_have_value("Dishwasher Bosch")
    expect(manager.locator(".stage-step.current")).to_have_attribute("data-stage", "in_processing")

    # The store says it is paid: the open card shows it live, the responsible one's feed has
    # the new deal and the payment.
    _send(store, "order.paid", {"order_id": order_id, "paid": True})
    expect(manager.locator('#deal-details [data-field="payment_status"] select, '
                           '#deal-details [data-field="payment_status"] input')).to_have_value("paid")
    _open_bell(manager, f"{title} is paid")
    expect(manager.locator(".feed-item", has_text=f"New order deal {title}: please call the client")).to_have_count(1)

    for page, errors in people.values():
        assert errors == []
        page.context.close()
    store.close()


def test_s2_the_manager_sends_a_paid_deal_to_the_warehouse_and_it_comes_back_on_the_new_date(
        browser, base_url, http):
    users = users_by_login(http)
    manager_user = users["manager.north1"]
    title = f"Paid fridge {uuid.uuid4().hex[:6]}"
    created = http.post(f"{http.base}/deals", json={
        "title": title, "pipeline": "main", "stage": "order_assembly", "amount": 85000,
        "responsible_id": manager_user["id"], "department_id": manager_user["department_id"],
        "products": [{"name": "Fridge", "qty": 1, "price": 85000}]}, timeout=30)
    assert created.status_code == 201, created.text
    deal_id = created.json()["id"]

    manager, errors = person(browser, base_url, "manager.north1")
    manager.goto(f"{base_url}/#/deals/{deal_id}")
    manager.locator("#deal-processes button[data-process=warehouse_buffer]").click()
    dialog = manager.locator("dialog.dialog")
    expect(dialog).to_be_visible()
    dialog.locator("[data-field='return_date'] input").fill("2031-03-02T10:00")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_have_count(0)
    expect(manager.locator(".stage-step.current")).to_have_attribute("data-stage", "stored")
    expect(manager.locator("#deal-processes .instances > li")).to_have_count(1)

    # The warehouse board shows it among the stored goods; its card opens from there.
    manager.goto(f"{base_url}/#/board/warehouse")
    stored = manager.locator(f'.board-cards[data-stage="stored"] .board-card[data-id="{deal_id}"]')
    expect(stored).to_be_visible()
    stored.locator(".board-card-title").click()
    expect(manager.locator("#deal-title")).to_have_text(title)

    # The client comes earlier: the return date moved to a moment already past brings it back.
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    manager.locator('#deal-details [data-field="return_date"] input').fill(past)
    manager.locator("#deal-details button[type=submit]").click()
    expect(manager.locator(".stage-step.current")).to_have_attribute("data-stage", "order_assembly", timeout=30000)
    expect(manager.locator("#deal-processes .instances > li")).to_have_count(0)
    back = http.get(f"{http.base}/deals/{deal_id}", timeout=30).json()
    assert (back["pipeline"], back["stage"]) == ("main", "order_assembly")
    _open_bell(manager, f"{title} is back from the warehouse")
    assert errors == []
    manager.context.close()
