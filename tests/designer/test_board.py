"""The deals board in a real browser against a real server (issue 12): drag, keyboard move,
stage gates, loss reasons, live moves and who sees what (S9).

The server is shared by the session, so each test makes its own deals through the API."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.designer.a11y import assert_accessible
from tests.designer.browser import VIEWPORT, drag_board_card, log_in


def _user_id(http, login: str) -> int:
    users = http.get(f"{http.base}/users?per_page=100").json()
    return next(u["id"] for u in users if u["login"] == login)


def _department_id(http, login: str) -> int:
    users = http.get(f"{http.base}/users?per_page=100").json()
    return next(u["department_id"] for u in users if u["login"] == login)


def _deal(http, stage: str, *, login: str = "manager.north1", **fields) -> dict:
    title = f"Board test {uuid.uuid4().hex[:6]}"
    body = {"title": title, "pipeline": "main", "stage": stage, "amount": "1000",
            "responsible_id": _user_id(http, login), "department_id": _department_id(http, login)}
    if fields:
        body["fields"] = fields
    answer = http.post(f"{http.base}/deals", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def _stage(http, deal_id: int) -> str:
    return http.get(f"{http.base}/deals/{deal_id}").json()["stage"]


def _open_board(browser, base_url, login: str) -> Page:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(20000)
    log_in(page, base_url, login=login, password="demo")
    expect(page.locator("#board .board-column").first).to_be_visible()
    return page


def _card(page: Page, deal_id: int):
    return page.locator(f'.board-card[data-id="{deal_id}"]')


def _column(page: Page, stage: str):
    return page.locator(f'.board-cards[data-stage="{stage}"]')


def _drag(page: Page, deal_id: int, stage: str) -> None:
    drag_board_card(page, _card(page, deal_id), _column(page, stage))


def test_a_manager_lands_on_the_board_and_drags_a_card_to_another_stage(browser, base_url, http):
    deal = _deal(http, "new")
    page = _open_board(browser, base_url, "manager.north1")
    assert page.url.endswith("#/board")
    card = _card(page, deal["id"])
    expect(card).to_contain_text(deal["title"])
    expect(card).to_contain_text("Anna Belova")
    expect(card).to_contain_text("No next step")
    _drag(page, deal["id"], "in_processing")
    expect(_column(page, "in_processing").locator(f'[data-id="{deal["id"]}"]')).to_have_count(1)
    assert _stage(http, deal["id"]) == "in_processing"
    page.context.close()


def test_a_gate_asks_for_its_fields_and_filling_them_moves_the_deal(browser, base_url, http):
    deal = _deal(http, "shipped")
    page = _open_board(browser, base_url, "manager.north1")
    _drag(page, deal["id"], "delivery")
    dialog = page.locator("dialog.dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Delivery address")
    expect(_column(page, "shipped").locator(f'[data-id="{deal["id"]}"]')).to_have_count(1)  # it went back
    assert _stage(http, deal["id"]) == "shipped"
    dialog.locator('[data-field="delivery_address"] input').fill("Moscow, Lesnaya st. 1")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_have_count(0)
    expect(_column(page, "delivery").locator(f'[data-id="{deal["id"]}"]')).to_have_count(1)
    answer = http.get(f"{http.base}/deals/{deal['id']}").json()
    assert (answer["stage"], answer["fields"]["delivery_address"]) == ("delivery", "Moscow, Lesnaya st. 1")
    page.context.close()


def test_a_loss_asks_for_a_reason_from_the_list(browser, base_url, http):
    deal = _deal(http, "delivery_check")  # beside lost, so both columns are on the screen
    page = _open_board(browser, base_url, "manager.north1")
    _drag(page, deal["id"], "lost")
    dialog = page.locator("dialog.dialog")
    expect(dialog).to_contain_text("Loss reason")
    dialog.locator('[data-field="loss_reason"] select').select_option("Bought elsewhere")
    dialog.locator("button[type=submit]").click()
    expect(_column(page, "lost").locator(f'[data-id="{deal["id"]}"]')).to_contain_text("Bought elsewhere")
    answer = http.get(f"{http.base}/deals/{deal['id']}").json()
    assert (answer["stage"], answer["loss_reason"]) == ("lost", "Bought elsewhere")
    page.context.close()


def test_the_keyboard_moves_a_deal_through_move_to(browser, base_url, http):
    deal = _deal(http, "new")
    page = _open_board(browser, base_url, "manager.north1")
    title_link = _card(page, deal["id"]).locator(".board-card-title")
    title_link.focus()
    page.keyboard.press("Tab")
    expect(_card(page, deal["id"]).locator(".board-move")).to_be_focused()
    page.keyboard.press("Enter")
    select = page.locator("dialog.dialog select")
    expect(select).to_be_focused()
    select.select_option("product_agreement")  # what arrow keys do in a focused select
    page.keyboard.press("Tab")  # Cancel
    page.keyboard.press("Tab")  # Move
    expect(page.locator("dialog.dialog button[type=submit]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(_column(page, "product_agreement").locator(f'[data-id="{deal["id"]}"]')).to_have_count(1)
    assert _stage(http, deal["id"]) == "product_agreement"
    page.context.close()


def test_a_second_browser_sees_the_first_ones_move_live(browser, base_url, http):
    deal = _deal(http, "new")
    watcher = _open_board(browser, base_url, "head.north")
    mover = _open_board(browser, base_url, "manager.north1")
    expect(_column(watcher, "new").locator(f'[data-id="{deal["id"]}"]')).to_have_count(1)
    _drag(mover, deal["id"], "in_processing")
    expect(_column(watcher, "in_processing").locator(f'[data-id="{deal["id"]}"]')).to_have_count(1, timeout=15000)
    watcher.context.close()
    mover.context.close()


def test_a_south_manager_sees_a_north_deal_only_once_it_is_shipped(browser, base_url, http):
    deal = _deal(http, "order_assembly")
    page = _open_board(browser, base_url, "manager.south1")
    expect(page.locator(".board-card").first).to_be_visible()
    expect(_card(page, deal["id"])).to_have_count(0)
    assert http.post(f"{http.base}/deals/{deal['id']}/move", json={"stage": "shipped"}).status_code == 200
    # No reload: the server tells her feed the deal came into her view, and the board re-reads.
    expect(_column(page, "shipped").locator(f'[data-id="{deal["id"]}"]')).to_have_count(1)
    page.context.close()


def test_the_board_is_accessible_and_scrolls_inside_itself(browser, base_url):
    page = _open_board(browser, base_url, "manager.north1")
    assert_accessible(page)
    sizes = page.evaluate("() => { const b = document.getElementById('board'); return {"
                          "inner: b.scrollWidth, outer: b.clientWidth, page: document.documentElement.scrollWidth,"
                          "view: window.innerWidth}; }")
    assert sizes["inner"] > sizes["outer"] and sizes["page"] <= sizes["view"]
    page.context.close()
