"""The designer in Debian's Chromium against a real server: what issue 5's "Done when" lists.

Each test drives the screens as a person does (clicks, typing) and then checks the result
through the REST API, so a screen that only looks right fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import requests
from playwright.sync_api import Page, expect

from tests.designer.browser import wait_for
from tests.support.bpmn import Bpmn

ROOT = Path(__file__).resolve().parents[2]


def _deploy(http, xml: str) -> dict:
    response = http.post(f"{http.base}/processes", data=xml.encode(), headers={"Content-Type": "application/xml"})
    assert response.status_code == 201, response.text
    return response.json()


def _click_element(page: Page, element_id: str) -> None:
    page.click(f'.djs-shape[data-element-id="{element_id}"]')


def _new_process(page: Page, key: str) -> None:
    page.click('[data-action="new-process"]')
    page.wait_for_function("() => document.querySelector('[name=df-process-id]')?.value === "
                           "window.dealflowModeler?.get('canvas').getRootElement().businessObject.id")
    page.fill('[name="df-process-id"]', key)
    page.press('[name="df-process-id"]', "Tab")


def _open_pad(page: Page, element_id: str) -> None:
    """Select `element_id` afresh so its context pad shows (a click on the selected element does not)."""
    page.click(".djs-container svg", position={"x": 700, "y": 12})
    _click_element(page, element_id)


def _append(page: Page, source: str, action: str) -> str:
    """Append from `source` with the context pad; returns the new element's id."""
    _open_pad(page, source)
    page.click(f'.djs-context-pad [data-action="{action}"]')
    page.keyboard.press("Escape")  # leaves the label editing
    return page.evaluate("() => window.dealflowModeler.get('selection').get()[0].id")


def _replace(page: Page, element_id: str, replacement: str) -> None:
    _open_pad(page, element_id)
    page.click('.djs-context-pad [data-action="replace"]')
    page.click(f'.djs-popup [data-id="{replacement}"]')


def _cursor_line(page: Page) -> str:
    """The text of the DSL editor's line with the cursor."""
    return page.evaluate("() => { const v = window.dealflowEditor; "
                         "return v.state.doc.lineAt(v.state.selection.main.head).text; }")


def _select_flow(page: Page, flow_id: str) -> None:
    """A straight flow's box is a line of no height, which Playwright counts as hidden and will not
    click; selecting it is what a click would do."""
    page.wait_for_selector(f'.djs-connection[data-element-id="{flow_id}"]', state="attached")
    page.evaluate("id => { const m = window.dealflowModeler; "
                  "m.get('selection').select(m.get('elementRegistry').get(id)); }", flow_id)


def test_the_designer_is_served_at_the_root_and_the_api_keeps_its_own_errors(base_url, http):
    index = requests.get(f"{base_url}/")
    assert index.status_code == 200 and '<div id="app">' in index.text
    deep = requests.get(f"{base_url}/monitoring/instance/1")  # a reload on a client route
    assert deep.status_code == 200 and '<div id="app">' in deep.text
    asset = re.search(r'src="(/assets/[^"]+\.js)"', index.text).group(1)
    assert requests.get(f"{base_url}{asset}").headers["Content-Type"].startswith("text/javascript")
    missing = http.get(f"{http.base}/no-such-thing")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert http.post(f"{http.base}/health").status_code == 405


