"""The CRM over HTTP, as the designer and a store integration use it."""

from __future__ import annotations

import json
import threading

from crm.events import Cause
from tests.support.world import make_deal


def test_pipelines_are_listed_with_their_stages_in_order(client):
    pipelines = client.get("/api/v1/pipelines").json
    main = next(p for p in pipelines if p["code"] == "main")
    assert [s["code"] for s in main["stages"]][:2] == ["new", "in_processing"]
    assert main["stages"][0]["is_start"] is True and main["stages"][-1]["kind"] == "lost"


def test_a_pipeline_is_created_and_a_stage_added_before_the_closing_ones(client):
    created = client.post("/api/v1/pipelines", json={"code": "repairs", "name": "Repairs", "stages": [
        {"code": "new", "name": "New"}, {"code": "done", "name": "Done", "kind": "won"},
        {"code": "failed", "name": "Failed", "kind": "lost"}]})
    assert created.status_code == 201
    added = client.post("/api/v1/pipelines/repairs/stages", json={"code": "diagnosis", "name": "Diagnosis"})
    assert added.status_code == 201 and added.json["ref"] == "repairs.diagnosis"
    codes = [s["code"] for s in client.get("/api/v1/pipelines/repairs").json["stages"]]
    assert codes == ["new", "diagnosis", "done", "failed"]


def test_a_pipeline_without_closing_stages_is_refused_with_the_field(client):
    refused = client.post("/api/v1/pipelines", json={"code": "bad", "name": "Bad", "stages": [
        {"code": "a", "name": "A"}, {"code": "b", "name": "B"}]})
    assert refused.status_code == 422 and "stages" in refused.json["details"]


def test_deals_are_filtered_and_paged(client, engine):
    for n in range(3):
        make_deal(engine, title=f"Dishwasher {n}", stage="main.delivery")
    page = client.get("/api/v1/deals?pipeline=main&stage=delivery&q=dishwasher&per_page=2&page=1")
    assert page.status_code == 200 and len(page.json) == 2
    meta = json.loads(page.headers["X-Pagination"])
    assert meta["total"] == 3 and meta["total_pages"] == 2 and meta["next_page"] == 2
    assert all(d["stage"] == "delivery" for d in page.json)
    by_manager = client.get("/api/v1/deals?responsible=manager.north1&q=Dishwasher").json
    assert len(by_manager) == 3


def test_a_deal_is_created_read_and_its_fields_changed(client):
    created = client.post("/api/v1/deals", json={"title": "Oven", "amount": "25000", "fields": {"bank": "Sber"}})
    assert created.status_code == 201
    deal = created.json
    assert deal["pipeline"] == "main" and deal["stage"] == "new" and deal["fields"] == {"bank": "Sber"}
    changed = client.patch(f"/api/v1/deals/{deal['id']}", json={"title": "Big oven", "fields": {"term_months": 6}})
    assert changed.status_code == 200
    assert changed.json["title"] == "Big oven" and changed.json["fields"]["term_months"] == 6
    assert client.get(f"/api/v1/deals/{deal['id']}").json["version"] == deal["version"] + 1


def test_an_update_from_an_outdated_read_is_a_conflict_and_changes_nothing(client, engine):
    deal_id = make_deal(engine)
    version = client.get(f"/api/v1/deals/{deal_id}").json["version"]
    assert client.patch(f"/api/v1/deals/{deal_id}", json={"title": "First", "version": version}).status_code == 200
    late = client.patch(f"/api/v1/deals/{deal_id}", json={"title": "Second", "version": version})
    assert late.status_code == 409 and late.json["code"] == "conflict"
    assert client.get(f"/api/v1/deals/{deal_id}").json["title"] == "First"


def test_moving_a_deal_changes_its_stage_and_writes_the_timeline(client, engine):
    deal_id = make_deal(engine)
    moved = client.post(f"/api/v1/deals/{deal_id}/move", json={"stage": "product_agreement"})
    assert moved.status_code == 200 and moved.json["stage_ref"] == "main.product_agreement"
    kinds = [e["kind"] for e in client.get(f"/api/v1/deals/{deal_id}/timeline").json]
    assert kinds == ["created", "stage_moved"]


def test_the_automation_log_of_a_deal_is_readable(client, engine):
    deal_id = make_deal(engine)
    response = client.get(f"/api/v1/deals/{deal_id}/automation-log")
    assert response.status_code == 200 and isinstance(response.json, list)


