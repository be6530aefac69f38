"""`make screens`: a screenshot of each main screen at 1366x768 (the driver's day at 390x844)
into docs/screens/.

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

PHONE = {"width": 390, "height": 844}


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


def _work(base: str) -> None:
    """Something on each task screen: deliveries (one given to driver1 for today, one in
    problem), a purchase request, and a logistician's own tasks due at different times."""
    from datetime import UTC, date, datetime, timedelta

    manager = api_session(base, "manager.north1")
    api = manager.base  # type: ignore[attr-defined]
    me = manager.get(f"{api}/auth/me", timeout=30).json()["user"]
    contact = manager.post(f"{api}/contacts", json={"name": "Olga Kuznetsova", "phones": ["+7 926 444 55 66"]},
                           timeout=30).json()
    deals = []
    for title, address, collect in (("Fridge Atlant for Olga", "Moscow, Lesnaya st. 12, apt. 34", 29980),
                                    ("Washer Indesit for Ivan", "Moscow, Sadovaya st. 3", 0),
                                    ("Oven Bosch for Maria", "Khimki, Mira ave. 101, entrance 2, floor 7", 52990)):
        deal = manager.post(f"{api}/deals", json={
            "title": title, "pipeline": "main", "stage": "order_assembly", "amount": "59980",
            "contact_id": contact["id"], "responsible_id": me["id"], "department_id": me["department_id"],
            "products": [{"name": "Atlant XM-4208", "qty": 1, "price": 34990},
                         {"name": "Indesit IWSB 5085", "qty": 1, "price": 24990}],
            "fields": {"delivery_address": address, "delivery_time": "10:00-14:00", "amount_to_collect": collect}},
            timeout=30).json()
        for stage in ("shipped", "delivery"):
            manager.post(f"{api}/deals/{deal['id']}/move", json={"stage": stage}, timeout=30).raise_for_status()
        deals.append(deal)
    purchase = manager.post(f"{api}/deals", json={"title": "Dishwasher for Pavel", "pipeline": "main",
                                                  "stage": "product_agreement", "responsible_id": me["id"],
                                                  "department_id": me["department_id"]}, timeout=30).json()
    manager.post(f"{api}/processes/purchase_request/start", json={
        "deal_id": purchase["id"], "params": {"product_name": "Dishwasher Bosch SMV", "sale_price": 55000}},
        timeout=30).raise_for_status()
    logist = api_session(base, "logist1")
    drivers = {u["login"]: u["id"] for u in logist.get(f"{api}/users?role=driver", timeout=30).json()}
    tasks = {t["deal_id"]: t for t in logist.get(f"{api}/tasks?group=logistics", timeout=30).json()}
    today = date.today().isoformat()
    for hour, deal in zip((11, 14), deals[:2], strict=True):
        logist.post(f"{api}/tasks/{tasks[deal['id']]['id']}/assign", json={
            "assignee_id": drivers["driver1"], "deadline": f"{today}T{hour}:00:00+00:00"}, timeout=30)
    logist.post(f"{api}/tasks/{tasks[deals[1]['id']]['id']}/move", json={"column": "problem", "note": "Nobody home"},
                timeout=30)
    mine = logist.get(f"{api}/auth/me", timeout=30).json()["user"]["id"]
    now = datetime.now(UTC)
    for title, due in (("Call the warehouse about the Atlant fridges", now - timedelta(days=1)),
                       ("Plan tomorrow's routes", now + timedelta(hours=1)),
                       ("Renew the van insurance", now + timedelta(days=5))):
        logist.post(f"{api}/tasks", json={"title": title, "assignee_id": mine, "deadline": due.isoformat()},
                    timeout=30)


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
        page.on("dialog", lambda dialog: dialog.accept())  # leave the edited diagram (unsaved.js asks)
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
        page.select_option('select[name="sandbox_stage"]', "main.product_agreement")
        page.select_option('#sandbox-fields select[name="credit_type"]', "credit")
        for name, value in (("bank", "Sberbank"), ("id_document", "4510 654321"), ("term_months", "24"),
                            ("down_payment", "20000")):
            page.fill(f'#sandbox-fields input[name="{name}"]', value)
        _shot(page, out, "08-test-bench")
        page.click('[data-action="start-run"]')
        page.wait_for_selector("#run-stage, .toast-error")  # the error when the server has no test-runs API
        _shot(page, out, "09-test-bench-run")

        page.click('a[href="#/deals"]')
        page.wait_for_selector("#deals tr.clickable")
        _shot(page, out, "10-deals")
        page.click("#deals tr.clickable")
        page.wait_for_selector("#deal-feed h3")
        _shot(page, out, "11-deal")

        page.click('a[href="#/decisions"]')  # the store's routing table, drawn by dmn-js
        page.wait_for_selector('[data-element-id="large_order_amount"]')
        _shot(page, out, "25-decisions")
        page.close()

        # The shell as the demo manager sees it: her feed, then the same in Ukrainian.
        manager = browser.new_page(viewport=VIEWPORT)
        manager.set_default_timeout(20000)
        log_in(manager, base, login="manager.north1")
        manager.click(".bell")
        manager.wait_for_selector(".feed-item")
        _shot(manager, out, "22-notifications")
        manager.select_option("select.language", "uk")
        manager.wait_for_selector('.feed-page h2:has-text("Сповіщення")')
        _shot(manager, out, "23-notifications-uk")
        manager.goto(f"{base}/#/deals")
        manager.wait_for_selector("#deals tr.clickable")
        _shot(manager, out, "24-deals-uk")
        manager.select_option("select.language", "en")
        manager.wait_for_timeout(500)

        _work(base)
        for login, name, selector, hash_ in (("logist1", "16-logistics-board", ".tb-card", "#/tasks/logistics"),
                                             ("logist1", "18-my-tasks", ".tb-bucket .tb-card", "#/tasks"),
                                             ("purchaser1", "19-purchasing-board", ".tb-card", "#/tasks/purchasing")):
            context = browser.new_context(viewport=VIEWPORT)
            staff = context.new_page()
            log_in(staff, base, login=login)
            staff.goto(f"{base}/{hash_}")
            staff.wait_for_selector(selector)
            _shot(staff, out, name)
            if name == "16-logistics-board":
                staff.click('.tb-column[data-column="new"] .tb-card:has-text("Oven") [data-action="assign"]')
                staff.wait_for_selector(".tb-person .tb-load")
                _shot(staff, out, "17-logistics-assign", 400)
            context.close()
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
        phone = context.new_page()
        log_in(phone, base, login="driver1")
        phone.wait_for_selector(".dd-delivery")
        _shot(phone, out, "20-driver-day-phone")
        phone.click('.dd-delivery [data-action="delivered"]')
        phone.wait_for_selector("dialog.dialog")
        _shot(phone, out, "21-driver-delivered-phone", 400)
        context.close()
        # The manager's deal card and the start form refusing Send to bank on its missing fields.
        http = api_session(base)
        deals = http.get(f"{http.base}/deals?q=Bosch WAN28", timeout=30).json()  # type: ignore[attr-defined]
        manager = browser.new_page(viewport=VIEWPORT)
        manager.set_default_timeout(20000)
        log_in(manager, base, "manager.north1")
        manager.goto(f"{base}/#/deals/{deals[0]['id']}")
        manager.wait_for_selector("#deal-feed .feed-item")
        _shot(manager, out, "14-deal-card")
        manager.click('#deal-processes [data-process="send_to_bank"]')
        manager.click("dialog.dialog button[type=submit]")
        manager.wait_for_selector("dialog.dialog .form-row.invalid")
        _shot(manager, out, "15-start-form")

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