def test_drawing_a_process_with_a_service_task_and_deploying_it(page: Page, http):
    _new_process(page, "greet_the_client")
    page.fill('[name="df-process-name"]', "Greet the client")

    _open_pad(page, "start")
    page.click('.djs-context-pad [data-action="append.append-task"]')
    page.keyboard.type("Note the greeting")
    page.click(".djs-container svg", position={"x": 500, "y": 600})  # ends the label editing
    task_id = page.locator(".djs-shape").filter(has_text="Note the greeting").first.get_attribute("data-element-id")
    _replace(page, task_id, "replace-with-service-task")  # the new service task stays selected
    expect(page.locator(".bio-properties-panel-header-type")).to_contain_text("Service Task")
    page.select_option('[name="df-action"]', "add_comment")
    page.fill('[data-field="param:text"]', '"Greeted {deal.title}"')
    _append(page, task_id, "append.end-event")
    page.click('[data-action="deploy"]')
    expect(page.locator("#toast")).to_contain_text("Deployed greet_the_client as version 1")

    xml = http.get(f"{http.base}/processes/greet_the_client/xml").text
    assert 'spiffworkflow:serviceTaskOperator id="add_comment"' in xml
    assert "Greeted {deal.title}" in xml
    deal = http.post(f"{http.base}/deals", json={"title": "Sofa"}).json()
    started = http.post(f"{http.base}/processes/greet_the_client/start", json={"deal_id": deal["id"]}).json()
    assert started["status"] == "completed"
    timeline = http.get(f"{http.base}/deals/{deal['id']}/timeline").json()
    assert any("Greeted Sofa" in entry["text"] for entry in timeline)


def test_an_expression_error_is_shown_on_the_element_and_blocks_the_deploy(page: Page, http):
    page.click('[data-process="send_to_bank"]')
    _select_flow(page, "flow_approved")
    condition = page.locator('[data-field="condition"]')
    expect(condition).to_have_text("event.approved == true")
    condition.fill("event.approved ==")
    badge = page.locator('.df-error-badge[data-element="flow_approved"]')
    expect(badge).to_contain_text("expected an expression")
    expect(page.locator(".df-field-error")).to_contain_text("line 1, column")

    page.click('[data-action="deploy"]')
    expect(page.locator("#toast")).to_contain_text("Fix the problems")
    assert [v["version"] for v in http.get(f"{http.base}/processes/send_to_bank/versions").json()] == [1]

    condition.fill("event.approved == true")
    expect(badge).to_have_count(0)


def test_a_robot_with_a_dsl_error_is_shown_at_its_line_refused_then_fixed_and_saved(page: Page, http):
    before = http.get(f"{http.base}/robots/credit").json()
    page.click('a[href="#/robots"]')
    page.click('[data-scope="credit"]')
    expect(page.locator('.column[data-stage="new"] .card')).to_contain_text("remind at the ready date")
    page.click('.column[data-stage="new"] .card')  # a card opens the text at its line
    assert 'robot "remind at the ready date"' in _cursor_line(page)
    wanted = before["text"].replace("contact the client", "call the client today", 1)
    broken = wanted.replace("notify(deal.responsible", "notifyy(deal.responsible", 1)
    bad_line = next(i for i, line in enumerate(broken.splitlines(), 1) if "notifyy(" in line)
    page.evaluate("text => { const v = window.dealflowEditor; "
                  "v.dispatch({changes: {from: 0, to: v.state.doc.length, insert: text}}); }", broken)
    expect(page.locator(".cm-lintRange-error").first).to_be_visible()
    page.click('[data-action="save-robots"]')
    expect(page.locator("#toast")).to_contain_text("Not saved")
    expect(page.locator("#dsl-errors")).to_contain_text(f"line {bad_line}, column")
    expect(page.locator("#dsl-errors")).to_contain_text("notifyy")
    assert http.get(f"{http.base}/robots/credit").json()["version"] == before["version"]

    page.click("#dsl-errors a")  # puts the cursor at the error: the start of the unknown action's name
    for _ in range(len("notify")):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Delete")
    assert "notify(deal.responsible" in _cursor_line(page)
    page.click('[data-action="save-robots"]')
    expect(page.locator("#toast")).to_contain_text(f"Saved credit as version {before['version'] + 1}")
    after = http.get(f"{http.base}/robots/credit").json()
    assert after["version"] == before["version"] + 1 and after["text"] == wanted


