"""Robots, actions, processes and instances over HTTP, as the designer uses them."""

from __future__ import annotations

from pathlib import Path

from tests.support.world import make_deal

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
ROBOTS = '''pipeline main "Sales"

stage new:
  robot "greet" immediately:
    notify(deal.responsible, "New deal {deal.title}")
'''
BROKEN = '''pipeline main "Sales"

stage new:
  robot "greet" immediately:
    no_such_action(deal.responsible)
'''


def test_openapi_document_and_interactive_docs_are_served(client):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200 and spec.json["openapi"].startswith("3.")
    assert "/api/v1/deals/{deal_id}/move" in spec.json["paths"]
    assert client.get("/api/docs").status_code == 200


def test_robots_text_is_saved_as_a_new_version_and_read_back(client):
    assert client.get("/api/v1/robots/main").json["version"] is None
    saved = client.put("/api/v1/robots/main", data=ROBOTS, content_type="text/plain")
    assert saved.status_code == 200 and saved.json["version"] == 1
    as_json = client.put("/api/v1/robots/main", json={"text": ROBOTS.replace("greet", "hello")})
    assert as_json.json["version"] == 2
    assert "hello" in client.get("/api/v1/robots/main").json["text"]


def test_a_robots_text_with_errors_is_refused_with_line_and_column_and_nothing_is_saved(client):
    refused = client.put("/api/v1/robots/main", data=BROKEN, content_type="text/plain")
    assert refused.status_code == 422 and refused.json["code"] == "invalid_automation"
    problem = refused.json["details"][0]
    assert problem["line"] == 5 and problem["column"] >= 1 and "no_such_action" in problem["message"]
    assert client.get("/api/v1/robots/main").json["version"] is None


def test_applying_saved_robots_to_deals_already_on_the_stage(client, engine):
    make_deal(engine, stage="main.new")
    saved = client.put("/api/v1/robots/main?apply_to_existing=true", data=ROBOTS, content_type="text/plain")
    assert saved.status_code == 200 and saved.json["applied_to"] >= 1


def test_validate_checks_without_saving(client):
    checked = client.post("/api/v1/robots/validate", json={"text": BROKEN, "scope": "main"})
    assert checked.status_code == 200 and checked.json["valid"] is False
    assert checked.json["errors"][0]["line"] == 5
    assert client.post("/api/v1/robots/validate", json={"text": ROBOTS}).json == {"valid": True, "errors": []}
    assert client.get("/api/v1/robots/main").json["version"] is None


def test_robots_of_an_unknown_pipeline_are_not_found(client):
    assert client.get("/api/v1/robots/nowhere").status_code == 404


def test_the_action_catalog_lists_parameters(client):
    catalog = {a["name"]: a for a in client.get("/api/v1/actions").json}
    assert catalog["notify"]["parameters"]
    assert all({"type", "required"} <= set(p) for p in catalog["notify"]["parameters"].values())


def test_process_versions_and_xml_are_readable(client):
    xml = (BPMN / "send_to_bank.bpmn").read_bytes()
    client.post("/api/v1/processes", data=xml)
    versions = client.get("/api/v1/processes/send_to_bank/versions").json
    assert [v["version"] for v in versions] == [1]
    got = client.get("/api/v1/processes/send_to_bank/xml")
    assert got.status_code == 200 and got.mimetype == "application/xml" and got.data == xml
    assert client.get("/api/v1/processes/send_to_bank/xml?version=9").status_code == 404
    assert client.get("/api/v1/processes/nothing/versions").status_code == 404


CREDIT_FIELDS = {"credit_type": "credit", "bank": "Sber", "id_document": "4510 123456", "term_months": 12,
                 "down_payment": 10000}


