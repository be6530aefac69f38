"""The test bench screen against the test-runs API (on main since the test-runs issue; this
file needs it, so it passes once this branch is merged with main).

S1 as a designer tries it: send a sandbox deal to the bank, let the clock pass the ready date
so the credit pipeline's reminder robot fires, then the bank rejects."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

TYPED_FIELDS = {"bank": "Sberbank", "id_document": "4510 654321", "term_months": "24", "down_payment": "20000"}


def fill_sandbox_deal(page: Page, title: str, stage: str) -> None:
    """The sandbox deal's form: the stage picked by name, the pipeline's typed fields filled."""
    page.click("text=or a sandbox deal")
    page.fill('input[name="sandbox_title"]', title)
    page.select_option('select[name="sandbox_stage"]', stage)
    page.select_option('#sandbox-fields select[name="credit_type"]', "credit")
    for name, value in TYPED_FIELDS.items():
        page.fill(f'#sandbox-fields input[name="{name}"]', value)


def test_s1_in_the_test_bench_send_to_bank_reminder_then_the_bank_rejects(page: Page, http):
    ready = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
    page.click('a[href="#/testbench"]')
    page.select_option('select[name="process"]', "send_to_bank")
    page.fill('input[data-param="ready_date"]', ready)
    fill_sandbox_deal(page, "TV on credit", "main.product_agreement")
    page.click('[data-action="start-run"]')

    # The stage as the manager knows it, pipeline and stage by name; the code only as the chip's title.
    expect(page.locator("#run-stage")).to_have_text("Credit · New")
    expect(page.locator("#run-stage")).to_have_attribute("title", "credit.new")
    expect(page.locator('#run-diagram .djs-element.df-active[data-element-id="wait_bank_decision"]')).to_have_count(1)
    expect(page.locator('#run-diagram .df-completed[data-element-id="move_to_credit_pipeline"]')).to_have_count(1)
    expect(page.locator('#run-board .stage.current')).to_have_text("New")

    page.fill('input[name="advance"]', "3d")
    page.click('[data-action="advance"]')
    expect(page.locator("#run-log")).to_contain_text("remind at the ready date")
    expect(page.locator("#run-tasks")).to_contain_text("Contact")

    page.select_option('select[name="event"]', "bank.decision")
    page.fill('textarea[name="payload"]', '{"approved": false}')
    page.click('[data-action="send-event"]')
    expect(page.locator("#run-stage")).to_have_text("Sales · Product agreement")
    expect(page.locator("#run-instance-status")).to_have_text("completed")
    for element in ("bank_approved", "move_to_product_agreement", "offer_new_conditions", "notify_supervisor_rejected"):
        expect(page.locator(f'#run-diagram .df-completed[data-element-id="{element}"]')).to_have_count(1)
    expect(page.locator('#run-diagram .df-completed[data-element-id="move_to_order_assembly"]')).to_have_count(0)
    expect(page.locator("#run-tasks")).to_contain_text("Offer new conditions or another product")
    expect(page.locator("#run-log")).to_contain_text("Bank decision received")

    with page.expect_download() as case:
        page.click('[data-action="save-case"]')
    text = case.value.path().read_text()
    assert "send_to_bank" in text and "bank.decision" in text
    real = [d["title"] for p in ("main", "credit") for d in http.get(f"{http.base}/deals?pipeline={p}").json()]
    assert "TV on credit" not in real  # the sandbox deal never reached the real CRM


def test_a_refused_start_says_in_words_what_the_process_needs_and_marks_the_field(page: Page, tmp_path):
    page.click('a[href="#/testbench"]')
    page.select_option('select[name="process"]', "send_to_bank")
    fill_sandbox_deal(page, "TV on credit", "main.product_agreement")
    page.click('[data-action="start-run"]')

    toast = page.locator(".toast-error")
    expect(toast).to_contain_text("Not started: Send to bank needs: Everything ready by (estimate) (required)")
    expect(toast).not_to_contain_text("{")  # no raw JSON
    expect(page.locator('[data-param-row="ready_date"] .field-error')).to_have_text("This field is required.")
    expect(page.locator('input[data-param="ready_date"]')).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(tmp_path / "bench-refused.png"))


def test_the_log_tells_the_run_as_a_story_to_the_second(page: Page, tmp_path):
    ready = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
    page.click('a[href="#/testbench"]')
    page.select_option('select[name="process"]', "send_to_bank")
    page.fill('input[data-param="ready_date"]', ready)
    fill_sandbox_deal(page, "Fridge on credit", "main.product_agreement")
    page.click('[data-action="start-run"]')
    expect(page.locator("#run-stage")).to_have_text("Credit · New")
    page.fill('input[name="advance"]', "3d")
    page.click('[data-action="advance"]')
    expect(page.locator("#run-log")).to_contain_text("Robot “remind at the ready date”: ran")
    page.select_option('select[name="event"]', "bank.decision")
    page.fill('textarea[name="payload"]', '{"approved": false}')
    page.click('[data-action="send-event"]')
    expect(page.locator("#run-log")).to_contain_text("Event sent: bank.decision (approved: No)")

    rows = page.locator("#run-log tbody tr").all_inner_texts()
    assert "Run started on the deal “Fridge on credit”" in rows[0]

    def first(text: str) -> int:
        return next(i for i, row in enumerate(rows) if text in row)

    assert (first("Run started") < first("Deal created") < first("Started the process Send to bank")
            < first("Step “Move to the credit or installment pipeline”: completed")
            < first("Clock moved by 3d") < first("Robot “remind at the ready date”: ran")
            < first("Event sent: bank.decision") < first("Step “Credit rejected”: completed"))
    assert all(re.search(r"\d{1,2}:\d{2}:\d{2}", row) for row in rows)  # every row to the second
    assert not any("{" in row for row in rows)
    # A deal change reads as the deal's feed says it: the date as a date, the process by its name.
    ready_row = rows[first("Ready by:")]
    assert ready[:10] not in ready_row and "T" not in ready_row.split("Ready by:")[1].split("\t")[0]
    assert "Send to bank" in ready_row and "send_to_bank" not in ready_row
    page.locator("#run-log").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "bench-story.png"), full_page=False)
