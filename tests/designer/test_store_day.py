"""A day in the store played across people, each in their own browser (SCENARIOS.md S3 and S1):
the manager on the deals board and the deal card, the logistician on the logistics task board,
the head of sales with the bell. Only the machines (the bank) post over HTTP; the API is read
to confirm what the screens show.

S3 uses a mouse drag: the deal starts in `shipped`, the column beside `delivery`, so the drag
is as short and reliable as the board's own gate test; the keyboard "Move to…" is not needed."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.designer.browser import drag_board_card, fill_send_to_bank, integration, person, users_by_login
from tests.designer.server import api_session


def _deal(http, title: str, stage: str, **extra) -> dict:
    """A deal of manager.north1 with a contact and one product, made by the admin's script."""
    manager = users_by_login(http)["manager.north1"]
    contact = http.post(f"{http.base}/contacts", json={"name": "Olena Kovalenko", "phones": ["+380 67 123 45 67"]},
                        timeout=30)
    contact.raise_for_status()
    created = http.post(f"{http.base}/deals", json={
        "title": title, "pipeline": "main", "stage": stage, "amount": 45990, "contact_id": contact.json()["id"],
        "responsible_id": manager["id"], "department_id": manager["department_id"],
        "products": [{"name": "Bosch WAN28", "qty": 1, "price": 45990}], **extra}, timeout=30)
    assert created.status_code == 201, created.text
    return created.json()


def test_s3_the_manager_moves_a_deal_to_delivery_through_its_gate_and_the_logistician_sees_the_task_live(
        browser, base_url, http):
    title = f"Fridge for Olena {uuid.uuid4().hex[:6]}"
    deal = _deal(http, title, "shipped")
    address = "Kyiv, Lesnaya st. 12, apt. 34"

    logist, logist_errors = person(browser, base_url, "logist1")  # already open on the board, waiting
    assert "#/tasks/logistics" in logist.url
    expect(logist.locator('.tb-column[data-column="new"]')).to_be_visible()
    expect(logist.locator(f'.tb-card:has-text("{title}")')).to_have_count(0)

    manager, manager_errors = person(browser, base_url, "manager.north1")
    assert manager.url.endswith("#/board")
    card = manager.locator(f'.board-card[data-id="{deal["id"]}"]')
    shipped = manager.locator('.board-cards[data-stage="shipped"]')
    delivery = manager.locator('.board-cards[data-stage="delivery"]')
    expect(shipped.locator(f'[data-id="{deal["id"]}"]')).to_have_count(1)
    drag_board_card(manager, card, delivery)

    dialog = manager.locator("dialog.dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Delivery address")
    expect(shipped.locator(f'[data-id="{deal["id"]}"]')).to_have_count(1)  # not moved until the gate is met
    assert http.get(f"{http.base}/deals/{deal['id']}", timeout=30).json()["stage"] == "shipped"
    dialog.locator('[data-field="delivery_address"] input').fill(address)
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_have_count(0)
    expect(delivery.locator(f'[data-id="{deal["id"]}"]')).to_have_count(1)
    moved = http.get(f"{http.base}/deals/{deal['id']}", timeout=30).json()
    assert (moved["stage"], moved["fields"]["delivery_address"]) == ("delivery", address)

    # No reload in the logistician's browser: the tasks:logistics room brings the new task.
    task_card = logist.locator(f'.tb-column[data-column="new"] .tb-card:has-text("{title}")')
    expect(task_card).to_be_visible()
    expect(task_card.locator(".tb-fact-address dd")).to_have_text(address)
    expect(task_card.locator(".tb-deal")).to_have_attribute("href", f"#/deals/{deal['id']}")
    [task] = http.get(f"{http.base}/tasks?deal_id={deal['id']}", timeout=30).json()
    assert (task["group"], task["status"], task["column"]) == ("logistics", "open", "new")

    assert logist_errors == [] and manager_errors == []
    logist.context.close()
    manager.context.close()