def test_an_instance_is_listed_with_its_history_and_can_be_cancelled(client, engine):
    client.post("/api/v1/processes", json={"xml": (BPMN / "send_to_bank.bpmn").read_text()})
    deal_id = make_deal(engine, stage="main.product_agreement", fields=CREDIT_FIELDS)
    started = client.post("/api/v1/processes/send_to_bank/start",
                          json={"deal_id": deal_id, "params": {"ready_date": "2026-01-07T10:00:00Z"}}).json
    listed = client.get(f"/api/v1/instances?deal_id={deal_id}").json
    assert [i["id"] for i in listed] == [started["id"]]
    history = client.get(f"/api/v1/instances/{started['id']}/history").json
    assert history[0]["outcome"] == "started"
    assert client.get(f"/api/v1/instances/{started['id']}/incidents").json == []
    cancelled = client.post(f"/api/v1/instances/{started['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = client.post(f"/api/v1/instances/{started['id']}/cancel")
    assert again.status_code == 409


def test_unknown_fields_in_a_body_are_refused_with_the_field_named(client, engine):
    deal_id = make_deal(engine)
    refused = client.patch(f"/api/v1/deals/{deal_id}", json={"titel": "typo"})
    assert refused.status_code == 422 and refused.json["code"] == "invalid_payload"
    assert "titel" in refused.json["details"]


def test_bad_query_values_and_unknown_references_are_told_apart(client):
    assert client.get("/api/v1/deals?per_page=1000").status_code == 422
    assert client.get("/api/v1/deals?pipeline=nowhere").status_code == 404
    assert client.get("/api/v1/deals/99999999999").status_code == 404
    assert client.post("/api/v1/deals/1/move", json={"stage": "nowhere"}).status_code == 404
    assert client.post("/api/v1/deals", json={"title": "x", "responsible_id": 999999}).status_code == 422


def test_a_robots_body_that_is_not_text_is_refused(client):
    refused = client.put("/api/v1/robots/main", data=b"\xff\xfe\x00", content_type="text/plain")
    assert refused.status_code == 422 and refused.json["code"] == "invalid_text" and "body" in refused.json["details"]


def test_malformed_json_is_400_and_an_oversized_body_413_both_as_json(client):
    broken = client.post("/api/v1/deals", data="{bad", content_type="application/json")
    assert broken.status_code == 400 and broken.json["code"] == "invalid_json"
    huge = client.post("/api/v1/deals", data="x" * (5 * 1024 * 1024), content_type="application/json")
    assert huge.status_code == 413 and huge.json["code"] == "request_entity_too_large"


def test_the_boards_form_edits_the_text_on_the_server_and_keeps_its_comments(client):
    commented = ROBOTS.replace("stage new:", "# greet every new deal\nstage new:")
    item = {"name": "call back", "when": {"kind": "after", "amount": "1d"},
            "actions": [{"name": "notify", "args": [{"value": "deal.responsible"}, {"text": "Call {deal.title}"}]}]}
    edited = client.post("/api/v1/robots/main/edit", json={"text": commented, "operation": {
        "op": "add", "kind": "robot", "stage": "new", "item": item}})
    assert edited.status_code == 200 and edited.json["errors"] == []
    assert "# greet every new deal\nstage new:" in edited.json["text"]
    assert '  robot "call back" after 1d:\n    notify(deal.responsible, "Call {deal.title}")\n' in edited.json["text"]
    outline = client.post("/api/v1/robots/main/outline", json={"text": edited.json["text"]}).json
    assert [r["name"] for r in outline["stages"][0]["robots"]] == ["greet", "call back"]
    assert client.get("/api/v1/robots/main").json["version"] is None  # nothing stored


def test_a_form_edit_the_check_refuses_has_its_errors_on_the_fields(client):
    item = {"when": {"kind": "immediately"}, "condition": "deal.no_such_field > 1",
            "actions": [{"name": "notify", "args": [{"value": "deal.responsible"}, {"value": "deal.nope"}]}]}
    edited = client.post("/api/v1/robots/main/edit", json={"text": ROBOTS, "operation": {
        "op": "update", "stage": "new", "index": 0, "item": item}})
    assert edited.status_code == 200
    assert {e["field"] for e in edited.json["errors"]} == {"condition", "actions.0.args.1"}
    broken = client.post("/api/v1/robots/main/edit", json={"text": ROBOTS, "operation": {
        "op": "update", "stage": "new", "index": 0, "item": {**item, "condition": "deal.amount >"}}})
    assert broken.status_code == 422 and broken.json["code"] == "invalid_edit"
    assert [d["field"] for d in broken.json["details"]] == ["condition"]
    missing = client.post("/api/v1/robots/main/edit", json={"text": ROBOTS, "operation": {
        "op": "remove", "stage": "new", "index": 3}})
    assert missing.status_code == 422 and missing.json["details"][0]["field"] == "index"


def test_saved_versions_are_listed_and_any_two_compared(client):
    client.put("/api/v1/robots/main", data=ROBOTS, content_type="text/plain")
    client.put("/api/v1/robots/main", data=ROBOTS.replace("greet", "hello"), content_type="text/plain")
    listed = client.get("/api/v1/robots/main/versions").json
    assert [v["version"] for v in listed] == [2, 1] and listed[0]["saved_by"] == "admin"
    diff = client.get("/api/v1/robots/main/diff?from=1&to=2").json
    assert '-  robot "greet" immediately:' in diff["lines"] and '+  robot "hello" immediately:' in diff["lines"]
    assert client.get("/api/v1/robots/main/diff?from=1&to=9").status_code == 404
