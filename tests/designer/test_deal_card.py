"""The deal card in the browser, played by the manager (S1), with the bank as a machine posting
its decision over HTTP with an integration token."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.designer.a11y import assert_accessible
from tests.designer.browser import VIEWPORT, fill_send_to_bank, log_in
from tests.support.bpmn import Bpmn


def _user_id(http, login: str) -> int:
    users = http.get(f"{http.base}/users?limit=200", timeout=30).json()
    return next(u["id"] for u in users if u["login"] == login)


@pytest.fixture
def deal(http) -> dict:
    """A fresh deal of manager.north1 in main, with a contact and one product, no credit fields."""
    api = http.base
    contact = http.post(f"{api}/contacts", json={"name": "Olena Kovalenko", "phones": ["+380 67 123 45 67"],
                                                 "emails": ["olena@example.com"]}, timeout=30).json()
    created = http.post(f"{api}/deals", json={
        "title": f"Washer for Olena {uuid.uuid4().hex[:4]}", "pipeline": "main", "stage": "product_agreement",
        "responsible_id": _user_id(http, "manager.north1"), "contact_id": contact["id"],
        "products": [{"name": "Bosch WAN28", "qty": 1, "price": 45990}], "amount": 45990,
    }, timeout=30)
    assert created.status_code == 201, created.text
    return created.json()


@pytest.fixture
def manager(browser, base_url):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(20000)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    log_in(page, base_url, "manager.north1")
    yield page
    context.close()
    assert errors == []


def _open(page: Page, base_url: str, deal_id: int) -> None:
    page.goto(f"{base_url}/#/deals/{deal_id}")
    page.wait_for_selector("#deal-title")
    page.wait_for_selector("#deal-feed .feed-item")


def _deal(http, deal_id: int) -> dict:
    return http.get(f"{http.base}/deals/{deal_id}", timeout=30).json()


def _bank(http, base_url: str) -> requests.Session:
    """The bank's machine: an integration token, no browser."""
    body = {"name": "bank", "user_id": _user_id(http, "store.integration")}
    issued = http.post(f"{http.base}/auth/tokens", json=body, timeout=30).json()
    bank = requests.Session()
    bank.headers["Authorization"] = f"Bearer {issued['token']}"
    bank.base = f"{base_url}/api/v1"  # type: ignore[attr-defined]
    return bank


def test_send_to_bank_from_the_card_refused_on_the_form_then_started_and_rejected(manager, base_url, http, deal):
    page = manager
    _open(page, base_url, deal["id"])
    expect(page.locator(".stage-strip .current")).to_have_text("Product agreement")
    expect(page.locator("#deal-contact a[href^='tel:']")).to_have_attribute("href", "tel:+380671234567")
    assert_accessible(page)

    page.click("#deal-processes button[data-process=send_to_bank]")
    dialog = page.locator("dialog.dialog")
    expect(dialog).to_be_visible()
    assert_accessible(page)
    dialog.locator("button[type=submit]").click()
    # The server's refusal, on the fields it names, not in a toast.
    for name in ("field:credit_type", "field:bank", "field:id_document", "field:term_months", "field:down_payment",
                 "ready_date"):
        expect(dialog.locator(f".form-row[data-field='{name}']")).to_have_class(re.compile(r"\binvalid\b"))
        expect(dialog.locator(f".form-row[data-field='{name}'] .field-error")).not_to_be_empty()
    assert _deal(http, deal["id"])["pipeline"] == "main"

    fill_send_to_bank(dialog)
    expect(dialog).to_have_count(0)
    expect(page.locator(".deal-head")).to_contain_text("Credit")
    moved = _deal(http, deal["id"])
    assert moved["pipeline"] == "credit" and moved["fields"]["bank"] == "PrivatBank"
    expect(page.locator("#deal-processes .instances > li")).to_have_count(1)
    steps = page.locator("#deal-processes .instances .steps")
    expect(steps).to_contain_text("Move to the credit or installment pipeline")

    bank = _bank(http, base_url)
    sent = bank.post(f"{bank.base}/events", json={"type": "bank.decision", "source": "bank",
                                                  "idempotency_key": f"bank-{deal['id']}",
                                                  "payload": {"deal_id": deal["id"], "approved": False}}, timeout=30)
    assert sent.status_code == 202, sent.text
    page.reload()
    page.wait_for_selector("#deal-title")
    expect(page.locator("#deal-tasks .task-item", has_text="Offer new conditions or another product")).to_have_count(1)
    expect(page.locator(".stage-strip .current")).to_have_text("Product agreement")


def test_a_field_edited_in_place_and_products_with_the_total_recomputed(manager, base_url, http, deal):
    page = manager
    _open(page, base_url, deal["id"])
    page.fill("#deal-details [data-field=delivery_address] input", "Kyiv, Khreshchatyk 1")
    page.click("#deal-details button[type=submit]")
    expect(page.locator("#toast")).to_have_text("Saved.")
    assert _deal(http, deal["id"])["fields"]["delivery_address"] == "Kyiv, Khreshchatyk 1"

    page.fill("#deal-products tr[data-index='0'] input.qty", "2")
    page.click("#deal-products button:has-text('+ product')")
    page.fill("#deal-products tr[data-index='1'] input[name=product-1-name]", "Drain hose")
    page.fill("#deal-products tr[data-index='1'] input.price", "500")
    expect(page.locator("#products-total")).to_contain_text("92")  # 2 * 45 990 + 500 = 92 480
    expect(page.locator("#products-total")).to_contain_text("480")
    page.click("#deal-products button:has-text('Save products')")
    expect(page.locator(".deal-head .deal-amount")).to_contain_text("92")  # the card shows what was saved
    saved = _deal(http, deal["id"])
    assert [p["name"] for p in saved["products"]] == ["Bosch WAN28", "Drain hose"]
    assert saved["amount"] == "92480.00"

    page.click("#deal-products tr[data-index='1'] button[aria-label^='Remove']")
    expect(page.locator("#products-total")).to_contain_text("91")
    page.click("#deal-products button:has-text('Save products')")
    expect(page.locator(".deal-head .deal-amount")).to_contain_text("91")
    assert _deal(http, deal["id"])["amount"] == "91980.00"


