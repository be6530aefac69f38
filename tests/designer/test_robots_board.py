"""Robots made on the board without writing text: the form edits the DSL file on the server,
so the text and the board never disagree, and every comment in the text stays."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.designer.a11y import assert_accessible
from tests.designer.browser import wait_for
from tests.designer.server import api_session

SCOPE = "installment"
COMMENT = "# asked by the installment team: keep the documents reminder"
NEW_HEAD = 'robot "call about the term" after 2d if deal.amount > 1000:'
NEW_ACTION = 'notify(to: deal.responsible, text: "Call {deal.contact.name} about the term")'


@pytest.fixture
def installment(http):
    """The shipped installment robots with a comment of the team's inside the stage the test
    edits; put back afterwards, so other tests see the shipped text."""
    shipped = http.get(f"{http.base}/robots/{SCOPE}").json()["text"]
    commented = shipped.replace("stage documents:\n", f"stage documents:\n  {COMMENT}\n", 1)
    assert http.put(f"{http.base}/robots/{SCOPE}", json={"text": commented}).status_code == 200
    yield commented
    http.put(f"{http.base}/robots/{SCOPE}", json={"text": shipped})


def saved_text(http) -> str:
    return http.get(f"{http.base}/robots/{SCOPE}").json()["text"]


def saved_once(http, holds, what: str) -> str:
    """The stored text, once `holds(text)`: the form saves after the server has edited the text."""
    return wait_for(lambda: next((t for t in [saved_text(http)] if holds(t)), None), what)


def editor_text(page: Page) -> str:
    return page.evaluate("window.dealflowEditor.state.doc.toString()")


def type_into(page: Page, editor, text: str, *, replace: bool = False) -> None:
    """Into one of the form's one-line editors (CodeMirror), by keyboard as a person does."""
    editor.locator(".cm-content").click()
    if replace:
        page.keyboard.press("Control+A")
        page.keyboard.press("Backspace")
    page.keyboard.type(text)


def test_a_robot_added_edited_and_removed_on_the_board_changes_the_text_and_keeps_its_comments(
        page: Page, http, installment):
    page.goto(page.url.split("#")[0] + f"#/robots/{SCOPE}")
    documents = page.locator(".column[data-stage=documents]")
    expect(documents.locator(".card")).to_have_count(1)

    # Added: when, condition and an action from the catalog, its text in plain words.
    documents.locator("[data-action=add-robot]").click()
    form = page.locator("dialog .robot-form")
    form.locator("input[name=name]").fill("call about the term")
    form.locator("select[name='when.kind']").select_option("after")
    form.locator("input[name='when.amount']").fill("2d")
    type_into(page, form.locator("[data-input=condition]"), "deal.amount > 1000")
    action = form.locator(".action-form").first
    expect(action.locator("select").first).to_have_value("notify")
    type_into(page, action.locator("[data-input='actions.0.text']"), "Call {deal.contact.name} about the term")
    page.locator("dialog button[type=submit]").click()
    expect(page.locator("dialog")).to_have_count(0)
    text = saved_once(http, lambda t: NEW_HEAD in t, "the added robot saved")
    assert f"    {NEW_ACTION}\n" in text
    assert f"stage documents:\n  {COMMENT}\n" in text and "# S1.5:" in text
    assert editor_text(page) == text
    expect(documents.locator(".card")).to_have_count(2)

    # Edited: a longer wait, a condition from the field picker, a `then` step.
    documents.locator(".card", has_text="call about the term").locator("[data-action=edit-item]").click()
    form = page.locator("dialog .robot-form")
    expect(form.locator("input[name='when.amount']")).to_have_value("2d")
    form.locator("input[name='when.amount']").fill("3d")
    condition = form.locator("[data-input=condition]")
    type_into(page, condition, "", replace=True)
    form.locator("[data-field=condition] select.field-picker").select_option("vip")
    page.keyboard.type(" == true")
    form.locator("[data-action=add-then]").click()
    then = form.locator("[data-then='0']")
    assert_accessible(page, "dialog")
    type_into(page, then.locator("[data-input='then.0.actions.0.text']"), "Did the client answer?")
    page.locator("dialog button[type=submit]").click()
    expect(page.locator("dialog")).to_have_count(0)
    edited_head = 'robot "call about the term" after 3d if deal.vip == true:'
    text = saved_once(http, lambda t: edited_head in t, "the edited robot saved")
    assert (f"  {edited_head}\n    {NEW_ACTION}\n  then after 1d:\n"
            '    notify(to: deal.responsible, text: "Did the client answer?")\n') in text
    assert COMMENT in text and editor_text(page) == text

    # A mistake the server finds is shown on its field, and the text is left as it was.
    documents.locator(".card", has_text="call about the term").locator("[data-action=edit-item]").click()
    form = page.locator("dialog .robot-form")
    type_into(page, form.locator("[data-input=condition]"), "deal.no_such_field > 1", replace=True)
    page.locator("dialog button[type=submit]").click()
    expect(form.locator("[data-field=condition] .field-error")).to_contain_text("no_such_field")
    assert editor_text(page) == text
    page.locator("dialog button", has_text="Cancel").click()

    # Removed: the robot goes, the comments stay.
    documents.locator(".card", has_text="call about the term").locator("[data-action=edit-item]").click()
    page.locator("dialog [data-action=remove-item]").click()
    expect(page.locator("dialog")).to_have_count(0)
    text = saved_once(http, lambda t: "call about the term" not in t, "the robot removed")
    assert f"stage documents:\n  {COMMENT}\n" in text and "# S1.5:" in text
    assert editor_text(page) == text
    expect(documents.locator(".card")).to_have_count(1)

    # The versions: the removal compared with the version before it.
    page.click("[data-action=show-versions]")
    diff = page.locator("#robots-diff")
    expect(diff.locator(".rdiff-del").first).to_contain_text("call about the term")
    page.locator("dialog button[type=submit]").click()


