"""Signing in and out through the login screen, against the server's sign-in API
(README, "Signing in and roles")."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.designer.browser import VIEWPORT, log_in


def test_a_wrong_password_is_refused_on_the_login_screen_and_the_right_one_lets_in(browser, base_url):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{base_url}/#/robots")
    page.fill("input[name=login]", "designer")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator(".login-error")).to_have_text("Wrong login or password.")
    expect(page.locator(".topbar")).to_have_count(0)

    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    expect(page.locator('.nav a.active[data-route="robots"]')).to_have_count(1)  # back where it was going
    page.reload()  # the session cookie survives a reload
    expect(page.locator(".topbar")).to_have_count(1)

    page.click("text=Log out")
    expect(page.locator("input[name=login]")).to_be_visible()
    assert page.request.get(f"{base_url}/api/v1/pipelines").status == 401
    context.close()


def test_a_user_without_the_designer_roles_is_not_offered_the_designer(browser, base_url):
    """Issue 12: the menu offers only what the person may use, so no screen ends in a 403 toast;
    a typed-in link to a designer screen lands on the person's own work, and the server still refuses."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    log_in(page, base_url, login="driver1")
    expect(page.locator(".topbar")).to_have_count(1)
    for screen in ("processes", "robots", "testbench", "monitoring"):
        expect(page.locator(f'.nav a[href="#/{screen}"]')).to_have_count(0)
    page.goto(f"{base_url}/#/robots")
    page.wait_for_function("!location.hash.startsWith('#/robots')")
    expect(page.locator('[data-action="save-robots"]')).to_have_count(0)
    refused = page.request.put(f"{base_url}/api/v1/robots/main", data={"text": ""},
                               headers={"X-CSRF-Token": page.evaluate("sessionStorage.getItem('dealflow.csrf')")})
    assert refused.status == 403
    context.close()
