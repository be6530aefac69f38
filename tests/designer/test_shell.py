"""The app shell (issue 12): the person's stored language at sign-in, switching it without a
reload, and the bell with the notification feed; each checked with axe-core."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.designer.a11y import assert_accessible
from tests.designer.browser import VIEWPORT, log_in
from tests.designer.server import api_session


def _set_language(base_url: str, login: str, language: str) -> None:
    session = api_session(base_url, login=login)
    session.patch(f"{session.base}/auth/me", json={"language": language}, timeout=30).raise_for_status()
    session.close()


def test_a_manager_whose_language_is_ukrainian_sees_the_shell_and_feed_in_ukrainian(browser, base_url):
    _set_language(base_url, "manager.north1", "uk")
    context = browser.new_context(viewport=VIEWPORT)  # a fresh browser: English until the user says otherwise
    page = context.new_page()
    try:
        log_in(page, base_url, login="manager.north1")
        expect(page.locator('.nav a[data-route="deals"]')).to_have_text("Угоди")
        expect(page.locator(".topbar")).to_contain_text("Вийти")
        assert page.evaluate("document.documentElement.lang") == "uk"
        bell = page.locator(".bell")
        # The demo gives Anna unread news; other tests on this server may have added to it.
        unread = page.request.get(f"{base_url}/api/v1/notifications/unread-count").json()["unread"]
        assert unread >= 4
        expect(bell.locator(".bell-count")).to_have_text(str(unread))
        assert "непрочитан" in (bell.get_attribute("aria-label") or "")
        bell.click()
        expect(page.locator(".feed-page h2")).to_have_text("Сповіщення")
        expect(page.locator(".feed-item.unread")).to_have_count(unread)
        first = page.locator(".feed-item").first
        expect(first.locator("a[href^='#/deals/']")).to_have_count(1)
        assert_accessible(page)
        first.get_by_role("button", name="Прочитано").click()
        expect(bell.locator(".bell-count")).to_have_text(str(unread - 1))
        page.get_by_role("button", name="Прочитати всі").click()
        expect(page.locator(".feed-item.unread")).to_have_count(0)
        expect(bell.locator(".bell-count")).to_be_hidden()
    finally:
        context.close()
        _set_language(base_url, "manager.north1", "en")


def test_switching_the_language_re_renders_at_once_and_is_kept_for_the_next_sign_in(browser, base_url):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        log_in(page, base_url, login="head.north")
        expect(page.locator('.nav a[data-route="deals"]')).to_have_text("Deals")
        page.select_option("select.language", "ru")
        expect(page.locator('.nav a[data-route="deals"]')).to_have_text("Сделки")
        expect(page.locator('.nav a[data-route="monitoring"]')).to_have_text("Мониторинг")
        me = requests.Session()
        me.cookies.update({c["name"]: c["value"] for c in context.cookies()})
        assert me.get(f"{base_url}/api/v1/auth/me", timeout=30).json()["user"]["language"] == "ru"
        page.select_option("select.language", "en")
        expect(page.locator('.nav a[data-route="deals"]')).to_have_text("Deals")
    finally:
        context.close()


def test_the_modeler_asks_before_an_edited_diagram_is_left(page, base_url):
    page.goto(f"{base_url}/#/processes")
    page.wait_for_function("window.dealflowModeler && window.dealflowModeler.get('elementRegistry').getAll().length")
    page.evaluate("""() => {
        const m = window.dealflowModeler;
        const start = m.get('elementRegistry').filter((e) => e.type === 'bpmn:StartEvent')[0];
        m.get('modeling').updateProperties(start, { name: 'Edited' });
    }""")
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click('.nav a[data-route="robots"]')
    page.wait_for_timeout(300)
    assert asked and "unsaved" in asked[0]
    expect(page.locator('.nav a.active[data-route="processes"]')).to_have_count(1)
    page.once("dialog", lambda d: d.accept())
    page.click('.nav a[data-route="monitoring"]')
    expect(page.locator('.nav a.active[data-route="monitoring"]')).to_have_count(1)


def test_the_robots_editor_asks_before_unsaved_text_is_left(page, base_url):
    page.goto(f"{base_url}/#/robots")
    page.wait_for_selector(".column .card")
    page.evaluate("() => window.dealflowEditor.dispatch({ changes: { from: 0, insert: '# note\\n' } })")
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click('.nav a[data-route="monitoring"]')
    page.wait_for_timeout(300)
    assert asked and "unsaved" in asked[0]
    expect(page.locator('.nav a.active[data-route="robots"]')).to_have_count(1)
    page.evaluate("() => window.dealflowEditor.dispatch({ changes: { from: 0, to: 7 } })")
    page.click('.nav a[data-route="monitoring"]')  # the text is as saved again: no question
    expect(page.locator('.nav a.active[data-route="monitoring"]')).to_have_count(1)
