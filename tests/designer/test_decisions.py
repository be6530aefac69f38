"""The decisions screen (dmn-js): the shipped routing table opens, a changed cell deploys as a
new version the API serves and runs, and a cell the server refuses is marked where it is."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def _open_routing(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/#/decisions")
    expect(page.locator(".doc-title")).to_contain_text("Manager routing")
    expect(page.locator('[data-element-id="large_order_amount"]')).to_be_visible()


def _type_into_cell(page: Page, element_id: str, text: str) -> None:
    cell = page.locator(f'[data-element-id="{element_id}"]')
    cell.click()
    editable = cell.locator("[contenteditable]").first
    editable.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    expect(cell).to_contain_text(text)


def test_change_a_cell_of_the_routing_table_deploy_and_see_the_new_version(page: Page, http, base_url):
    before = http.get(f"{http.base}/decisions/store_routing/versions").json()[0]["version"]
    _open_routing(page, base_url)
    _type_into_cell(page, "large_order_amount", ">= 250000")
    page.click('[data-action="deploy"]')
    expect(page.locator("#toast")).to_contain_text(f"Manager routing version {before + 1}")
    expect(page.locator("select.versions option")).to_have_count(before + 2)  # "versions…" and each version
    expect(page.locator('[data-decision="store_routing"]')).to_contain_text(f"v{before + 1}")

    assert http.get(f"{http.base}/decisions/store_routing/versions").json()[0]["version"] == before + 1
    assert "&gt;= 250000" in http.get(f"{http.base}/decisions/store_routing/xml").text
    tried = http.post(f"{http.base}/decisions/store_routing/evaluate",
                      json={"variables": {"deal": {"amount": 260000, "department": "store_south"}}})
    assert tried.json()["value"] == {"responsible": "head.north"}


def test_a_refused_cell_is_marked_in_the_table_and_nothing_is_deployed(page: Page, http, base_url):
    before = http.get(f"{http.base}/decisions/store_routing/versions").json()[0]["version"]
    _open_routing(page, base_url)
    _type_into_cell(page, "credit_appliances_category", "<< 5")
    page.click('[data-action="deploy"]')
    expect(page.locator("#toast")).to_contain_text("Deploy refused: 1 problem(s)")
    expect(page.locator('[data-element-id="credit_appliances_category"]')).to_have_class(re.compile(r"\bdf-cell-problem\b"))
    expect(page.locator("#problems .problem")).to_contain_text("rule 4")
    expect(page.locator("#problems .problem")).to_contain_text("Category: cannot read")
    assert http.get(f"{http.base}/decisions/store_routing/versions").json()[0]["version"] == before