def test_s1_in_ukrainian_send_to_bank_refused_on_the_fields_then_rejected_and_the_head_is_told(
        browser, base_url, http):
    title = f"Washer for Olena {uuid.uuid4().hex[:6]}"
    deal = _deal(http, title, "product_agreement")
    head_http = api_session(base_url, "head.north")
    unread_before = head_http.get(f"{head_http.base}/notifications/unread-count", timeout=30).json()["unread"]

    head, head_errors = person(browser, base_url, "head.north")
    head_bell = head.locator(".bell .bell-count")
    if unread_before:
        expect(head_bell).to_have_text(str(unread_before) if unread_before <= 99 else "99+")
    else:
        expect(head_bell).to_be_hidden()

    manager, manager_errors = person(browser, base_url, "manager.north1")
    try:
        manager.select_option("select.language", "uk")  # the app's language switcher
        expect(manager.locator('.nav a[data-route="deals"]')).to_have_text("Угоди")
        manager.goto(f"{base_url}/#/deals/{deal['id']}")
        expect(manager.locator("#deal-title")).to_be_visible()
        expect(manager.locator("#deal-processes-title")).to_have_text("Запустити бізнес-процес")

        send = manager.locator("#deal-processes button[data-process=send_to_bank]")
        expect(send).to_have_text("Відправити в банк")
        send.click()
        dialog = manager.locator("dialog.dialog")
        expect(dialog).to_be_visible()
        expect(dialog.locator("h2")).to_have_text("Запустити бізнес-процес «Відправити в банк»")
        expect(dialog).to_contain_text("Процесу потрібні ці поля угоди")
        dialog.locator("button[type=submit]").click()
        # The server's refusal, on the fields it names, in Ukrainian.
        for name in ("field:credit_type", "field:bank", "field:id_document", "field:term_months",
                     "field:down_payment", "ready_date"):
            row = dialog.locator(f".form-row[data-field='{name}']")
            expect(row).to_have_class(re.compile(r"\binvalid\b"))
            expect(row.locator(".field-error")).to_have_text("Обов'язкове поле.")
        expect(dialog.locator(".dialog-status")).to_have_text("Процес ще не може запуститися: див. позначені поля.")
        assert http.get(f"{http.base}/deals/{deal['id']}", timeout=30).json()["pipeline"] == "main"

        fill_send_to_bank(dialog)
        expect(dialog).to_have_count(0)
        expect(manager.locator("#toast")).to_have_text("«Відправити в банк» запущено.")
        expect(manager.locator("#deal-processes .instances > li")).to_have_count(1)
        expect(manager.locator("#deal-processes .instances > li")).to_contain_text("Відправити в банк — виконується")
        started = http.get(f"{http.base}/deals/{deal['id']}", timeout=30).json()
        assert (started["pipeline"], started["fields"]["bank"]) == ("credit", "PrivatBank")

        bank = integration(http, base_url, "bank")
        sent = bank.post(f"{bank.base}/events", json={
            "type": "bank.decision", "source": "bank", "idempotency_key": f"bank-{deal['id']}-{uuid.uuid4().hex[:6]}",
            "payload": {"deal_id": deal["id"], "approved": False}}, timeout=30)
        assert sent.status_code == 202, sent.text

        # The card is live (the deal's room): the rejection task appears without a reload.
        expect(manager.locator("#deal-tasks-title")).to_have_text("Завдання")
        # The diagram's task title, in her language (bpmn/send_to_bank.labels.json).
        expect(manager.locator("#deal-tasks .task-item", has_text="Запропонувати нові умови чи інший товар")) \
            .to_have_count(1)
        expect(manager.locator("#deal-processes .instances > li")).to_have_count(0)  # the process has ended
        back = http.get(f"{http.base}/deals/{deal['id']}", timeout=30).json()
        assert (back["pipeline"], back["stage"]) == ("main", "product_agreement")

        # The head of sales, signed in all along: the bell rises live, the feed names the deal.
        head.wait_for_function(
            "n => { const c = document.querySelector('.bell .bell-count');"
            " return c && !c.hidden && (c.textContent === '99+' || Number(c.textContent) > n); }",
            arg=unread_before)
        head.locator(".bell").click()
        news = head.locator(".feed-item.unread", has_text=f"Take the deal {title} under control")
        expect(news).to_have_count(1)
        expect(news).to_contain_text("the bank rejected the credit")
        expect(news.locator(f'a[href="#/deals/{deal["id"]}"]')).to_have_text(title)
        assert any(n["deal_id"] == deal["id"] and not n["read_at"]
                   for n in head_http.get(f"{head_http.base}/notifications", timeout=30).json())
        assert manager_errors == [] and head_errors == []
    finally:
        manager.context.close()
        head.context.close()
        head_http.close()
        reset = api_session(base_url, "manager.north1")  # the next tests meet her in English
        reset.patch(f"{reset.base}/auth/me", json={"language": "en"}, timeout=30).raise_for_status()
        reset.close()
