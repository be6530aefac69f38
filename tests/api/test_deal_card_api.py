"""The deal card's endpoints: the card itself, the processes one may start with the fields their
start form needs, one merged feed, and task forms over HTTP."""

from __future__ import annotations

from pathlib import Path

from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, make_deal, tasks_of

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def test_the_card_names_people_and_types_the_pipeline_fields(client_as, engine):
    deal_id = make_deal(engine, fields={"bank": "Sber"})
    card = client_as("manager.north1").get(f"/api/v1/deals/{deal_id}/card")
    assert card.status_code == 200
    body = card.json
    assert body["deal"]["id"] == deal_id
    assert body["pipeline"]["stages"][0]["code"] == "new"
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["bank"]["value"] == "Sber"
    assert fields["credit_type"]["type"] == "enum" and fields["credit_type"]["options"] == ["credit", "installment"]
    assert body["responsible"]["name"] and body["may_start"] is True and body["may_monitor"] is False
    assert all(isinstance(o["label"], str) for o in body["responsible_options"])


def test_startable_processes_mark_the_missing_deal_fields_with_their_types(client, client_as, engine):
    assert client.post("/api/v1/processes", data=(BPMN / "send_to_bank.bpmn").read_bytes()).status_code == 201
    deal_id = make_deal(engine, fields={"bank": "Sber"})
    listed = client_as("manager.north1").get(f"/api/v1/deals/{deal_id}/processes").json
    [bank] = [p for p in listed if p["key"] == "send_to_bank"]
    assert bank["parameters"][0]["name"] == "ready_date"
    required = {f["name"]: f for f in bank["required_fields"]}
    assert required["bank"]["missing"] is False and required["credit_type"]["missing"] is True
    assert required["credit_type"]["type"] == "enum" and required["term_months"]["type"] == "number"
    # A designer may not start processes: nothing is offered.
    assert client_as("designer").get(f"/api/v1/deals/{deal_id}/processes").json == []


def test_the_feed_merges_timeline_and_process_steps_newest_first(client, client_as, engine):
    client.post("/api/v1/processes", data=(BPMN / "send_to_bank.bpmn").read_bytes())
    deal_id = make_deal(engine, fields={"credit_type": "credit", "bank": "Sber", "id_document": "4510 1",
                                        "term_months": 12, "down_payment": 1000})
    manager = client_as("manager.north1")
    assert manager.post("/api/v1/processes/send_to_bank/start",
                        json={"deal_id": deal_id, "params": {"ready_date": "2026-01-07T10:00:00Z"}}).status_code == 201
    feed = manager.get(f"/api/v1/deals/{deal_id}/feed?limit=200").json
    sources = {item["source"] for item in feed}
    assert {"timeline", "process"} <= sources
    assert [item["at"] for item in feed] == sorted((item["at"] for item in feed), reverse=True)
    assert any(i["source"] == "process" and i["text"] == "Move to the credit or installment pipeline" for i in feed)
    assert any(i["source"] == "timeline" and i["kind"] == "stage_moved" for i in feed)


def test_the_feed_gives_each_timeline_sentence_its_names_and_values_for_the_readers_language(
        client, client_as, engine):
    """The stored sentence is English; the card says it in the person's language from the
    entry's kind and these parameters. A comment has none: its text is all there is."""
    client.post("/api/v1/processes", data=(BPMN / "send_to_bank.bpmn").read_bytes())
    deal_id = make_deal(engine, fields={"credit_type": "credit", "bank": "Sber", "id_document": "4510 1",
                                        "term_months": 12, "down_payment": 1000})
    manager = client_as("manager.north1")
    assert manager.patch(f"/api/v1/deals/{deal_id}", json={"fields": {"bank": "Tinkoff"}}).status_code == 200
    with engine.unit() as rt:
        rt.crm.add_comment(rt.crm.deal(deal_id), "Client asked for Friday", cause=TEST_CAUSE)
    manager.post("/api/v1/processes/send_to_bank/start",
                 json={"deal_id": deal_id, "params": {"ready_date": "2026-01-07T10:00:00Z"}})
    feed = [i for i in manager.get(f"/api/v1/deals/{deal_id}/feed?limit=200").json if i["source"] == "timeline"]
    by_kind: dict = {}
    for item in reversed(feed):  # the first of each kind
        by_kind.setdefault(item["kind"], item["params"])
    assert by_kind["created"] == {"pipeline": "Sales", "stage": "New"}
    moved = by_kind["stage_moved"]
    assert (moved["from_pipeline"], moved["to_pipeline"], moved["same_pipeline"]) == ("Sales", "Credit", False)
    assert by_kind["field_changed"] == {"field": "bank", "core": False, "label": "Bank", "type": "string",
                                        "old": "Sber", "new": "Tinkoff"}
    assert by_kind["comment"] is None
    [created] = [i for i in feed if i["kind"] == "task_created"] or [None]
    if created is not None:  # the bank's wait made a task: named by its diagram and process
        assert created["params"]["process"] == "send_to_bank" and created["params"]["element_id"]


def test_a_task_form_over_http_is_listed_checked_and_its_answer_is_a_variable(client, client_as, engine):
    xml = (Bpmn("ask").start()
           .user("ask_client", form=({"name": "answer", "label": "Answer", "type": "enum", "options": "Yes,No"},),
                 title='"Ask the client"', assignee="deal.responsible")
           .end().chain("start", "ask_client", "end").xml())
    assert client.post("/api/v1/processes", data=xml).status_code == 201
    deal_id = make_deal(engine)
    manager = client_as("manager.north1")
    instance = manager.post("/api/v1/processes/ask/start", json={"deal_id": deal_id}).json
    with engine.unit() as rt:
        [task_id] = [t.id for t in tasks_of(rt, deal_id)]
    listed = manager.get(f"/api/v1/tasks?deal_id={deal_id}").json
    assert listed[0]["form"] == [{"name": "answer", "label": "Answer", "type": "enum", "required": True,
                                  "options": ["Yes", "No"]}]
    refused = manager.post(f"/api/v1/tasks/{task_id}/complete", json={"result": {"answer": "Perhaps"}})
    assert refused.status_code == 422 and set(refused.json["details"]) == {"answer"}
    assert manager.get(f"/api/v1/tasks/{task_id}").json["status"] == "open"
    done = manager.post(f"/api/v1/tasks/{task_id}/complete", json={"result": {"answer": "Yes"}})
    assert done.status_code == 200 and done.json["data"]["result"] == {"answer": "Yes"}
    state = client.get(f"/api/v1/instances/{instance['id']}").json
    assert state["status"] == "completed" and state["variables"]["answer"] == "Yes"
    plain = client.get(f"/api/v1/tasks/{task_id}").json
    assert plain["form"][0]["name"] == "answer"


def test_a_process_that_starts_only_on_a_signal_is_not_offered_for_a_plain_start(client, client_as, engine):
    from tests.engine.test_signals import process

    recount = process("recount", '<bpmn:startEvent id="start"><bpmn:signalEventDefinition signalRef="sig_arrived"/>'
                                 '</bpmn:startEvent>')
    assert client.post("/api/v1/processes", data=recount).status_code == 201
    assert client.post("/api/v1/processes", data=(BPMN / "send_to_bank.bpmn").read_bytes()).status_code == 201
    deal_id = make_deal(engine)
    listed = client_as("manager.north1").get(f"/api/v1/deals/{deal_id}/processes").json
    assert [p["key"] for p in listed] == ["send_to_bank"]