def test_a_contact_is_found_by_a_phone_typed_differently(client):
    created = client.post("/api/v1/contacts", json={"name": "Nina", "phones": ["+7 900 123-45-67"]})
    assert created.status_code == 201
    found = client.get("/api/v1/contacts?phone=89001234567").json
    assert [c["id"] for c in found] == [created.json["id"]]


def test_a_lead_is_created_and_marked_junk(client):
    lead = client.post("/api/v1/leads", json={"title": "Call from site", "phone": "+7 901 000 00 00"}).json
    assert lead["status"] == "new"
    junk = client.post(f"/api/v1/leads/{lead['id']}/status", json={"status": "junk"})
    assert junk.json["status"] == "junk"
    assert [x["id"] for x in client.get("/api/v1/leads?status=junk").json] == [lead["id"]]


def test_users_are_listed_by_role_and_their_presence_set(client):
    drivers = client.get("/api/v1/users?role=driver").json
    assert {u["login"] for u in drivers} == {"driver1", "driver2"}
    away = client.post(f"/api/v1/users/{drivers[0]['id']}/presence", json={"present": False})
    assert away.json["present"] is False
    new = client.post("/api/v1/users", json={"login": "driver3", "name": "Third Driver", "roles": ["driver"]})
    assert new.status_code == 201 and new.json["roles"] == ["driver"]


def test_a_task_moves_between_columns_and_is_completed_once(client, engine):
    deal_id = make_deal(engine)
    task = client.post("/api/v1/tasks", json={"title": "Call the client", "deal_id": deal_id, "group": "sales"}).json
    moved = client.post(f"/api/v1/tasks/{task['id']}/move", json={"column": "in_progress"})
    assert moved.json["column"] == "in_progress"
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"result": {"reached": True}})
    assert done.status_code == 200 and done.json["status"] == "done"
    again = client.post(f"/api/v1/tasks/{task['id']}/complete", json={})
    assert again.status_code == 409 and again.json["code"] == "task_not_open"
    assert [t["id"] for t in client.get(f"/api/v1/tasks?deal_id={deal_id}&status=done").json] == [task["id"]]


def test_a_delivery_is_given_to_a_driver_once_open_and_bad_plans_change_nothing(client, engine):
    deal_id = make_deal(engine)
    task = client.post("/api/v1/tasks", json={"title": "Deliver", "deal_id": deal_id, "group": "logistics"}).json
    driver = next(u["id"] for u in client.get("/api/v1/users?role=driver").json)
    for bad in ({"assignee_id": driver, "deadline": "2026-01-06T10:00:00"}, {"assignee_id": "driver1"},
                {"deadline": "2026-01-06T10:00:00Z"}, {"assignee_id": driver, "colour": "red"}):
        refused = client.post(f"/api/v1/tasks/{task['id']}/assign", json=bad)
        assert refused.status_code == 422, bad
    assert client.get(f"/api/v1/tasks/{task['id']}").json == task
    planned = client.post(f"/api/v1/tasks/{task['id']}/assign",
                          json={"assignee_id": driver, "deadline": "2026-01-06T10:00:00+03:00"}).json
    assert (planned["assignee_id"], planned["deadline"]) == (driver, "2026-01-06T07:00:00+00:00")
    unassigned = client.post(f"/api/v1/tasks/{task['id']}/assign", json={"assignee_id": None}).json
    assert (unassigned["assignee_id"], unassigned["deadline"]) == (None, planned["deadline"])
    client.post(f"/api/v1/tasks/{task['id']}/complete", json={})
    late = client.post(f"/api/v1/tasks/{task['id']}/assign", json={"assignee_id": driver})
    assert late.status_code == 409 and late.json["code"] == "task_not_open"


def test_the_boards_name_their_columns_and_a_card_names_its_assignee_and_deal(client, engine):
    boards = {b["group"]: b["columns"] for b in client.get("/api/v1/tasks/boards").json}
    assert boards["logistics"] == ["new", "in_progress", "problem"] and "problem" in boards["purchasing"]
    deal_id = make_deal(engine, title="Fridge for Olga")
    driver = next(u for u in client.get("/api/v1/users?role=driver").json if u["login"] == "driver1")
    task = client.post("/api/v1/tasks", json={"title": "Deliver", "deal_id": deal_id, "group": "logistics",
                                              "assignee_id": driver["id"]}).json
    assert (task["assignee_name"], task["deal_title"]) == (driver["name"], "Fridge for Olga")
    loose = client.post("/api/v1/tasks", json={"title": "Tidy up"}).json
    assert (loose["assignee_name"], loose["deal_title"]) == (None, None)