def test_a_stage_trigger_added_and_a_stages_robots_switched_off_on_the_board(page: Page, http, installment):
    page.goto(page.url.split("#")[0] + f"#/robots/{SCOPE}")
    documents = page.locator(".column[data-stage=documents]")
    documents.locator("[data-action=add-trigger]").click()
    form = page.locator("dialog .robot-form")
    form.locator("select[name=event]").select_option("bank.decision")
    type_into(page, form.locator("[data-input=condition]"), "event.approved == true")
    page.locator("dialog button[type=submit]").click()
    expect(page.locator("dialog")).to_have_count(0)
    trigger = "  trigger on bank.decision if event.approved == true\n"
    text = saved_once(http, lambda t: trigger in t, "the trigger saved")
    assert text.index(trigger) > text.index("stage documents:") and COMMENT in text

    documents.locator("[data-action=robots-on]").uncheck()
    text = saved_once(http, lambda t: "stage documents (robots off):" in t, "the stage switched off")
    expect(documents).to_contain_text("robots off")

    documents.locator(".card-trigger [data-action=edit-item]").click()
    page.locator("dialog [data-action=remove-item]").click()
    text = saved_once(http, lambda t: "bank.decision" not in t, "the trigger removed")
    assert "stage documents (robots off):" in text and COMMENT in text and editor_text(page) == text


def test_the_boards_delays_are_said_in_the_readers_language_with_its_plural_forms(page: Page, base_url):
    """The cards say when a robot runs from the server's outline of the text, not the DSL's
    English: "after 1d" is "через 1 день" in Ukrainian, 180 days "180 днів" / "180 дней"."""
    def when(stage: str, name: str):
        return page.locator(f".column[data-stage={stage}] .card-robot", has_text=name).locator(".card-when")

    try:
        page.goto(page.url.split("#")[0] + "#/robots/main")
        expect(when("in_processing", "unpaid order reminder")).to_have_text("after 1 day")
        expect(when("won", "repeat sale")).to_have_text("after 180 days")
        page.select_option("select.language", "uk")
        expect(when("in_processing", "unpaid order reminder")).to_have_text("через 1 день")
        expect(when("won", "repeat sale")).to_have_text("через 180 днів")
        expect(page.locator(".column[data-stage=won] .card-then .card-when")).to_have_text("потім одразу")
        expect(when("in_processing", "check for duplicates")).to_have_text("одразу")
        page.select_option("select.language", "ru")
        expect(when("won", "repeat sale")).to_have_text("через 180 дней")

        # A delay typed in the text is said in words as soon as the server has read it.
        head = 'robot "unpaid order reminder" after'
        text = editor_text(page).replace(f"{head} 1d", f"{head} 2d 3h", 1)
        page.evaluate("text => { const v = window.dealflowEditor; "
                      "v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } }); }", text)
        expect(when("in_processing", "unpaid order reminder")).to_have_text("через 2 дня 3 часа")
    finally:
        reset = api_session(base_url, "designer")  # the next tests meet the designer in English
        reset.patch(f"{reset.base}/auth/me", json={"language": "en"}, timeout=30).raise_for_status()
        reset.close()
