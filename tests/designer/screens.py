"""`make screens`: a screenshot of each main screen at 1366x768 into docs/screens/.

Starts its own server on a fresh demo database, makes a little history (instances waiting,
one incident) so the monitoring screens have something to show, then walks the screens.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page

from tests.designer.browser import VIEWPORT, chromium, log_in
from tests.designer.server import api_session, live_dealflow
from tests.support.bpmn import Bpmn


def _history(base: str) -> int:
    """Two waiting instances and one incident; returns the waiting instance to show."""
    http = api_session(base)
    api = http.base  # type: ignore[attr-defined]

    def deploy(xml: str) -> None:
        http.post(f"{api}/processes", data=xml.encode(), headers={"Content-Type": "application/xml"},
                  timeout=30).raise_for_status()

    deploy(Bpmn("await_payment", "Await payment").start().service("note", "add_comment", text='"waiting"')
           .message_catch("paid", "order.paid").end().chain("start", "note", "paid", "end").xml())
    deploy(Bpmn("record_source", "Record the source").start()
           .service("record", "set_field", field="deal.source", value='"seen"').end()
           .chain("start", "record", "end").xml())
    shown = 0
    starts = (("Sofa Milano", "await_payment"), ("Wardrobe Oslo", "await_payment"), ("Bed Lotus", "record_source"))
    for title, key in starts:
        deal = http.post(f"{api}/deals", json={"title": title}, timeout=30).json()
        instance = http.post(f"{api}/processes/{key}/start", json={"deal_id": deal["id"]}, timeout=30).json()
        shown = shown or instance["id"]
    return shown


def _shot(page: Page, out: Path, name: str, wait: int = 1200) -> None:
    page.wait_for_timeout(wait)
    page.screenshot(path=str(out / f"{name}.png"))
    print(f"wrote {out / name}.png")


def take(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, live_dealflow(Path(tmp)) as base, chromium() as browser:
        instance_id = _history(base)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(20000)
        page.goto(f"{base}/")
        page.wait_for_selector("input[name=login]")
        _shot(page, out, "01-login", 300)
        log_in(page, base)

        page.click('[data-process="send_to_bank"]')
        page.click('.djs-shape[data-element-id="offer_new_conditions"]')
        page.wait_for_selector('[data-field="param:title"]')
        _shot(page, out, "02-modeler-service-task")
        page.evaluate("id => { const m = window.dealflowModeler; "
                      "m.get('selection').select(m.get('elementRegistry').get(id)); }", "flow_approved")
        page.fill('[data-field="condition"]', "event.approved ==")
        page.wait_for_selector(".df-error-badge")
        _shot(page, out, "03-modeler-expression-error")

        page.click('a[href="#/robots"]')
        page.wait_for_selector(".column .card")
        _shot(page, out, "04-robots-board")
        page.click('[data-action="show-text"]')
        page.evaluate("() => { const v = window.dealflowEditor; const line = v.state.doc.line(7); "
                      "v.dispatch({changes: {from: line.from + 4, insert: 'bogus_action(1)\\n    '}}); }")
        page.wait_for_selector(".cm-lintRange-error")
        page.click('[data-action="save-robots"]')
        _shot(page, out, "05-robots-dsl-error")

        page.click('a[href="#/monitoring"]')
        page.wait_for_selector("#instances tr.clickable")
        _shot(page, out, "06-monitoring")
        page.click(f'#instances tr[data-id="{instance_id}"]')
        page.wait_for_selector(".df-active")
        _shot(page, out, "07-instance")

        page.click('a[href="#/testbench"]')
        page.wait_for_selector('[data-action="start-run"]')
        page.select_option('select[name="process"]', "send_to_bank")
        page.fill('input[data-param="ready_date"]', "2030-01-07T10:00:00+00:00")
        page.click("text=or a sandbox deal")
        page.fill('input[name="sandbox_title"]', "TV on credit")
        page.fill('input[name="sandbox_stage"]', "main.product_agreement")
        page.fill('textarea[name="sandbox_fields"]', '{"credit_type": "credit", "bank": "Sberbank", '
                  '"id_document": "4510 654321", "term_months": 24, "down_payment": 20000}')
        _shot(page, out, "08-test-bench")
        page.click('[data-action="start-run"]')
        page.wait_for_selector("#run-stage, .toast-error")  # the error when the server has no test-runs API
        _shot(page, out, "09-test-bench-run")

        page.click('a[href="#/deals"]')
        page.wait_for_selector("#deals tr.clickable")
        _shot(page, out, "10-deals")
        page.click("#deals tr.clickable")
        page.wait_for_selector("#timeline")
        _shot(page, out, "11-deal")

        board = browser.new_page(viewport=VIEWPORT)  # the deals board as a manager sees it
        board.set_default_timeout(20000)
        log_in(board, base, login="manager.north1")
        board.wait_for_selector("#board .board-card")
        _shot(board, out, "12-deals-board")
        board.click('.board-card:has-text("Microwave Samsung MS23") .board-move')
        board.select_option("dialog.dialog select", "delivery")
        board.click("dialog.dialog button[type=submit]")
        board.wait_for_selector('dialog.dialog [data-field="delivery_address"]')
        _shot(board, out, "13-deals-board-gate", 600)


if __name__ == "__main__":
    take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screens"))
