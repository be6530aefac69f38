"""The minimal process API: deploy, start, send events, read instances, as a store or manager would."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import Incident
from tests.support.bpmn import Bpmn
from tests.support.world import make_deal, tasks_of

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


CREDIT_FIELDS = {"credit_type": "credit", "bank": "Sber", "id_document": "4510 123456", "term_months": 12,
                 "down_payment": 10000}


def test_send_to_bank_through_the_api(client, engine):
    deployed = client.post("/api/v1/processes", data=(BPMN / "send_to_bank.bpmn").read_bytes())
    assert deployed.status_code == 201 and deployed.json["key"] == "send_to_bank"
    deal_id = make_deal(engine, stage="main.product_agreement", fields=CREDIT_FIELDS)
    started = client.post("/api/v1/processes/send_to_bank/start",
                          json={"deal_id": deal_id, "params": {"ready_date": "2026-01-07T10:00:00Z"}})
    assert started.status_code == 201
    instance_id = started.json["id"]
    state = client.get(f"/api/v1/instances/{instance_id}").json
    assert state["status"] == "running" and "move_to_credit_pipeline" in state["completed_elements"]
    assert state["variables"]["ready_date"].startswith("2026-01-07T10:00:00")  # a start parameter, where it waits
    assert client.get(f"/api/v1/deals/{deal_id}").json["pipeline"] == "credit"
    decision = {"type": "bank.decision", "payload": {"deal_id": deal_id, "approved": True},
                "idempotency_key": "bank-1", "source": "bank"}
    sent = client.post("/api/v1/events", json=decision)
    assert sent.status_code == 202 and sent.json["resumed"] == [instance_id]
    again = client.post("/api/v1/events", json=decision)
    assert again.status_code == 200 and again.json["duplicate"] is True
    assert client.get(f"/api/v1/instances/{instance_id}").json["status"] == "completed"
    assert client.get(f"/api/v1/deals/{deal_id}").json["stage"] == "order_assembly"


def test_a_refused_start_names_every_missing_field_and_creates_nothing(client, engine):
    client.post("/api/v1/processes", data=(BPMN / "send_to_bank.bpmn").read_bytes())
    deal_id = make_deal(engine, fields={"credit_type": "credit"})
    refused = client.post("/api/v1/processes/send_to_bank/start", json={"deal_id": deal_id, "params": {}})
    assert refused.status_code == 422
    assert refused.json["code"] == "start_refused"
    assert refused.json["details"]["missing_fields"] == ["bank", "id_document", "term_months", "down_payment"]
    assert client.get(f"/api/v1/deals/{deal_id}").json["pipeline"] == "main"


@pytest.mark.parametrize(("method", "url", "body", "status"), [
    ("post", "/api/v1/events", {"type": 5}, 422),
    ("post", "/api/v1/events", {"type": "bank.decision", "extra": 1}, 422),
    ("post", "/api/v1/events", {"type": "bank.decision", "payload": {"deal_id": 999999, "approved": True}}, 422),
    ("post", "/api/v1/events", {"type": "no.such.event", "payload": {}}, 422),
    ("post", "/api/v1/processes/nope/start", {"deal_id": 1}, 404),
    ("get", "/api/v1/instances/999999", None, 404),
    ("post", "/api/v1/incidents/999999/retry", None, 404),
    ("post", "/api/v1/tasks/999999/complete", {}, 404),
    ("post", "/api/v1/tasks/1/move", {"column": ""}, 422),
    ("get", "/api/v1/nowhere", None, 404),
])
def test_bad_requests_get_a_json_error_with_a_stable_code(client, method, url, body, status):
    response = getattr(client, method)(url, json=body)
    assert response.status_code == status
    assert set(response.json) >= {"code", "message"}


def test_hostile_bpmn_is_refused_with_422(client):
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    response = client.post("/api/v1/processes", data=xxe)
    assert response.status_code == 422 and response.json["code"] == "invalid_process"


def test_two_people_completing_one_process_task_at_once_resume_it_once_and_the_loser_is_told(client_as, engine):
    """The instance is guarded too: never two resumptions of one waiting task, never a lost update."""
    engine.deploy(Bpmn("review").start().user("check", title="Check the deal").script("count", "checks = 1")
                  .end().chain("start", "check", "count", "end").xml())
    deal_id = make_deal(engine, department="store_north")
    instance = engine.start("review", deal_id)
    with engine.unit() as rt:
        [task_id] = [t.id for t in tasks_of(rt, deal_id)]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def complete(login: str) -> None:
        client = client_as(login)
        start.wait()
        statuses.append(client.post(f"/api/v1/tasks/{task_id}/complete", json={}).status_code)

    threads = [threading.Thread(target=complete, args=(login,)) for login in ("head.north", "manager.north1")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 409]
    admin = client_as("admin")
    assert admin.get(f"/api/v1/instances/{instance.id}").json["status"] == "completed"
    history = admin.get(f"/api/v1/instances/{instance.id}/history?per_page=100").json
    assert [step["element_id"] for step in history].count("count") == 1


def test_a_process_that_calls_itself_answers_201_in_incident_and_the_next_writer_succeeds(client, engine):
    """The start is bounded by the step budget (DEALFLOW_STEP_BUDGET / DEALFLOW_STEP_SECONDS):
    the recursion is rolled back, the instance is kept in incident naming the call activity,
    and the database is free for the next writer at once."""
    loop = Path(__file__).resolve().parents[1] / "engine" / "loops" / "call_itself.bpmn"
    assert client.post("/api/v1/processes", data=loop.read_bytes()).status_code == 201
    deal_id = make_deal(engine)
    began = time.monotonic()
    started = client.post("/api/v1/processes/call_itself/start", json={"deal_id": deal_id, "params": {}})
    assert time.monotonic() - began < 30
    assert started.status_code == 201 and started.json["status"] == "incident"
    instance = client.get(f"/api/v1/instances/{started.json['id']}")
    assert instance.status_code == 200 and instance.json["status"] == "incident"
    with engine.unit() as rt:
        [incident] = rt.session.scalars(select(Incident).where(Incident.instance_id == started.json["id"])).all()
        assert incident.element_id == "call_self" and "call_self" in incident.message
    other = client.post("/api/v1/processes", data=(BPMN / "send_to_bank.bpmn").read_bytes())
    assert other.status_code == 201
    moved = client.post("/api/v1/deals", json={"title": "Next writer", "pipeline": "main"})
    assert moved.status_code == 201


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "UTF-16"])
def test_a_bpmn_file_in_another_encoding_deploys_and_reads_back(client, encoding):
    xml = (Bpmn("livraison", name="Livraison à domicile").start().end().chain("start", "end").xml()
           .replace('encoding="UTF-8"', f'encoding="{encoding}"').encode(encoding))
    deployed = client.post("/api/v1/processes", data=xml, content_type="application/xml")
    assert deployed.status_code == 201, deployed.json
    assert deployed.json["name"] == "Livraison à domicile"
    back = client.get("/api/v1/processes/livraison/xml")
    assert back.status_code == 200 and "Livraison à domicile" in back.get_data(as_text=True)
    assert 'encoding="UTF-8"' in back.get_data(as_text=True)


def test_a_process_waiting_for_a_message_without_a_name_starts(client, engine):
    xml = (Bpmn("nameless").start().message_catch("wait", "paid").end().chain("start", "wait", "end").xml()
           .replace('<bpmn:message id="msg_paid" name="paid"/>', '<bpmn:message id="msg_paid"/>'))
    assert client.post("/api/v1/processes", data=xml, content_type="application/xml").status_code == 201
    started = client.post("/api/v1/processes/nameless/start", json={"deal_id": make_deal(engine), "params": {}})
    assert started.status_code == 201, started.json


def test_deploy_warns_about_a_gateway_whose_conditions_can_all_be_false(client):
    from tests.engine.test_gateway_warnings import routed

    deployed = client.post("/api/v1/processes", data=routed())
    assert deployed.status_code == 201
    [warning] = deployed.json["warnings"]
    assert (warning["element"], warning["process"]) == ("size", "routing")
    assert 'bpmn:exclusiveGateway "Order size" (id size)' in warning["warning"]
    assert client.post("/api/v1/processes", data=routed(default="to_large")).json["warnings"] == []