def test_an_instance_opens_on_its_diagram_with_active_and_completed_elements_and_its_variables(page: Page, http):
    _deploy(http, Bpmn("await_payment").parameter("channel").start().service("note", "add_comment", text='"waiting"')
            .message_catch("paid", "order.paid").end().chain("start", "note", "paid", "end").xml())
    deal = http.post(f"{http.base}/deals", json={"title": "Wardrobe"}).json()
    instance = http.post(f"{http.base}/processes/await_payment/start",
                         json={"deal_id": deal["id"], "params": {"channel": "phone"}}).json()
    page.goto(page.url.split("#")[0] + f"#/monitoring/instance/{instance['id']}")
    expect(page.locator('.djs-element.df-active[data-element-id="paid"]')).to_have_count(1)
    expect(page.locator('.djs-element.df-completed[data-element-id="note"]')).to_have_count(1)
    expect(page.locator('.djs-element.df-completed[data-element-id="end"]')).to_have_count(0)
    expect(page.locator("#history")).to_contain_text("note")
    expect(page.locator("#instance-variables")).to_contain_text("channel")
    expect(page.locator("#instance-variables")).to_contain_text('"phone"')


def test_retrying_an_incident_after_fixing_its_cause(page: Page, http):
    _deploy(http, Bpmn("record_source").start().service("record", "set_field", field="deal.source", value='"seen"')
            .end().chain("start", "record", "end").xml())
    deal = http.post(f"{http.base}/deals", json={"title": "Bed"}).json()
    instance = http.post(f"{http.base}/processes/record_source/start", json={"deal_id": deal["id"]}).json()
    assert instance["status"] == "incident"
    page.click('a[href="#/monitoring"]')
    expect(page.locator("#incidents")).to_contain_text("set_field needs a field and a value")
    page.click(f'#instances tr[data-id="{instance["id"]}"]')
    expect(page.locator('.djs-element.df-incident[data-element-id="record"]')).to_have_count(1)

    assert http.patch(f"{http.base}/deals/{deal['id']}", json={"source": "delivery_time"}).status_code == 200
    page.click('#instance-incidents [data-action="retry"]')
    expect(page.locator("#toast")).to_contain_text("Retried")
    wait_for(lambda: http.get(f"{http.base}/instances/{instance['id']}").json()["status"] == "completed",
              "the retried instance completes")
    # no reload: the page hears the steps over socket.io and redraws itself
    expect(page.locator("#instance-status")).to_have_text("completed")
    expect(page.locator('.djs-element.df-completed[data-element-id="end"]')).to_have_count(1)
    assert http.get(f"{http.base}/deals/{deal['id']}").json()["fields"]["delivery_time"] == "seen"


def test_a_shipped_diagram_uploaded_and_deployed_keeps_every_dealflow_setting(page: Page, http):
    source = (ROOT / "bpmn" / "send_to_bank.bpmn").read_text().replace(
        'id="send_to_bank" name="Send to bank"', 'id="send_to_bank_copy" name="Send to bank (copy)"')
    page.set_input_files('input[type="file"]', files=[{"name": "copy.bpmn", "mimeType": "application/xml",
                                                       "buffer": source.encode()}])
    expect(page.locator(".doc-title")).to_have_text("Send to bank (copy)")
    _click_element(page, "move_to_order_assembly")
    expect(page.locator('[data-field="param:stage"]')).to_have_text('"main.order_assembly"')
    page.click('[data-action="deploy"]')
    expect(page.locator("#toast")).to_contain_text("Deployed send_to_bank_copy as version 1")
    original = next(p for p in http.get(f"{http.base}/processes").json() if p["key"] == "send_to_bank")
    copy = next(p for p in http.get(f"{http.base}/processes").json() if p["key"] == "send_to_bank_copy")
    for key in ("parameters", "required_fields", "messages"):
        assert copy[key] == original[key]