def test_a_card_moves_only_to_its_boards_columns_and_a_note_says_why(client, engine):
    deal_id = make_deal(engine)
    task = client.post("/api/v1/tasks", json={"title": "Deliver", "deal_id": deal_id, "group": "logistics"}).json
    timeline = client.get(f"/api/v1/deals/{deal_id}/timeline").json
    refused = client.post(f"/api/v1/tasks/{task['id']}/move", json={"column": "nowhere"})
    assert refused.status_code == 422 and "column" in refused.json["details"]
    assert client.post(f"/api/v1/tasks/{task['id']}/move", json={"column": "problem", "note": "x" * 2001}
                       ).status_code == 422
    assert client.get(f"/api/v1/tasks/{task['id']}").json == task
    assert client.get(f"/api/v1/deals/{deal_id}/timeline").json == timeline
    moved = client.post(f"/api/v1/tasks/{task['id']}/move", json={"column": "problem", "note": " Nobody home "}).json
    assert (moved["column"], moved["data"]["note"]) == ("problem", "Nobody home")
    assert client.get(f"/api/v1/deals/{deal_id}/timeline").json[-1]["text"].endswith("new → problem: Nobody home")
    again = client.post(f"/api/v1/tasks/{task['id']}/move", json={"column": "problem", "note": "Gate locked"}).json
    assert again["data"]["note"] == "Gate locked"
    assert client.get(f"/api/v1/deals/{deal_id}/timeline").json[-1]["text"].endswith("(problem): Gate locked")
    driver = next(u["id"] for u in client.get("/api/v1/users?role=driver").json)
    client.post(f"/api/v1/tasks/{task['id']}/assign", json={"assignee_id": driver, "deadline": "2026-01-06T10:00:00Z"})
    sheet = client.get(f"/api/v1/tasks/load-sheet?date=2026-01-06&driver={driver}").json
    assert [d["note"] for d in sheet["deliveries"]] == ["Gate locked"]  # the driver's day says what went wrong
    free = client.post("/api/v1/tasks", json={"title": "Call", "group": "sales"}).json
    assert client.post(f"/api/v1/tasks/{free['id']}/move", json={"column": "waiting"}).json["column"] == "waiting"


def test_a_load_sheet_needs_a_day_and_counts_need_a_period_in_order(client):
    assert client.get("/api/v1/tasks/load-sheet").status_code == 422
    assert client.get("/api/v1/tasks/load-sheet?date=06.01.2026").status_code == 422
    assert client.get("/api/v1/tasks/load-sheet?date=2026-01-06&driver=nobody").status_code == 404
    empty = client.get("/api/v1/tasks/load-sheet?date=2026-01-06&driver=driver1").json
    assert (empty["driver"], empty["deliveries"]) == ("driver1", [])
    assert client.get("/api/v1/tasks/delivery-counts?since=2026-01-05T00:00:00Z").status_code == 422
    same = client.get("/api/v1/tasks/delivery-counts?since=2026-01-05T00:00:00Z&until=2026-01-05T00:00:00Z")
    assert same.status_code == 422 and "until" in same.json["details"]


def test_the_callers_feed_is_newest_first_and_can_be_marked_read(client_as, engine):
    with engine.unit() as rt:
        for text in ("first", "second"):
            rt.crm.notify("manager.north1", text, cause=Cause.system())
        rt.crm.notify("manager.south1", "not yours", cause=Cause.system())
    anna = client_as("manager.north1")
    feed = anna.get("/api/v1/notifications").json
    assert [n["text"] for n in feed] == ["second", "first"]
    read = anna.post(f"/api/v1/notifications/{feed[0]['id']}/read")
    assert read.json["read_at"] is not None
    unread = anna.get("/api/v1/notifications?unread_only=true").json
    assert [n["text"] for n in unread] == ["first"]
    assert [n["text"] for n in client_as("admin").get("/api/v1/notifications?user=manager.south1").json] == [
        "not yours"]


def test_two_people_saving_the_same_deal_at_once_one_wins_and_the_other_is_told(client_as, engine):
    deal_id = make_deal(engine, department="store_north")
    version = client_as("admin").get(f"/api/v1/deals/{deal_id}").json["version"]
    start = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def save(title: str) -> None:
        client = client_as("head.north")
        start.wait()
        response = client.patch(f"/api/v1/deals/{deal_id}", json={"title": title, "version": version})
        statuses[title] = response.status_code

    threads = [threading.Thread(target=save, args=(title,)) for title in ("Anna's", "Boris's")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses.values()) == [200, 409]
    winner = next(title for title, status in statuses.items() if status == 200)
    assert client_as("admin").get(f"/api/v1/deals/{deal_id}").json["title"] == winner
