"""The editors' own controls (dmn-js's decision table, bpmn-js's palette and context pad) speak
the designer's language like the rest of the app (issue 13): a Ukrainian designer sees the
decision table's headers, hit policy, "add rule" and its context menu in Ukrainian."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.designer.server import api_session


@pytest.fixture
def ukrainian(page: Page, base_url: str) -> Iterator[Page]:
    page.select_option("select.language", "uk")
    expect(page.locator('.nav a[data-route="decisions"]')).to_have_text("Рішення")
    yield page
    reset = api_session(base_url, "designer")  # the next tests meet the designer in English
    reset.patch(f"{reset.base}/auth/me", json={"language": "en"}, timeout=30).raise_for_status()
    reset.close()


def test_a_ukrainian_designer_sees_the_decision_table_controls_in_ukrainian(ukrainian: Page, base_url: str):
    page = ukrainian
    page.goto(f"{base_url}/#/decisions")
    table = page.locator(".tjs-table")
    expect(page.locator('[data-element-id="large_order_amount"]')).to_be_visible()
    expect(page.locator(".hit-policy .dms-label")).to_have_text("Політика спрацювання:")
    expect(page.locator(".hit-policy")).to_contain_text("Перше")
    expect(table.locator("th .clause").first).to_have_text("Коли")
    expect(table.locator("th .clause", has_text="Тоді")).to_have_count(1)
    expect(page.locator(".add-rule-add button")).to_have_attribute("title", "Додати правило")
    expect(page.get_by_text("Hit policy")).to_have_count(0)

    page.locator('[data-element-id="large_order_amount"]').click(button="right")
    menu = page.locator(".context-menu")
    expect(menu).to_contain_text("Додати правило вище")
    expect(menu).to_contain_text("Видалити правило")
    expect(menu).not_to_contain_text("Add rule")


def test_a_ukrainian_designer_sees_the_bpmn_palette_and_context_pad_in_ukrainian(ukrainian: Page, base_url: str):
    page = ukrainian
    page.goto(f"{base_url}/#/processes")
    palette = page.locator(".djs-palette")
    expect(palette.locator('[data-action="create.task"]')).to_have_attribute("aria-label", "Створити задачу")
    expect(palette.locator('[data-action="create.exclusive-gateway"]')).to_have_attribute("aria-label", "Створити шлюз")
    expect(palette.locator('[aria-label^="Create"]')).to_have_count(0)

    task = page.wait_for_function("""() => window.dealflowModeler?.get('elementRegistry')
        .find((e) => /(Task|StartEvent)$/.test(e.type))?.id""").json_value()
    page.locator(f'.djs-element[data-element-id="{task}"]').click()
    pad = page.locator(".djs-context-pad")
    expect(pad.locator('[data-action="delete"]')).to_have_attribute("title", "Видалити")
    expect(pad.locator('[data-action="append.append-task"]')).to_have_attribute("title", "Додати задачу")


def test_a_ukrainian_designer_sees_the_properties_panel_in_ukrainian(ukrainian: Page, base_url: str):
    """bpmn-js-properties-panel's own groups, entries and header (General, Documentation, Name, ID,
    Element documentation, the element's type) go through the same translate service as the palette."""
    page = ukrainian
    page.goto(f"{base_url}/#/processes")
    panel = page.locator(".bio-properties-panel")
    shape = page.wait_for_function("""() => window.dealflowModeler?.get('elementRegistry')
        .find((e) => /(Task|StartEvent)$/.test(e.type))?.id""").json_value()
    page.locator(f'.djs-element[data-element-id="{shape}"]').click()
    titles = panel.locator(".bio-properties-panel-group-header-title")
    expect(titles.filter(has_text="Загальне")).to_have_count(1)
    expect(titles.filter(has_text="Документація")).to_have_count(1)
    expect(titles.filter(has_text=re.compile("General|Documentation"))).to_have_count(0)
    expect(panel.locator(".bio-properties-panel-header-type")).not_to_have_text(re.compile("[A-Za-z]"))

    for group in ("Загальне", "Документація"):
        header = panel.locator(".bio-properties-panel-group-header", has_text=group)
        if "open" not in (header.get_attribute("class") or ""):
            header.click()
    labels = panel.locator(".bio-properties-panel-label")
    expect(labels.filter(has_text=re.compile("^Назва$"))).to_have_count(1)
    expect(labels.filter(has_text=re.compile("^ID$"))).to_have_count(1)
    expect(labels.filter(has_text="Документація елемента")).to_have_count(1)
    expect(labels.filter(has_text=re.compile("^(Name|Element documentation)$"))).to_have_count(0)
