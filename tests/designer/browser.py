"""Debian's Chromium driven by Playwright: no downloaded browsers, nothing to the network."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from playwright.sync_api import Browser, Locator, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 768}


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page: Page, base: str, login: str = "designer", password: str = "demo") -> None:
    """Through the login screen, as a person does."""
    page.goto(f"{base}/")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector(".topbar")




def person(browser: Browser, base: str, login: str, viewport: dict[str, int] = VIEWPORT) -> tuple[Page, list[str]]:
    """One person signed in in a browser context of their own, with the page's uncaught errors
    collected so a test can say none happened."""
    page = browser.new_context(viewport=viewport).new_page()
    page.set_default_timeout(20000)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    log_in(page, base, login=login)
    return page, errors


def drag_board_card(page: Page, card: Locator, target: Locator) -> None:
    """A person's drag of a deals-board card with the mouse, in small steps (SortableJS reacts to
    real pointer moves), held by its amount: the title is a link."""
    target.scroll_into_view_if_needed()
    source = card.locator(".board-card-amount").bounding_box()
    box = target.bounding_box()
    assert source is not None and box is not None
    page.mouse.move(source["x"] + 20, source["y"] + 5)
    page.mouse.down()
    page.mouse.move(source["x"] + 30, source["y"] + 20, steps=5)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 30, steps=20)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 40, steps=5)
    page.mouse.up()


def wait_for(predicate: Any, what: str, timeout: float = 20.0) -> Any:
    """Polls the server until `predicate` holds: the job loop and live updates keep their own time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


def fill_send_to_bank(dialog: Locator) -> None:
    """The credit fields and the ready date of Send to bank's start form, then submit."""
    dialog.locator("[data-field='field:credit_type'] select").select_option("credit")
    dialog.locator("[data-field='field:bank'] input").fill("PrivatBank")
    dialog.locator("[data-field='field:id_document'] input").fill("AB 123456")
    dialog.locator("[data-field='field:term_months'] input").fill("12")
    dialog.locator("[data-field='field:down_payment'] input").fill("5000")
    dialog.locator("[data-field='ready_date'] input").fill("2026-01-20T10:00")
    dialog.locator("button[type=submit]").click()


def users_by_login(http: Any) -> dict[str, dict[str, Any]]:
    return {u["login"]: u for u in http.get(f"{http.base}/users?per_page=100", timeout=30).json()}


def integration(http: Any, base_url: str, name: str) -> requests.Session:
    """A machine outside the store's staff (the online store, the bank): an integration token of
    store.integration that the administrator issued it, and no browser."""
    body = {"name": name, "user_id": users_by_login(http)["store.integration"]["id"]}
    issued = http.post(f"{http.base}/auth/tokens", json=body, timeout=30)
    issued.raise_for_status()
    machine = requests.Session()
    machine.headers["Authorization"] = f"Bearer {issued.json()['token']}"
    machine.base = f"{base_url}/api/v1"  # type: ignore[attr-defined]
    return machine
