"""The task boards, my tasks and the driver's day in Chromium against a real server (issue 12,
SCENARIOS.md S3 and S4), each played by the people in it: the manager over the API, the
logistician, the driver (on a 390x844 phone) and the purchaser in their own browsers. Every
outcome is checked through the REST API, so a screen that only looks right fails."""

from __future__ import annotations

import uuid
from datetime import date

from playwright.sync_api import Page, expect

from tests.designer.a11y import assert_accessible
from tests.designer.browser import person, wait_for
from tests.designer.server import api_session

PHONE = {"width": 390, "height": 844}


def _manager(base_url):
    http = api_session(base_url, "manager.north1")
    me = http.get(f"{http.base}/auth/me").json()["user"]
    return http, me


def _deal(http, me, title: str, stage: str, fields: dict | None = None) -> dict:
    contact = http.post(f"{http.base}/contacts", json={"name": "Olga Kuznetsova", "phones": ["+7 926 444 55 66"]})
    contact.raise_for_status()
    created = http.post(f"{http.base}/deals", json={
        "title": title, "pipeline": "main", "stage": stage, "amount": "59980", "contact_id": contact.json()["id"],
        "responsible_id": me["id"], "department_id": me["department_id"],
        "products": [{"name": "Atlant XM-4208", "qty": 1, "price": 34990}], "fields": fields or {}})
    assert created.status_code == 201, created.text
    return created.json()


def _feed(http) -> list[str]:
    return [n["text"] for n in http.get(f"{http.base}/notifications").json()]


def _drag(page: Page, card, target) -> None:
    """A drag as a hand does it: press, move in steps, release (SortableJS's pointer fallback)."""
    page.wait_for_timeout(300)  # a live refresh may redraw the board just now
    expect(card).to_be_visible()
    box, goal = card.bounding_box(), target.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + 12
    x1, y1 = goal["x"] + goal["width"] / 2, goal["y"] + 40
    page.mouse.move(x0, y0)
    page.mouse.down()
    steps = 12
    for i in range(1, steps + 1):
        page.mouse.move(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps)
        page.wait_for_timeout(30)
    page.mouse.up()


