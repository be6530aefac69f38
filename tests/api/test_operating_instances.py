"""Operating running instances through the API, as a head of sales or a designer would: a step
that is failing reads as retrying, a retried incident says when it failed again, cancel keeps
its reason, variables change with an audit trail, filters run in SQL, many instances at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from marshmallow import Schema
from sqlalchemy import func, select

from crm.events import Cause
from engine.models import HistoryEntry, Incident, Job, ProcessInstance
from engine.virtual_time import advance
from robots.actions import registry
from tests.support.auth import token_for
from tests.support.bpmn import Bpmn
from tests.support.world import make_deal

FLAKY = (Bpmn("flaky", "Ring the bank").start().service("ring_bank", "call_bank").end()
         .chain("start", "ring_bank", "end").xml().replace('name="ring_bank"', 'name="Call the bank"'))
DOWN_PAYMENT = (Bpmn("credit", "Credit check").start()
                .service("check", "set_field", field='"source"', value="deal.down_payment * 2").end()
                .chain("start", "check", "end").xml().replace('name="check"', 'name="Check the payment"'))
WAITING = (Bpmn("waits", "Await payment").start().message_catch("paid", "order.paid").end()
           .chain("start", "paid", "end").xml())


class Bank:
    """An outside system that is down until told otherwise."""

    def __init__(self) -> None:
        self.up = False

    def __call__(self, ctx):
        if not self.up:
            raise ConnectionError("bank is down")
        return {"ok": True}


@pytest.fixture
def bank(engine) -> Bank:
    bank = Bank()
    actions = registry.copy()
    actions.register("call_bank", bank, Schema)
    engine.actions = actions
    return bank


def deploy(client, xml: str) -> None:
    answer = client.post("/api/v1/processes", data=xml.encode(), content_type="application/xml")
    assert answer.status_code == 201, answer.json


def start(client, engine, key: str, **deal) -> int:
    deal_id = make_deal(engine, **deal)
    response = client.post(f"/api/v1/processes/{key}/start", json={"deal_id": deal_id})
    assert response.status_code == 201, response.json
    return response.json["id"]


def snapshot(engine) -> tuple:
    with engine.unit() as rt:
        return tuple(rt.session.scalar(select(func.count()).select_from(model))
                     for model in (HistoryEntry, Incident, Job)), tuple(
            rt.session.execute(select(ProcessInstance.id, ProcessInstance.status, ProcessInstance.revision)).all())


def test_a_failing_step_reads_as_retrying_with_attempt_error_and_next_time_then_as_an_incident(
        client, engine, clock, bank):
    deploy(client, FLAKY)
    instance_id = start(client, engine, "flaky")
    shown = client.get(f"/api/v1/instances/{instance_id}").json
    assert shown["status"] == "running" and shown["state"] == "retrying"
    retry = shown["retry"]
    assert (retry["attempt"], retry["of"], retry["element_id"], retry["element_name"]) == (
        1, 3, "ring_bank", "Call the bank")
    assert "bank is down" in retry["error"] and retry["next_at"].startswith(
        (clock.now() + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S"))
    listed = client.get("/api/v1/instances?status=retrying").json
    assert [(row["id"], row["state"], row["process_name"]) for row in listed] == [
        (instance_id, "retrying", "Ring the bank")]
    advance(engine, clock, timedelta(seconds=30))
    assert client.get(f"/api/v1/instances/{instance_id}").json["retry"]["attempt"] == 2
    advance(engine, clock, timedelta(hours=1))
    shown = client.get(f"/api/v1/instances/{instance_id}").json
    assert (shown["status"], shown["state"], shown["retry"]) == ("incident", "incident", None)
    [incident] = client.get(f"/api/v1/instances/{instance_id}/incidents").json
    assert incident["element_name"] == "Call the bank"


def test_retrying_an_incident_that_fails_again_says_so_and_names_the_new_error(client, engine, clock, bank):
    deploy(client, DOWN_PAYMENT)
    instance_id = start(client, engine, "credit")
    [incident] = client.get(f"/api/v1/instances/{instance_id}/incidents").json
    retried = client.post(f"/api/v1/incidents/{incident['id']}/retry")
    assert retried.status_code == 200
    assert retried.json["outcome"] == "failed_again" and retried.json["status"] == "incident"
    assert "deal.down_payment is empty" in retried.json["error"]
    assert retried.json["incident_id"] != incident["id"]


def test_a_retried_incident_that_now_works_is_resolved(client, engine, clock, bank):
    deploy(client, DOWN_PAYMENT)
    instance_id = start(client, engine, "credit")
    [incident] = client.get(f"/api/v1/instances/{instance_id}/incidents").json
    with engine.unit() as rt:
        rt.crm.set_fields(rt.crm.deal(rt.instance(instance_id).deal_id), {"down_payment": 100},
                          cause=Cause.system())
    retried = client.post(f"/api/v1/incidents/{incident['id']}/retry").json
    assert (retried["outcome"], retried["status"], retried["error"]) == ("resolved", "completed", None)


def test_the_incident_keeps_the_expression_and_the_values_it_saw(client, engine):
    deploy(client, DOWN_PAYMENT)
    instance_id = start(client, engine, "credit")
    [incident] = client.get(f"/api/v1/instances/{instance_id}/incidents").json
    details = incident["details"]
    assert details["expression"] == "deal.down_payment * 2"
    assert details["seen"] == {"deal.down_payment": None}
    assert details["seen_text"] == "deal.down_payment is empty"
    assert incident["element_name"] == "Check the payment"


def test_cancel_keeps_the_reason_and_who_in_the_history(client, engine):
    deploy(client, WAITING)
    instance_id = start(client, engine, "waits")
    cancelled = client.post(f"/api/v1/instances/{instance_id}/cancel", json={"reason": "customer withdrew"})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    last = client.get(f"/api/v1/instances/{instance_id}/history").json[-1]
    assert last["outcome"] == "cancelled" and last["detail"]["reason"] == "customer withdrew"
    assert last["detail"]["label"] == "admin"


def test_cancel_without_a_body_still_works_and_a_second_cancel_is_refused_changing_nothing(client, engine):
    deploy(client, WAITING)
    instance_id = start(client, engine, "waits")
    assert client.post(f"/api/v1/instances/{instance_id}/cancel").status_code == 200
    before = snapshot(engine)
    assert client.post(f"/api/v1/instances/{instance_id}/cancel", json={"reason": "again"}).status_code == 409
    assert client.post(f"/api/v1/instances/{instance_id}/cancel", json={"reason": "x" * 1001}).status_code == 422
    assert snapshot(engine) == before


def test_variables_change_with_who_old_and_new_in_the_history(client, engine):
    deploy(client, WAITING)
    instance_id = start(client, engine, "waits")
    changed = client.patch(f"/api/v1/instances/{instance_id}/variables",
                           json={"variables": {"promised": "Friday", "items": [1, 2]}})
    assert changed.status_code == 200, changed.json
    assert changed.json["variables"]["promised"] == "Friday"
    again = client.patch(f"/api/v1/instances/{instance_id}/variables", json={"variables": {"promised": "Monday"}})
    assert again.json["variables"]["promised"] == "Monday"
    last = client.get(f"/api/v1/instances/{instance_id}/history").json[-1]
    assert last["outcome"] == "variables changed"
    assert (last["detail"]["old"], last["detail"]["new"], last["detail"]["label"]) == (
        {"promised": "Friday"}, {"promised": "Monday"}, "admin")


@pytest.mark.parametrize("body", [
    {"variables": {"1st": 1}}, {"variables": {"deal": 1}}, {"variables": {}}, {"variables": "text"},
    {"variables": {"ok": 1}, "extra": True},
])
def test_bad_variables_are_refused_with_422_changing_nothing(client, engine, body):
    deploy(client, WAITING)
    instance_id = start(client, engine, "waits")
    before = snapshot(engine)
    answer = client.patch(f"/api/v1/instances/{instance_id}/variables", json=body)
    assert answer.status_code == 422, answer.json
    assert snapshot(engine) == before


def test_variables_of_a_finished_instance_cannot_change(client, engine):
    deploy(client, WAITING)
    instance_id = start(client, engine, "waits")
    client.post(f"/api/v1/instances/{instance_id}/cancel")
    before = snapshot(engine)
    answer = client.patch(f"/api/v1/instances/{instance_id}/variables", json={"variables": {"a": 1}})
    assert answer.status_code == 409 and "cancelled" in answer.json["message"]
    assert snapshot(engine) == before


def test_filters_by_version_element_date_and_incident_text(client, engine, clock, bank):
    deploy(client, WAITING)
    deploy(client, DOWN_PAYMENT)
    first = start(client, engine, "waits")
    clock.advance(timedelta(days=2))
    broken = start(client, engine, "credit")
    waiting = start(client, engine, "waits")

    def ids(query: str) -> list[int]:
        answer = client.get(f"/api/v1/instances?{query}")
        assert answer.status_code == 200, answer.json
        return [row["id"] for row in answer.json]

    assert ids("element=paid") == [waiting, first]
    assert ids("element=check") == [broken]
    assert ids("incident=DOWN_PAYMENT") == [broken]
    assert ids("incident=100%25") == []
    assert ids("key=waits&version=1") == [waiting, first]
    assert ids("version=2") == []
    since = (clock.now() - timedelta(days=1)).isoformat()
    assert ids(f"started_from={since.replace('+', '%2B')}") == [waiting, broken]
    assert ids(f"started_to={since.replace('+', '%2B')}") == [first]
    assert client.get("/api/v1/instances?started_from=yesterday").status_code == 422


def test_bulk_retry_and_cancel_give_a_result_per_instance(client, engine, clock, bank):
    deploy(client, DOWN_PAYMENT)
    deploy(client, WAITING)
    broken = [start(client, engine, "credit") for _ in range(2)]
    waiting = start(client, engine, "waits")
    with engine.unit() as rt:
        rt.crm.set_fields(rt.crm.deal(rt.instance(broken[0]).deal_id), {"down_payment": 100}, cause=Cause.system())
    retried = client.post("/api/v1/instances/bulk", json={"action": "retry", "filter": {"status": "incident"}})
    assert retried.status_code == 200
    by_id = {row["id"]: row for row in retried.json}
    assert (by_id[broken[0]]["ok"], by_id[broken[0]]["outcome"], by_id[broken[0]]["status"]) == (
        True, "resolved", "completed")
    assert (by_id[broken[1]]["ok"], by_id[broken[1]]["outcome"]) == (True, "failed_again")
    cancelled = client.post("/api/v1/instances/bulk",
                            json={"action": "cancel", "ids": [waiting, broken[0]], "reason": "season over"})
    rows = {row["id"]: row for row in cancelled.json}
    assert rows[waiting]["ok"] is True and rows[waiting]["status"] == "cancelled"
    assert rows[broken[0]]["ok"] is False and "completed" in rows[broken[0]]["error"]  # the others still done
    assert client.get(f"/api/v1/instances/{waiting}/history").json[-1]["detail"]["reason"] == "season over"


def test_bulk_progress_reaches_only_the_callers_own_room_instance_by_instance(app, client, engine):
    """While a bulk operation runs, its caller's feed room hears how far it got (n of m) and each
    instance's result as it is done, tagged with the caller's operation name; the HTTP answer is
    unchanged, and no one else hears it."""
    deploy(client, DOWN_PAYMENT)
    broken = [start(client, engine, "credit") for _ in range(3)]
    with engine.unit() as rt:
        admin, designer = rt.crm.user("admin").id, rt.crm.user("designer").id
    sockets = app.extensions["dealflow.socketio"]
    mine = sockets.test_client(app, auth={"token": token_for(engine, "admin")})
    theirs = sockets.test_client(app, auth={"token": token_for(engine, "designer")})
    assert mine.emit("subscribe", {"room": f"feed:{admin}"}, callback=True)["ok"] is True
    assert theirs.emit("subscribe", {"room": f"feed:{designer}"}, callback=True)["ok"] is True
    assert theirs.emit("subscribe", {"room": f"feed:{admin}"}, callback=True)["ok"] is False  # not theirs
    mine.get_received()
    theirs.get_received()

    answer = client.post("/api/v1/instances/bulk", json={"action": "retry", "ids": broken, "operation": "op-1"})
    assert answer.status_code == 200
    assert [row["id"] for row in answer.json] == broken
    heard = [(m["name"], m["args"][0]) for m in mine.get_received() if m["name"].startswith("bulk.")]
    assert heard[0] == ("bulk.started", {"operation": "op-1", "action": "retry", "total": 3, "done": 0})
    progress = [payload for name, payload in heard[1:]]
    assert [name for name, _ in heard[1:]] == ["bulk.progress"] * 3
    assert [(p["done"], p["total"], p["operation"]) for p in progress] == [(n, 3, "op-1") for n in (1, 2, 3)]
    assert [p["result"] for p in progress] == answer.json  # the same result per instance as the answer
    assert not [m for m in theirs.get_received() if m["name"].startswith("bulk.")]
    # A name that is no name is refused before anything is done.
    assert client.post("/api/v1/instances/bulk", json={"action": "retry", "ids": broken,
                                                       "operation": "<script>"}).status_code == 422
    assert not [m for m in mine.get_received() if m["name"].startswith("bulk.")]
    mine.disconnect()
    theirs.disconnect()


def test_bulk_refuses_bad_requests_and_other_roles_changing_nothing(client, client_as, engine):
    deploy(client, WAITING)
    waiting = start(client, engine, "waits")
    before = snapshot(engine)
    assert client.post("/api/v1/instances/bulk", json={"action": "explode", "ids": [waiting]}).status_code == 422
    assert client.post("/api/v1/instances/bulk", json={"action": "cancel"}).status_code == 422
    assert client.post("/api/v1/instances/bulk", json={"action": "cancel", "ids": [waiting],
                                                       "filter": {}}).status_code == 422
    manager = client_as("manager.north1")
    assert manager.post("/api/v1/instances/bulk", json={"action": "cancel", "ids": [waiting]}).status_code == 403
    assert snapshot(engine) == before
