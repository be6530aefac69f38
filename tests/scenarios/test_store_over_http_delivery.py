"""S3 courier delivery and S8 repeat sale — through HTTP alone.

The manager moves her deal along the sales funnel (POST /deals/{id}/move); entering
`delivery` makes the shipped robot start the courier process, whose task lands on the
logistics board. The logistician gives it to a driver for a day (POST /tasks/{id}/assign),
the driver reads the load sheet (GET /tasks/load-sheet) and completes the delivery, the
manager checks it, and the logistician counts deliveries per driver (GET
/tasks/delivery-counts). Everyone signs in with login and password and sends the CSRF
header with changes. The one step outside HTTP is the passing of time (`time_passes`: the
virtual clock moves and the job loop runs what fell due). Each test runs on SQLite and on
PostgreSQL with the demo store, the shipped processes and the shipped robots; the demo clock
starts on Monday 2026-01-05 09:00 UTC, and the demo drivers work in Europe/Moscow (UTC+3).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.http import Browser

PRODUCTS = [{"name": "Atlant XM-4208", "qty": 1, "price": 34990}, {"name": "Indesit IWSB", "qty": 1, "price": 24990}]
# As the process copies them onto the task: every product with its (here empty) category.
ON_THE_TASK = [{**product, "category": None} for product in PRODUCTS]


@pytest.fixture
def anna(signed_in) -> Browser:
    return signed_in("manager.north1")


@pytest.fixture
def logist(signed_in) -> Browser:
    return signed_in("logist1")


@pytest.fixture
def driver(signed_in) -> Browser:
    return signed_in("driver1")


def assembled(manager: Browser, title: str = "Fridge and washer for Olga", address: str = "Lesnaya 12, apt. 34",
              stage: str = "order_assembly") -> dict[str, Any]:
    """A paid-in-part order of the manager's store, ready to ship."""
    contact = manager.post("/contacts", {"name": "Olga Kuznetsova", "phones": ["+7 926 444 55 66"]})
    return manager.post("/deals", {
        "title": title, "pipeline": "main", "stage": stage, "amount": "59980", "contact_id": contact["id"],
        "responsible_id": manager.user["id"], "department_id": manager.user["department_id"], "products": PRODUCTS,
        "fields": {"delivery_address": address, "delivery_time": "10:00-14:00", "amount_to_collect": 29980}})