def test_a_user_task_form_completed_in_the_card_becomes_a_process_variable(manager, base_url, http, deal):
    key = f"ask_client_{uuid.uuid4().hex[:6]}"
    xml = (Bpmn(key, "Ask the client").start()
           .user("ask", form=({"name": "answer", "label": "Did the client agree?", "type": "enum", "options": "Yes,No"},
                              {"name": "collected", "label": "Amount collected", "type": "money"}),
                 title='"Ask the client about the offer"', assignee="deal.responsible")
           .end().chain("start", "ask", "end").xml())
    deployed = http.post(f"{http.base}/processes", data=xml.encode(), headers={"Content-Type": "application/xml"},
                         timeout=30)
    assert deployed.status_code == 201, deployed.text
    page = manager
    _open(page, base_url, deal["id"])
    page.click(f"#deal-processes button[data-process={key}]")
    page.locator("dialog.dialog button[type=submit]").click()
    expect(page.locator("dialog.dialog")).to_have_count(0)
    task = page.locator("#deal-tasks .task-item", has_text="Ask the client about the offer")
    task.locator("button").click()
    dialog = page.locator("dialog.dialog")
    dialog.locator("button[type=submit]").click()  # empty: refused on the form
    expect(dialog.locator(".form-row[data-field=answer]")).to_have_class(re.compile(r"\binvalid\b"))
    dialog.locator("[data-field=answer] select").select_option("Yes")
    dialog.locator("[data-field=collected] input").fill("1500")
    assert_accessible(page)
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("#deal-tasks")).not_to_contain_text("Ask the client about the offer")
    [instance] = http.get(f"{http.base}/instances?deal_id={deal['id']}&key={key}", timeout=30).json()
    state = http.get(f"{http.base}/instances/{instance['id']}", timeout=30).json()
    assert state["status"] == "completed"
    assert state["variables"]["answer"] == "Yes" and state["variables"]["collected"] == 1500


def test_a_user_task_form_declared_in_the_modeler_panel_reaches_the_task(page: Page, http):
    key = f"call_back_{uuid.uuid4().hex[:6]}"
    page.click('[data-action="new-process"]')
    page.wait_for_function("() => document.querySelector('[name=df-process-id]')?.value === "
                           "window.dealflowModeler?.get('canvas').getRootElement().businessObject.id")
    page.fill('[name="df-process-id"]', key)
    page.press('[name="df-process-id"]', "Tab")
    page.click(".djs-container svg", position={"x": 700, "y": 12})
    page.click('.djs-shape[data-element-id="start"]')
    page.click('.djs-context-pad [data-action="append.append-task"]')
    page.keyboard.press("Escape")
    task = page.evaluate("() => window.dealflowModeler.get('selection').get()[0].id")
    page.click(".djs-container svg", position={"x": 700, "y": 12})
    page.click(f'.djs-shape[data-element-id="{task}"]')
    page.click('.djs-context-pad [data-action="replace"]')
    page.click('.djs-popup [data-id="replace-with-user-task"]')
    page.fill('[data-field="prop:title"]', "Call the client back")
    page.click('[data-field="add-form-field"]')
    row = page.locator(".df-form-field").first
    row.locator("[name=form-field-name]").fill("answer")
    row.locator("[name=form-field-type]").select_option("enum")
    page.locator(".df-form-field").first.locator("[name=form-field-options]").fill("Yes,No")
    page.locator(".df-form-field").first.locator("[name=form-field-label]").fill("Client's answer")
    page.click(".djs-container svg", position={"x": 700, "y": 12})
    page.click(f'.djs-shape[data-element-id="{task}"]')
    page.click('.djs-context-pad [data-action="append.end-event"]')
    page.keyboard.press("Escape")
    page.click('[data-action="deploy"]')
    expect(page.locator("#toast")).to_contain_text(f"Deployed {key} as version 1")

    deal = http.post(f"{http.base}/deals", json={"title": "Panel form sofa"}, timeout=30).json()
    started = http.post(f"{http.base}/processes/{key}/start", json={"deal_id": deal["id"]}, timeout=30)
    assert started.status_code == 201, started.text
    [crm_task] = http.get(f"{http.base}/tasks?deal_id={deal['id']}", timeout=30).json()
    assert crm_task["form"] == [{"name": "answer", "label": "Client's answer", "type": "enum", "required": True,
                                 "options": ["Yes", "No"]}]


def test_unsaved_edits_are_not_lost_silently_on_navigation(manager, base_url, http, deal):
    page = manager
    _open(page, base_url, deal["id"])
    page.click("a[href='#/deals']")  # nothing edited: leaves without asking
    page.wait_for_selector("#deals")
    _open(page, base_url, deal["id"])
    page.fill("#deal-details [data-field=bank] input", "Monobank")
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.click("a[href='#/deals']")
    page.wait_for_timeout(500)
    assert asked, "no confirm was shown"
    expect(page.locator("#deal-title")).to_be_visible()
    assert page.url.endswith(f"#/deals/{deal['id']}")
    assert page.locator("#deal-details [data-field=bank] input").input_value() == "Monobank"
    page.once("dialog", lambda d: answer(d, True))
    page.click("a[href='#/deals']")
    page.wait_for_selector("#deals")
    assert len(asked) == 2
