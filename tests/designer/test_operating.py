"""Operating running instances on the monitoring screen (issue 15): a failing step reads as
retrying and then as an incident, cancel keeps its reason, many instances are retried at once.
Each check of the screen is followed by one through the REST API."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.designer.browser import wait_for
from tests.support.bpmn import Bpmn


def _deploy(http, xml: str) -> None:
    response = http.post(f"{http.base}/processes", data=xml.encode(), headers={"Content-Type": "application/xml"})
    assert response.status_code == 201, response.text


def _start(http, key: str, title: str) -> int:
    deal = http.post(f"{http.base}/deals", json={"title": title}).json()
    started = http.post(f"{http.base}/processes/{key}/start", json={"deal_id": deal["id"]})
    assert started.status_code == 201, started.text
    return started.json()["id"]


def _instance(http, instance_id: int) -> dict:
    return http.get(f"{http.base}/instances/{instance_id}").json()


def test_a_failing_step_shows_as_retrying_with_its_attempts_and_then_as_an_incident(page: Page, http):
    _deploy(http, Bpmn("ring_bank_ui", "Ring the bank").start().service("ring", "call_bank").end()
            .chain("start", "ring", "end").xml().replace('name="ring"', 'name="Call the bank"'))
    instance_id = _start(http, "ring_bank_ui", "Sofa Milano")
    page.goto(page.url.split("#")[0] + f"#/monitoring/instance/{instance_id}")
    status = page.locator("#instance-status")
    expect(status).to_contain_text(re.compile(r"retrying: .*the bank did not answer, attempt 1 of 3, next at"))
    expect(page.locator("h2")).to_contain_text("Ring the bank")
    expect(page.locator('.djs-element.df-active[data-element-id="ring"]')).to_have_count(1)
    expect(page.locator("#history")).to_contain_text("Call the bank")
    for attempt in (2, 3):
        page.click('[data-action="retry-now"]')
        wait_for(lambda n=attempt: (_instance(http, instance_id).get("retry") or {}).get("attempt", 3) >= n,
                 f"attempt {attempt} ran")
        page.click("text=Refresh")
    wait_for(lambda: _instance(http, instance_id)["state"] == "incident", "the third failure is an incident")
    page.click("text=Refresh")
    expect(status).to_have_text("incident")
    expect(page.locator("#instance-incidents")).to_contain_text("Call the bank")
    page.click('#instance-incidents [data-action="retry"]')
    # the bank is still down: the retry says so instead of "resolved"
    expect(page.locator("#toast")).to_contain_text("still failing")
    assert _instance(http, instance_id)["state"] == "retrying"


def test_a_variable_edited_and_the_instance_cancelled_with_a_reason_show_in_the_history(page: Page, http):
    _deploy(http, Bpmn("await_pickup", "Await pickup").start().message_catch("picked", "order.picked").end()
            .chain("start", "picked", "end").xml())
    instance_id = _start(http, "await_pickup", "Wardrobe Oslo")
    page.goto(page.url.split("#")[0] + f"#/monitoring/instance/{instance_id}")
    page.fill('input[name="variable_name"]', "promised")
    page.fill('input[name="variable_value"]', '"Friday"')
    page.click('.variable-form button[type="submit"]')
    expect(page.locator("#instance-variables")).to_contain_text('"Friday"')
    expect(page.locator("#history")).to_contain_text('promised: null → "Friday"')
    page.fill('.cancel-box input[name="reason"]', "customer changed their mind")
    page.click('[data-action="cancel"]')
    expect(page.locator("#instance-status")).to_have_text("cancelled")
    expect(page.locator("#history")).to_contain_text("because: customer changed their mind")
    last = http.get(f"{http.base}/instances/{instance_id}/history").json()[-1]
    assert last["detail"]["reason"] == "customer changed their mind"
    assert page.locator(".variable-form").count() == 0  # a finished instance's variables no longer change


def test_bulk_retry_of_the_instances_a_filter_finds_gives_a_result_per_instance(page: Page, http):
    _deploy(http, Bpmn("mark_seen", "Mark seen").start()
            .service("mark", "set_field", field='"source"', value="deal.down_payment * 2").end()
            .chain("start", "mark", "end").xml())
    broken = [_start(http, "mark_seen", title) for title in ("Bed Lotus", "Chair Nord")]
    page.click('a[href="#/monitoring"]')
    page.select_option('select[name="key"]', "mark_seen")
    page.select_option('select[name="status"]', "incident")
    page.fill('input[name="incident"]', "down_payment")
    page.press('input[name="incident"]', "Enter")
    for instance_id in broken:
        expect(page.locator(f'#instances tr[data-id="{instance_id}"]')).to_be_visible()
    expect(page.locator("#instances")).to_contain_text("Mark seen")
    expect(page.locator("#incidents")).to_contain_text("deal.down_payment is empty (in `deal.down_payment * 2`)")
    page.click('[data-action="bulk-retry"]')
    results = page.locator("#bulk-results")
    expect(results).to_contain_text("Done: 2 succeeded, 0 failed.")
    for instance_id in broken:
        expect(results.locator(f'li[data-id="{instance_id}"]')).to_contain_text("failed again")
        assert _instance(http, instance_id)["status"] == "incident"


def test_a_bulk_retry_shows_its_progress_and_each_instances_result_while_it_runs(page: Page, http):
    """The bar and the lines are filled from the server's progress events: the HTTP answer is held
    back by the test until they show, so what the page shows by then came over socket.io."""
    _deploy(http, Bpmn("mark_seen_live", "Mark seen live").start()
            .service("mark", "set_field", field='"source"', value="deal.down_payment * 3").end()
            .chain("start", "mark", "end").xml())
    broken = [_start(http, "mark_seen_live", title) for title in ("Lamp Oslo", "Rug Bergen", "Desk Turku")]
    held: list = []

    def hold(route) -> None:
        held.append((route, route.fetch()))  # the server does the work; the page waits for its answer

    page.route("**/api/v1/instances/bulk", hold)
    page.click('a[href="#/monitoring"]')
    page.select_option('select[name="key"]', "mark_seen_live")
    for instance_id in broken:
        expect(page.locator(f'#instances tr[data-id="{instance_id}"]')).to_be_visible()
    page.click('[data-action="bulk-retry"]')
    results = page.locator("#bulk-results")
    expect(results.locator("#bulk-count")).to_have_text("3 of 3 done…")
    expect(results.locator("#bulk-progress")).to_have_js_property("value", 3)
    expect(results.locator("#bulk-progress")).to_have_js_property("max", 3)
    for instance_id in broken:
        expect(results.locator(f'li[data-id="{instance_id}"]')).to_contain_text("failed again")
    for _ in range(400):  # the held answer, for the page to have at last
        if held:
            break
        page.wait_for_timeout(50)
    route, answer = held[0]
    route.fulfill(response=answer)
    expect(results).to_contain_text("Done: 3 succeeded, 0 failed.")
    expect(results.locator("li")).to_have_count(3)
    page.unroute("**/api/v1/instances/bulk")
