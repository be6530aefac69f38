"""axe-core on every designer screen and on the shell's own parts (issue 12): no serious or
critical violation (contrast of muted texts and table headers, a focusable scrolling board,
named controls), in English and in Ukrainian."""

from __future__ import annotations

import pytest

from tests.designer.a11y import assert_accessible

SCREENS = [
    ("processes", ".djs-container"),
    ("decisions", ".tjs-table"),
    ("robots", ".column"),
    ("testbench", '[data-action="start-run"]'),
    ("monitoring", "#instances table, #instances .empty"),
    ("deals", "#deals table, #deals .empty"),
    ("notifications", ".feed-page .feed li"),
]


@pytest.mark.parametrize(("screen", "ready"), SCREENS, ids=[s for s, _ in SCREENS])
def test_each_screen_has_no_serious_accessibility_violation(page, base_url, screen, ready):
    page.goto(f"{base_url}/#/{screen}")
    page.wait_for_selector(ready)
    page.wait_for_timeout(300)
    assert_accessible(page)


def test_the_shell_in_ukrainian_has_no_serious_accessibility_violation(page, base_url):
    page.goto(f"{base_url}/#/monitoring")
    page.wait_for_selector("#instances table, #instances .empty")
    page.select_option("select.language", "uk")
    page.wait_for_selector('.nav a[data-route="monitoring"]:has-text("Моніторинг")')
    try:
        assert_accessible(page)
    finally:
        page.select_option("select.language", "en")
        page.wait_for_selector('.nav a[data-route="monitoring"]:has-text("Monitoring")')
