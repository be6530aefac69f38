"""The deal card in the reader's language beyond the app's own strings (issue 12): the history's
sentences are said from their kind and names, not the English stored beside them, and a shipped
process's start form and steps speak the language too (bpmn/<key>.labels.json). A comment, being
someone's own words, is shown as written."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.designer.browser import person
from tests.designer.server import api_session


def test_a_manager_reading_russian_gets_the_history_and_the_warehouse_start_form_in_russian(
        browser, base_url, http):
    users = {u["login"]: u for u in http.get(f"{http.base}/users?per_page=100", timeout=30).json()}
    manager_user = users["manager.north1"]
    title = f"Paid TV {uuid.uuid4().hex[:6]}"
    created = http.post(f"{http.base}/deals", json={
        "title": title, "pipeline": "main", "stage": "order_assembly", "amount": 52000,
        "responsible_id": manager_user["id"], "department_id": manager_user["department_id"]}, timeout=30)
    assert created.status_code == 201, created.text
    deal = created.json()
    changed = http.patch(f"{http.base}/deals/{deal['id']}", json={"fields": {"delivery_address": "Lesnaya 1"}},
                         timeout=30)
    assert changed.status_code == 200, changed.text

    manager, errors = person(browser, base_url, "manager.north1")
    try:
        manager.select_option("select.language", "ru")
        expect(manager.locator('.nav a[data-route="deals"]')).to_have_text("Сделки")
        manager.goto(f"{base_url}/#/deals/{deal['id']}")
        expect(manager.locator("#deal-title")).to_have_text(title)
        history = manager.locator("#deal-feed .feed-item.feed-timeline .feed-text")
        expect(history.filter(has_text="Сделка создана: ")).to_have_count(1)
        expect(history.filter(has_text="Delivery address: — → Lesnaya 1")).to_have_count(1)
        expect(history.filter(has_text="Deal created")).to_have_count(0)

        manager.locator("#deal-processes button[data-process=warehouse_buffer]").click()
        dialog = manager.locator("dialog.dialog")
        expect(dialog.locator("h2")).to_contain_text("Отправить на склад")
        expect(dialog.locator("[data-field='return_date'] label")).to_contain_text("Вернуть товар")
        dialog.locator("[data-field='return_date'] input").fill("2031-03-02T10:00")
        dialog.locator("button[type=submit]").click()
        expect(dialog).to_have_count(0)
        # The process's steps in the history, by the diagram's labels: no English step left.
        expect(history.filter(has_text="Этап: Sales / Order assembly → Warehouse / ")).to_have_count(1)
        steps = manager.locator("#deal-feed .feed-item.feed-process .feed-text")
        expect(steps.filter(has_text="На склад: хранится")).to_have_count(1)  # noqa: RUF001
        expect(steps.filter(has_text="Move to warehouse")).to_have_count(0)
        assert errors == []
    finally:
        manager.context.close()
        reset = api_session(base_url, "manager.north1")  # the next tests meet her in English
        reset.patch(f"{reset.base}/auth/me", json={"language": "en"}, timeout=30).raise_for_status()
        reset.close()