def sent_out(manager: Browser, logist: Browser, **deal: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manager ships the deal and moves it to delivery; logistics finds the new task."""
    created = assembled(manager, **deal)
    manager.post(f"/deals/{created['id']}/move", {"stage": "shipped"})
    manager.post(f"/deals/{created['id']}/move", {"stage": "delivery"})
    [task] = logist.tasks(group="logistics", deal_id=created["id"])
    return created, task


def given(logist: Browser, task: dict[str, Any], driver: Browser, due: str) -> dict[str, Any]:
    return logist.post(f"/tasks/{task['id']}/assign", {"assignee_id": driver.user["id"], "deadline": due})


def delivered(anna: Browser, logist: Browser, driver: Browser, due: str = "2026-01-06T10:00:00+03:00", **deal: Any):
    created, task = sent_out(anna, logist, **deal)
    given(logist, task, driver, due)
    driver.post(f"/tasks/{task['id']}/complete")
    return created, task


# ---------------------------------------------------------------------- S3 courier delivery


def test_s3_1_entering_delivery_puts_a_task_with_everything_the_delivery_needs_on_the_logistics_board(
        anna, logist):
    deal, task = sent_out(anna, logist)
    assert task["title"] == "Deliver Fridge and washer for Olga to Lesnaya 12, apt. 34"
    assert (task["group"], task["column"], task["status"], task["assignee_id"]) == ("logistics", "new", "open", None)
    needs = {key: task["data"].get(key) for key in ("deal_title", "address", "delivery_time", "client", "phone",
                                                    "products", "amount_to_collect", "currency")}
    assert needs == {
        "deal_title": "Fridge and washer for Olga", "address": "Lesnaya 12, apt. 34", "delivery_time": "10:00-14:00",
        "client": "Olga Kuznetsova", "phone": "+7 926 444 55 66", "products": ON_THE_TASK,
        "amount_to_collect": 29980, "currency": "RUB"}
    [instance] = anna.get("/instances", deal_id=deal["id"])
    assert instance["key"] == "courier_delivery"
    waiting = anna.get(f"/instances/{instance['id']}")["active_elements"]
    assert sorted(waiting) == ["deliver_order", "delivery_problem"]  # the task, and the watch on its column
    log = {(entry["name"], entry["outcome"]) for entry in anna.get(f"/deals/{deal['id']}/automation-log")}
    assert ("start courier delivery", "ran") in log


def test_s9_the_deal_is_hidden_from_the_other_store_until_shipped_then_every_store_sees_it(anna, signed_in):
    deal = assembled(anna)
    south = signed_in("manager.south1")
    assert south.call("GET", f"/deals/{deal['id']}").status_code == 404
    assert south.call("POST", f"/deals/{deal['id']}/move", {"stage": "lost"}).status_code == 404
    anna.post(f"/deals/{deal['id']}/move", {"stage": "shipped"})
    assert south.where(deal["id"]) == "main.shipped"
    assert deal["id"] in [d["id"] for d in south.get("/deals", stage="shipped", pipeline="main")]


def test_s3_2_the_logistician_gives_the_delivery_to_a_driver_for_a_day_and_only_that_driver_gets_it(
        anna, logist, driver, signed_in):
    deal, task = sent_out(anna, logist)
    other = signed_in("driver2")
    assert driver.tasks() == [] and driver.call("GET", f"/deals/{deal['id']}").status_code == 404
    planned = given(logist, task, driver, "2026-01-06T10:00:00+03:00")
    assert planned["assignee_id"] == driver.user["id"] and planned["deadline"].startswith("2026-01-06T07:00:00")
    assert [t["id"] for t in driver.tasks()] == [task["id"]]
    assert driver.deal(deal["id"])["title"] == "Fridge and washer for Olga"
    assert other.tasks() == [] and other.call("GET", f"/tasks/{task['id']}").status_code == 404
    assert "assigned to Dmitry Voditelev" in anna.timeline(deal["id"])[-2]["text"]


def test_s3_2_a_driver_may_not_hand_deliveries_around_and_an_unknown_driver_is_refused(anna, logist, driver):
    _, task = sent_out(anna, logist)
    given(logist, task, driver, "2026-01-06T10:00:00+03:00")
    refused = driver.call("POST", f"/tasks/{task['id']}/assign", {"assignee_id": logist.user["id"]})
    assert refused.status_code == 403
    unknown = logist.call("POST", f"/tasks/{task['id']}/assign", {"assignee_id": 999999})
    assert unknown.status_code == 422 and "assignee_id" in unknown.json["details"]
    assert driver.get(f"/tasks/{task['id']}")["assignee_id"] == driver.user["id"]


def test_s3_2_the_load_sheet_lists_the_drivers_deliveries_of_the_day_in_order_with_products_and_amounts(
        anna, logist, driver):
    _, late = sent_out(anna, logist, title="Washer for Petrov", address="Arbat 3")
    _, early = sent_out(anna, logist, title="Fridge and washer for Olga")
    _, next_day = sent_out(anna, logist, title="Oven for Ivan", address="Tverskaya 10")
    given(logist, late, driver, "2026-01-06T16:00:00+03:00")
    given(logist, early, driver, "2026-01-06T09:30:00+03:00")
    given(logist, next_day, driver, "2026-01-07T01:00:00+03:00")  # still Jan 6 in UTC, Jan 7 in Moscow
    sheet = driver.get("/tasks/load-sheet", date="2026-01-06")
    assert (sheet["driver"], sheet["date"]) == ("driver1", "2026-01-06")
    assert [(d["task_id"], d["address"]) for d in sheet["deliveries"]] == [(early["id"], "Lesnaya 12, apt. 34"),
                                                                          (late["id"], "Arbat 3")]
    first = sheet["deliveries"][0]
    assert (first["products"], first["amount_to_collect"], first["currency"]) == (ON_THE_TASK, 29980, "RUB")
    assert (first["client"], first["phone"], first["delivery_time"]) == ("Olga Kuznetsova", "+7 926 444 55 66",
                                                                         "10:00-14:00")
    assert logist.get("/tasks/load-sheet", driver="driver1", date="2026-01-06") == sheet
    assert [d["task_id"] for d in driver.get("/tasks/load-sheet", date="2026-01-07")["deliveries"]] == [
        next_day["id"]]


def test_s3_2_a_driver_reads_only_their_own_load_sheet(anna, logist, driver, signed_in):
    _, task = sent_out(anna, logist)
    given(logist, task, driver, "2026-01-06T10:00:00+03:00")
    other = signed_in("driver2")
    assert other.get("/tasks/load-sheet", date="2026-01-06")["deliveries"] == []
    refused = other.call("GET", "/tasks/load-sheet", driver="driver1", date="2026-01-06")
    assert refused.status_code == 403


def test_s3_3_the_driver_completes_the_task_the_deal_moves_to_delivery_check_and_the_manager_is_told(
        anna, logist, driver):
    deal, task = delivered(anna, logist, driver)
    assert anna.where(deal["id"]) == "main.delivery_check"
    assert anna.feed() == ["Fridge and washer for Olga has been delivered: please check the delivery."]
    [check] = anna.tasks(deal_id=deal["id"], status="open")
    assert check["title"] == "Check the delivery of Fridge and washer for Olga"
    assert check["assignee_id"] == anna.user["id"]
    assert logist.get(f"/tasks/{task['id']}")["status"] == "done"


def test_s3_4_when_the_check_passes_the_deal_is_won_and_the_delivery_task_archived(anna, logist, driver):
    deal, task = delivered(anna, logist, driver)
    [check] = anna.tasks(deal_id=deal["id"], status="open")
    anna.post(f"/tasks/{check['id']}/complete")
    assert anna.where(deal["id"]) == "main.won"
    assert logist.get(f"/tasks/{task['id']}")["status"] == "archived"
    [instance] = anna.get("/instances", deal_id=deal["id"])
    assert instance["status"] == "completed"


def test_s3_4_deliveries_are_counted_per_driver_per_period_for_bonuses(anna, logist, driver, signed_in,
                                                                       time_passes):
    other = signed_in("driver2")
    delivered(anna, logist, driver, title="Washer for Petrov")
    delivered(anna, logist, other, title="Oven for Ivan")
    time_passes(days=1)
    delivered(anna, logist, driver, title="Fridge and washer for Olga", due="2026-01-07T10:00:00+03:00")
    _, waiting = sent_out(anna, logist, title="TV for Sergey")
    given(logist, waiting, driver, "2026-01-07T12:00:00+03:00")  # not delivered: not counted
    week = logist.get("/tasks/delivery-counts", since="2026-01-05T00:00:00Z", until="2026-01-12T00:00:00Z")
    assert [(row["driver"], row["deliveries"]) for row in week] == [("driver1", 2), ("driver2", 1)]
    first_day = logist.get("/tasks/delivery-counts", since="2026-01-05T00:00:00Z", until="2026-01-06T00:00:00Z")
    assert [(row["driver"], row["deliveries"]) for row in first_day] == [("driver1", 1), ("driver2", 1)]
    backwards = logist.call("GET", "/tasks/delivery-counts", since="2026-01-12T00:00:00Z",
                            until="2026-01-05T00:00:00Z")
    assert backwards.status_code == 422


def test_s3_5_a_task_dragged_to_problem_tells_the_manager_at_once(anna, logist):
    deal, task = sent_out(anna, logist)
    assert anna.feed() == []
    logist.post(f"/tasks/{task['id']}/move", {"column": "problem"})
    assert anna.feed() == ["Delivery problem with Fridge and washer for Olga: logistics moved the delivery task to "
                           "the problem column. Please contact logistics and the client."]
    assert logist.tasks(group="logistics", column="problem")[0]["id"] == task["id"]
    assert anna.where(deal["id"]) == "main.delivery"


# ---------------------------------------------------------------------- S8 repeat sale


def test_s8_half_a_year_after_a_win_a_repeat_sale_deal_is_created_and_the_manager_reminded(anna, time_passes):
    deal = assembled(anna, title="Coffee machine for Olga", stage="delivery_check")
    anna.post(f"/deals/{deal['id']}/move", {"stage": "won"})
    time_passes(days=179)
    anna.sign_in()  # months later: the old session has run out
    assert anna.get("/deals", q="Repeat sale") == [] and anna.feed() == []
    time_passes(days=1)
    [copy] = anna.get("/deals", q="Repeat sale")
    assert copy["title"] == "Repeat sale: Coffee machine for Olga"
    assert (copy["pipeline"], copy["stage"], copy["responsible_id"]) == ("main", "new", anna.user["id"])
    assert copy["contact_id"] == deal["contact_id"]
    assert anna.feed() == ["Time for a repeat sale to Olga Kuznetsova: Coffee machine for Olga was won half a year ago"]
