"""The BPMN modeler as a process designer uses it (issue 15): checks that can be run again,
text parameters written as plain words, names rather than ids, unsaved work kept.

Each test drives the screen with the mouse and keyboard and checks the result through the API.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.designer.browser import person, users_by_login
from tests.designer.test_designer import _append, _click_element, _new_process, _open_pad, _replace

ROOT = Path(__file__).resolve().parents[2]


def _upload_send_to_bank_copy(page: Page, key: str, name: str) -> None:
    source = (ROOT / "bpmn" / "send_to_bank.bpmn").read_text().replace(
        'id="send_to_bank" name="Send to bank"', f'id="{key}" name="{name}"')
    page.set_input_files('input[type="file"]', files=[{"name": f"{key}.bpmn", "mimeType": "application/xml",
                                                       "buffer": source.encode()}])
    expect(page.locator(".doc-title")).to_have_text(name)


def test_validate_twice_then_deploy_in_one_page_session(page: Page, http):
    _upload_send_to_bank_copy(page, "send_to_bank_again", "Send to bank again")
    for _ in range(2):  # the lint rules start afresh each time: no flow is a duplicate of itself
        page.click('[data-action="validate"]')
        expect(page.locator("#toast")).to_contain_text("No problems found")
        expect(page.locator("#problems .problem")).to_have_count(0)
    page.click('[data-action="deploy"]')
    expect(page.locator("#toast")).to_contain_text("Deployed send_to_bank_again as version 1")
    assert [v["version"] for v in http.get(f"{http.base}/processes/send_to_bank_again/versions").json()] == [1]


def test_a_task_title_typed_as_plain_words_deploys_and_runs(page: Page, http):
    _new_process(page, "call_the_client")
    _open_pad(page, "start")
    page.click('.djs-context-pad [data-action="append.append-task"]')
    page.keyboard.type("Call")
    page.click(".djs-container svg", position={"x": 500, "y": 600})
    task_id = page.locator(".djs-shape").filter(has_text="Call").first.get_attribute("data-element-id")
    _replace(page, task_id, "replace-with-service-task")
    page.select_option('[name="df-action"]', "create_task")
    page.fill('[data-field="param:title"]', "Call the client")
    page.fill('[data-field="param:description"]', "About {deal.title}, {{urgent}}")
    expect(page.locator('[data-field="param:title"]')).not_to_have_class("invalid")
    expect(page.locator(".df-field-error").first).to_have_text("")
    _append(page, task_id, "append.end-event")
    page.click('[data-action="deploy"]')
    expect(page.locator("#toast")).to_contain_text("Deployed call_the_client as version 1")

    deal = http.post(f"{http.base}/deals", json={"title": "Blue sofa"}).json()
    started = http.post(f"{http.base}/processes/call_the_client/start", json={"deal_id": deal["id"]})
    assert started.status_code == 201, started.text
    assert started.json()["status"] == "completed"
    tasks = http.get(f"{http.base}/tasks", params={"deal_id": deal["id"]}).json()
    assert [(t["title"], t["description"]) for t in tasks] == [("Call the client", "About Blue sofa, {urgent}")]

    _click_element(page, task_id)  # opened again, the stored text reads as it was typed
    expect(page.locator('[data-field="param:title"]')).to_have_text("Call the client")
    expect(page.locator('[data-field="param:description"]')).to_have_text("About {deal.title}, {{urgent}}")


def test_problems_name_their_elements_and_the_header_follows_the_deployed_name(page: Page, http):
    _new_process(page, "named_problems")
    page.fill('[name="df-process-name"]', "Named problems")
    expect(page.locator(".doc-title")).to_have_text("Named problems")  # renamed in the panel: the header follows
    _open_pad(page, "start")
    page.click('.djs-context-pad [data-action="append.append-task"]')
    page.keyboard.type("Check the stock")
    page.click(".djs-container svg", position={"x": 500, "y": 600})
    task_id = page.locator(".djs-shape").filter(has_text="Check the stock").first.get_attribute("data-element-id")
    _replace(page, task_id, "replace-with-service-task")
    page.click('[data-action="validate"]')
    problem = page.locator("#problems .problem").filter(has_text="action")
    expect(problem.locator(".problem-where")).to_have_text("Check the stock")  # the id is only secondary
    expect(problem).to_contain_text(task_id)
    expect(page.locator("#problems .problem").filter(has_text="end event").locator(".problem-where")).to_have_text(
        "Named problems")

    page.select_option('[name="df-action"]', "add_comment")
    page.fill('[data-field="param:text"]', "Stock checked for {deal.title}")
    _append(page, task_id, "append.end-event")
    page.click('[data-action="deploy"]')
    expect(page.locator("#toast")).to_contain_text("Deployed named_problems as version 1")
    expect(page.locator(".doc-title")).to_have_text("Named problems v1")


def test_unsaved_diagram_work_is_kept_unless_the_person_chooses_to_leave(page: Page):
    _new_process(page, "unsaved_work")
    _open_pad(page, "start")
    page.click('.djs-context-pad [data-action="append.end-event"]')
    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click('[data-process="send_to_bank"]')
    page.wait_for_timeout(300)
    root = "() => window.dealflowModeler.get('canvas').getRootElement().businessObject.id"
    assert page.evaluate(root) == "unsaved_work"  # stayed, the work is there
    assert asked and "unsaved" in asked[0].lower()
    ends = "() => window.dealflowModeler.get('elementRegistry').filter(e => e.type === 'bpmn:EndEvent').length"
    assert page.evaluate(ends) == 1

    page.once("dialog", lambda dialog: dialog.accept())
    page.click('[data-process="send_to_bank"]')
    expect(page.locator(".doc-title")).to_have_text("Send to bank")


def test_opening_a_diagram_widens_cut_labels_and_keeps_the_palette_off_the_diagram(page: Page):
    page.click('[data-process="send_to_bank"]')
    expect(page.locator(".doc-title")).to_have_text("Send to bank")
    label = page.locator('.djs-element[data-element-id="flow_approved_label"] text tspan')
    expect(label).to_have_count(1)  # one line: "Approved", not "Approve" / "d"
    expect(label).to_have_text("Approved")
    palette = page.locator(".djs-palette").bounding_box()
    start = page.locator('.djs-shape[data-element-id="start"]').bounding_box()
    assert palette is not None and start is not None and start["x"] > palette["x"] + palette["width"]
    assert not page.evaluate("() => window.dealflowModeler.get('commandStack').canUndo()")  # showing is no edit


def test_undo_and_redo_reach_every_dealflow_property_in_one_properties_panel(page: Page):
    page.click('[data-process="send_to_bank"]')
    _click_element(page, "offer_new_conditions")
    due = page.locator('[data-field="param:due"]')
    expect(due).to_have_text("1d")
    due.fill("2d")
    page.locator('[data-field="param:title"]').fill("Offer another bank")
    undo = "() => window.dealflowModeler.get('commandStack').undo()"
    page.evaluate(undo)
    expect(page.locator('[data-field="param:title"]')).to_have_text("Offer new conditions or another product")
    expect(due).to_have_text("2d")
    page.evaluate(undo)
    expect(due).to_have_text("1d")  # the panel follows the command stack, not only the selection
    page.evaluate("() => window.dealflowModeler.get('commandStack').redo()")
    expect(due).to_have_text("2d")

    panel = page.locator(".bio-properties-panel")  # one editor: the dealflow group inside the properties panel
    expect(panel).to_have_count(1)
    expect(panel.locator('[data-group-id="group-dealflow"] [data-field="param:due"]')).to_have_count(1)
    _click_element(page, "wait_bank_decision")
    expect(panel.locator('[data-field="message"]')).to_have_value("bank.decision")
    expect(panel.locator('[data-group-id="group-message"]')).to_have_count(0)  # the dealflow group edits it


def test_a_reload_with_unsaved_diagram_work_asks_first(browser, base_url):
    page, errors = person(browser, base_url, "designer")
    page.goto(f"{base_url}/processes")
    _new_process(page, "reload_asks")
    _open_pad(page, "start")
    page.click('.djs-context-pad [data-action="append.end-event"]')
    kinds: list[str] = []

    def answer(dialog) -> None:
        kinds.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    page.close(run_before_unload=True)  # what a reload or a closed tab does first
    page.wait_for_timeout(500)
    assert kinds == ["beforeunload"]
    page.context.close()
    assert errors == []


def _focused_field(page: Page) -> str | None:
    return page.evaluate("() => document.activeElement && document.activeElement.dataset.field || null")


def test_a_user_tasks_title_assignee_and_deadline_are_typed_in_editors_undone_redone_and_deployed(page: Page, http):
    _new_process(page, "call_back_texts")
    _open_pad(page, "start")
    page.click('.djs-context-pad [data-action="append.append-task"]')
    page.keyboard.type("Call back")
    page.click(".djs-container svg", position={"x": 500, "y": 600})
    task_id = page.locator(".djs-shape").filter(has_text="Call back").first.get_attribute("data-element-id")
    _replace(page, task_id, "replace-with-user-task")

    title = page.locator('[data-field="prop:title"]')
    title.click()
    page.keyboard.type("Call {deal.ti")  # key by key, while the panel redraws for what it writes
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("title")  # completion from the vocabulary
    page.keyboard.type("tle} back")
    expect(title).to_have_text("Call {deal.title} back")  # no key lost to a redraw
    assert _focused_field(page) == "prop:title"  # nor the focus
    expect(title).not_to_have_class("invalid")

    assignee = page.locator('[data-field="prop:assignee"]')
    picker = page.locator('[data-entry-id="df-prop-assignee"] select.field-picker')
    expect(picker.locator("option", has_text="Responsible")).to_have_count(1)  # fields by their label
    picker.select_option("responsible")
    expect(assignee).to_have_text("deal.responsible")
    deadline = page.locator('[data-field="prop:deadline"]')
    deadline.fill("2d")
    expect(deadline).to_have_text("2d")

    undo = "() => window.dealflowModeler.get('commandStack').undo()"
    redo = "() => window.dealflowModeler.get('commandStack').redo()"
    page.evaluate(undo)
    expect(deadline.locator(".cm-placeholder")).to_have_count(1)  # empty again: the editor follows the command stack
    expect(assignee).to_have_text("deal.responsible")
    page.evaluate(undo)
    expect(assignee.locator(".cm-placeholder")).to_have_count(1)
    expect(title).to_have_text("Call {deal.title} back")
    page.evaluate(redo)
    page.evaluate(redo)
    expect(assignee).to_have_text("deal.responsible")
    expect(deadline).to_have_text("2d")
    assert not page.evaluate("() => window.dealflowModeler.get('commandStack').canRedo()")  # the syncs made no commands

    rows = page.locator(".df-form-field")
    page.click('[data-field="add-form-field"]')  # a row of the task's form is in the model at once
    expect(rows).to_have_count(1)
    page.evaluate(undo)
    expect(rows).to_have_count(0)
    page.evaluate(redo)
    expect(rows).to_have_count(1)
    rows.first.locator('button[aria-label="Remove the field"]').click()
    expect(rows).to_have_count(0)
    expect(title).to_have_text("Call {deal.title} back")

    _append(page, task_id, "append.end-event")
    page.click('[data-action="deploy"]')
    expect(page.locator("#toast")).to_contain_text("Deployed call_back_texts as version 1")
    manager = users_by_login(http)["manager.north1"]
    deal = http.post(f"{http.base}/deals", json={"title": "Blue sofa", "responsible_id": manager["id"]}).json()
    started = http.post(f"{http.base}/processes/call_back_texts/start", json={"deal_id": deal["id"]})
    assert started.status_code == 201, started.text
    [task] = http.get(f"{http.base}/tasks", params={"deal_id": deal["id"]}).json()
    assert (task["title"], task["assignee_id"]) == ("Call Blue sofa back", manager["id"])
    created, due = (datetime.fromisoformat(task[key]) for key in ("created_at", "deadline"))
    assert timedelta(days=2) - timedelta(minutes=1) < due - created <= timedelta(days=2)


def test_deploying_a_gateway_whose_conditions_can_all_be_false_warns_by_its_name(page: Page, http):
    from tests.engine.test_gateway_warnings import routed

    source = routed().replace('id="routing" name="routing"', 'id="order_size_routing" name="Order size routing"')
    page.set_input_files('input[type="file"]', files=[{"name": "order_size_routing.bpmn",
                                                       "mimeType": "application/xml", "buffer": source.encode()}])
    expect(page.locator(".doc-title")).to_have_text("Order size routing")
    page.click('[data-action="deploy"]')
    toast = page.locator("#toast")
    expect(toast).to_contain_text("Deployed order_size_routing as version 1")
    expect(toast).to_contain_text('Gateway "Order size" has no default flow')
    assert [v["version"] for v in http.get(f"{http.base}/processes/order_size_routing/versions").json()] == [1]