def test_s3_a_delivery_appears_live_is_given_to_a_driver_reported_as_a_problem_and_delivered_on_a_phone(
        browser, base_url):
    logist, logist_errors = person(browser, base_url, "logist1")
    expect(logist.locator('.tb-column[data-column="problem"]')).to_have_count(1)  # landed on the logistics board
    assert "#/tasks/logistics" in logist.url
    assert_accessible(logist)

    manager, me = _manager(base_url)
    title = f"Fridge for Olga {uuid.uuid4().hex[:6]}"
    deal = _deal(manager, me, title, "order_assembly", {
        "delivery_address": "Lesnaya 12, apt. 34", "delivery_time": "10:00-14:00", "amount_to_collect": 29980})
    for stage in ("shipped", "delivery"):
        manager.post(f"{manager.base}/deals/{deal['id']}/move", json={"stage": stage}).raise_for_status()

    card = logist.locator(f'.tb-card:has-text("{title}")')
    # no reload: the tasks:logistics room brought it
    expect(logist.locator(f'.tb-column[data-column="new"] .tb-card:has-text("{title}")')).to_be_visible()
    expect(card.locator(".tb-fact-amount dd")).to_contain_text("29,980")
    expect(card.locator(".tb-fact-address dd")).to_have_text("Lesnaya 12, apt. 34")
    expect(card.locator(".tb-fact-assignee dd")).to_have_text("Not assigned")
    expect(card.locator(".tb-deal")).to_have_attribute("href", f"#/deals/{deal['id']}")

    card.locator('[data-action="assign"]').click()
    dialog = logist.locator("dialog.dialog")
    expect(dialog.locator(".tb-person")).to_have_count(2)
    load = dialog.locator('.tb-load[data-login="driver1"]')
    expect(load).to_contain_text("deliver")
    before = int(load.inner_text().split()[0])  # the demo at work may give driver1 a delivery today
    dialog.locator('.tb-person:has-text("Dmitry Voditelev") input').check()
    today = date.today().isoformat()
    assert dialog.locator('input[name="day"]').input_value() == today
    dialog.locator('input[name="time"]').fill("12:00")
    assert_accessible(logist)
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_have_count(0)
    expect(card.locator(".tb-fact-assignee dd")).to_have_text("Dmitry Voditelev")
    expect(logist.locator('.tb-loads .tb-load[data-login="driver1"]')).to_contain_text(f"{before + 1} deliver")
    [task] = manager.get(f"{manager.base}/tasks?deal_id={deal['id']}").json()
    assert task["assignee_name"] == "Dmitry Voditelev"

    _drag(logist, card, logist.locator('.tb-column[data-column="problem"] .tb-cards'))
    expect(logist.locator(f'.tb-column[data-column="problem"] .tb-card:has-text("{title}")')).to_be_visible()
    wait_for(lambda: manager.get(f"{manager.base}/tasks/{task['id']}").json()["column"] == "problem",
              "the task in column problem")
    wait_for(lambda: any(f"Delivery problem with {title}" in text for text in _feed(manager)),
              "the manager notified of the problem")

    driver, driver_errors = person(browser, base_url, "driver1", PHONE)
    delivery = driver.locator(f'.dd-delivery[data-task-id="{task["id"]}"]')
    expect(delivery).to_be_visible()
    assert "#/driver" in driver.url
    expect(delivery.locator(".dd-address")).to_have_text("Lesnaya 12, apt. 34")
    expect(delivery.locator(".dd-phone")).to_have_attribute("href", "tel:+79264445566")
    expect(delivery.locator(".dd-window")).to_contain_text("10:00-14:00")
    expect(delivery.locator(".dd-products")).to_contain_text("Atlant XM-4208")
    assert driver.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for button in delivery.locator(".dd-big").all():
        assert button.bounding_box()["height"] >= 44
    assert_accessible(driver)

    driver.click('[data-day="tomorrow"]')
    expect(driver.locator(".dd-empty")).to_be_visible()
    driver.click('[data-day="today"]')
    delivery.locator('[data-action="delivered"]').click()
    dialog = driver.locator("dialog.dialog")
    amount = dialog.locator('input[name="amount_collected"]')
    assert float(amount.input_value()) == 29980
    assert driver.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    dialog.locator("button[type=submit]").click()
    expect(delivery.locator(".dd-status")).to_be_visible()
    wait_for(lambda: manager.get(f"{manager.base}/deals/{deal['id']}").json()["stage_ref"] == "main.delivery_check",
              "the deal in delivery_check")
    done = manager.get(f"{manager.base}/tasks/{task['id']}").json()
    assert done["status"] == "done" and done["data"]["result"] == {"amount_collected": 29980}
    assert logist_errors == [] and driver_errors == []
    logist.context.close()
    driver.context.close()