def test_validate_lints_the_diagram_and_puts_each_problem_on_its_element(page: Page, http):
    xml = (Bpmn("loose_ends").start().service("note", "add_comment", text='"hi"').service("lost", "add_comment")
           .end().chain("start", "note", "end").xml())
    page.set_input_files('input[type="file"]', files=[{"name": "loose.bpmn", "mimeType": "application/xml",
                                                       "buffer": xml.encode()}])
    page.wait_for_selector('.djs-shape[data-element-id="lost"]')  # laid out: the file has no diagram part
    page.click('[data-action="validate"]')
    badge = page.locator('.df-error-badge[data-element="lost"]')  # every message in its tooltip
    expect(badge).to_have_attribute("title", re.compile(r"text is required[\s\S]*Element is not connected"))
    expect(page.locator('.df-error-badge[data-element="note"]')).to_have_count(0)
    expect(page.locator("#problems")).to_contain_text("lost:")
    page.click('[data-action="deploy"]')
    expect(page.locator("#toast")).to_contain_text("Fix the problems")
    assert http.get(f"{http.base}/processes/loose_ends/versions").status_code == 404


def test_timers_crm_events_start_parameters_and_preconditions_reach_the_server(page: Page, http):
    _new_process(page, "wait_for_the_bank")
    page.click("text=+ parameter")
    page.fill('[aria-label="parameter name"]', "ready_date")
    page.select_option('[aria-label="parameter type"]', "datetime")
    page.click("text=+ required field")
    page.fill('[aria-label="required field"]', "bank")

    timer = _append(page, "start", "append.intermediate-event")
    _replace(page, timer, "replace-with-timer-intermediate-catch")
    page.select_option('[name="df-timer-kind"]', "timeDuration")
    page.fill('[data-field="timer"]', "2h")
    message = _append(page, timer, "append.intermediate-event")
    _replace(page, message, "replace-with-message-intermediate-catch")
    page.fill('[data-field="message"]', "bank.decision")
    page.press('[data-field="message"]', "Tab")
    _append(page, message, "append.end-event")
    page.click('[data-action="deploy"]')
    expect(page.locator("#toast")).to_contain_text("Deployed wait_for_the_bank as version 1")

    deployed = next(p for p in http.get(f"{http.base}/processes").json() if p["key"] == "wait_for_the_bank")
    assert deployed["messages"] == ["bank.decision"]
    assert [(p["name"], p["type"], p["required"]) for p in deployed["parameters"]] == [("ready_date", "datetime", True)]
    assert [f["name"] for f in deployed["required_fields"]] == ["bank"]
    deal = http.post(f"{http.base}/deals", json={"title": "Credit sofa", "fields": {"bank": "Alfa"}}).json()
    started = http.post(f"{http.base}/processes/wait_for_the_bank/start",
                        json={"deal_id": deal["id"], "params": {"ready_date": "2026-12-01T10:00:00+00:00"}})
    assert started.status_code == 201, started.text
    assert http.get(f"{http.base}/instances/{started.json()['id']}").json()["active_elements"] == [timer]


def test_comparing_the_diagram_with_its_deployed_version_lists_and_marks_the_changes(page: Page):
    page.click('[data-process="send_to_bank"]')
    _click_element(page, "offer_new_conditions")
    page.fill('[data-field="param:due"]', "2d")
    _select_flow(page, "flow_approved")
    page.fill('[data-field="condition"]', "event.approved == true and deal.amount > 0")
    end = _append(page, "credit_rejected", "append.text-annotation")
    page.click('[data-action="compare"]')
    box = page.locator("#compare")
    expect(box.locator('[data-element="offer_new_conditions"]')).to_contain_text("parameter due 1d → 2d")
    expect(box.locator('[data-element="flow_approved"]')).to_contain_text(
        "condition event.approved == true → event.approved == true and deal.amount > 0")
    expect(box.locator(".diff")).to_have_count(2)  # an annotation changes nothing the server runs
    expect(page.locator('.djs-element.df-changed[data-element-id="offer_new_conditions"]')).to_have_count(1)
    expect(page.locator('.djs-element.df-changed[data-element-id="flow_approved"]')).to_have_count(1)
    expect(page.locator(f'.djs-element.df-changed[data-element-id="{end}"]')).to_have_count(0)
