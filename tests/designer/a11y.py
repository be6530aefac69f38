"""An accessibility check of the page a test is on: axe-core (from the designer's own npm
dependencies, nothing fetched) run in the page; serious and critical violations fail."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from tests.support.server import ROOT

AXE = ROOT / "designer" / "node_modules" / "axe-core" / "axe.min.js"
FAILING = {"serious", "critical"}


def violations(page: Page, selector: str | None = None) -> list[dict[str, Any]]:
    """The serious and critical axe violations of the page (or of `selector` within it)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("(sel) => axe.run(sel || document, { resultTypes: ['violations'] })", selector)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in found["violations"] if v["impact"] in FAILING
    ]


def assert_accessible(page: Page, selector: str | None = None) -> None:
    found = violations(page, selector)
    assert found == [], f"axe-core: {found}"