def test_s3_a_driver_reports_a_problem_with_a_note_and_the_manager_is_told(browser, base_url):
    manager, me = _manager(base_url)
    title = f"Washer for Ivan {uuid.uuid4().hex[:6]}"
    deal = _deal(manager, me, title, "order_assembly", {"delivery_address": "Sadovaya 3", "amount_to_collect": 0})
    for stage in ("shipped", "delivery"):
        manager.post(f"{manager.base}/deals/{deal['id']}/move", json={"stage": stage}).raise_for_status()
    logistics = api_session(base_url, "logist1")
    [task] = wait_for(lambda: logistics.get(f"{logistics.base}/tasks?deal_id={deal['id']}").json(), "the task")
    driver_id = next(u["id"] for u in logistics.get(f"{logistics.base}/users?role=driver").json()
                     if u["login"] == "driver1")
    due = f"{date.today().isoformat()}T12:00:00+00:00"
    logistics.post(f"{logistics.base}/tasks/{task['id']}/assign",
                   json={"assignee_id": driver_id, "deadline": due}).raise_for_status()

    driver, errors = person(browser, base_url, "driver1", PHONE)
    delivery = driver.locator(f'.dd-delivery[data-task-id="{task["id"]}"]')
    delivery.locator('[data-action="problem"]').click()
    dialog = driver.locator("dialog.dialog")
    dialog.locator("button[type=submit]").click()  # the note is required: nothing is sent without it
    expect(dialog).to_be_visible()
    assert manager.get(f"{manager.base}/tasks/{task['id']}").json()["column"] == "new"
    dialog.locator('textarea[name="note"]').fill("Nobody home, phone off")
    dialog.locator("button[type=submit]").click()
    expect(delivery.locator(".dd-status-problem")).to_be_visible()
    expect(delivery.locator(".dd-note")).to_have_text("Problem: Nobody home, phone off")
    moved = manager.get(f"{manager.base}/tasks/{task['id']}").json()
    assert (moved["column"], moved["data"]["note"], moved["status"]) == ("problem", "Nobody home, phone off", "open")
    wait_for(lambda: any(f"Delivery problem with {title}" in text for text in _feed(manager)), "the manager told")
    assert errors == []
    driver.context.close()


def test_s4_the_purchaser_closes_a_purchase_on_the_board_and_the_manager_hears_the_goods_arrived(
        browser, base_url):
    manager, me = _manager(base_url)
    title = f"Dishwasher for Pavel {uuid.uuid4().hex[:6]}"
    deal = _deal(manager, me, title, "product_agreement")
    started = manager.post(f"{manager.base}/processes/purchase_request/start", json={
        "deal_id": deal["id"], "params": {"product_name": "Dishwasher Bosch SMV", "sale_price": 55000}})
    assert started.status_code == 201, started.text

    purchaser, errors = person(browser, base_url, "purchaser1")
    assert "#/tasks/purchasing" in purchaser.url
    card = purchaser.locator(f'.tb-card:has-text("{title}")')
    expect(card).to_be_visible()
    expect(purchaser.locator('.tb-tabs a[href="#/tasks/logistics"]')).to_have_count(0)  # not their board
    assert_accessible(purchaser)
    _drag(purchaser, card, purchaser.locator('.tb-column[data-column="done"] .tb-cards'))
    dialog = purchaser.locator("dialog.dialog")
    expect(dialog).to_be_visible()
    dialog.locator("button[type=submit]").click()
    expect(purchaser.locator(f'.tb-column[data-column="done"] .tb-card:has-text("{title}")')).to_be_visible()
    wait_for(lambda: any("Dishwasher Bosch SMV" in text and "arrived" in text for text in _feed(manager)),
              "the manager told the goods arrived")
    [task] = manager.get(f"{manager.base}/tasks?deal_id={deal['id']}").json()
    assert task["status"] == "done"
    assert errors == []
    purchaser.context.close()


def test_my_tasks_lists_a_logisticians_own_tasks_by_when_they_are_due_and_completes_one(browser, base_url):
    logistics = api_session(base_url, "logist1")
    me = logistics.get(f"{logistics.base}/auth/me").json()["user"]
    title = f"Call the warehouse {uuid.uuid4().hex[:6]}"
    logistics.post(f"{logistics.base}/tasks", json={"title": title, "assignee_id": me["id"],
                                                     "deadline": "2020-01-01T09:00:00Z"}).raise_for_status()
    page, errors = person(browser, base_url, "logist1")
    page.click('.tb-tabs a[href="#/tasks"]')
    card = page.locator(f'[data-bucket="overdue"] .tb-card:has-text("{title}")')
    expect(card).to_be_visible()
    assert_accessible(page)
    card.locator('[data-action="complete"]').click()
    page.locator("dialog.dialog button[type=submit]").click()
    expect(card).to_have_count(0)
    [task] = [t for t in logistics.get(f"{logistics.base}/tasks?assignee_id={me['id']}").json() if t["title"] == title]
    assert task["status"] == "done"
    assert errors == []
    page.context.close()
