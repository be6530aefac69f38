"""Messages by name (POST /api/v1/messages): any message a diagram waits for reaches it with its deal.

The CRM's own events go through /events; a name of the designer's own (`contract.signed`) comes
here. A message nothing waits for is 400 `no_correlation`, as Camunda answers, and changes nothing.
"""

from __future__ import annotations

from sqlalchemy import func, select

from engine.models import HistoryEntry, ProcessInstance
from tests.support.bpmn import Bpmn, _message_def
from tests.support.world import make_deal

SIGNING = (Bpmn("signing").start().message_catch("signed", "contract.signed")
           .service("thanks", "add_comment", text='"Signed by " + event.signer').end()
           .chain("start", "signed", "thanks", "end").xml())


def archive_process() -> str:
    """Starts by itself when the archive reports a scanned contract."""
    proc = Bpmn("file_scan")
    proc.messages.add("archive.scanned")
    proc._add("start", "startEvent", _message_def("archive.scanned"))
    return proc.service("note", "add_comment", text='"Scanned"').end().chain("start", "note", "end").xml()


def instance_row(engine, instance_id: int) -> ProcessInstance:
    with engine.unit() as rt:
        instance = rt.session.get(ProcessInstance, instance_id)
        rt.session.expunge(instance)
        return instance


def count(engine, model) -> int:
    with engine.unit() as rt:
        return rt.session.scalar(select(func.count()).select_from(model))


def test_a_message_by_its_diagram_name_resumes_the_deals_waiting_instance_only(client, engine):
    client.post("/api/v1/processes", data=SIGNING)
    deal_id, other_id = make_deal(engine), make_deal(engine)
    waiting = client.post("/api/v1/processes/signing/start", json={"deal_id": deal_id}).json["id"]
    untouched = client.post("/api/v1/processes/signing/start", json={"deal_id": other_id}).json["id"]

    sent = client.post("/api/v1/messages", json={"name": "contract.signed", "deal_id": deal_id,
                                                 "payload": {"signer": "Olga"}})

    assert sent.status_code == 202, sent.json
    assert sent.json | {} == {"name": "contract.signed", "deal_id": deal_id, "correlation_key": None,
                              "delivered": 1, "started": [],
                              "resumed": [waiting], "refused": []}
    assert instance_row(engine, waiting).status == "completed"
    assert instance_row(engine, untouched).status == "running"


def test_a_message_start_event_of_any_name_starts_its_process_for_the_messages_deal(client, engine):
    client.post("/api/v1/processes", data=archive_process())
    deal_id = make_deal(engine)

    sent = client.post("/api/v1/messages", json={"name": "archive.scanned", "deal_id": deal_id})

    assert sent.status_code == 202 and sent.json["delivered"] == 1
    [started] = sent.json["started"]
    instance = instance_row(engine, started)
    assert (instance.key, instance.deal_id, instance.status) == ("file_scan", deal_id, "completed")


def test_a_message_nothing_waits_for_is_400_no_correlation_and_changes_nothing(client, engine):
    client.post("/api/v1/processes", data=SIGNING)
    deal_id = make_deal(engine)
    history = count(engine, HistoryEntry)

    sent = client.post("/api/v1/messages", json={"name": "contract.signed", "deal_id": deal_id})
    misspelt = client.post("/api/v1/messages", json={"name": "contract.signd", "deal_id": deal_id})

    assert (sent.status_code, sent.json["code"]) == (400, "no_correlation")
    assert "contract.signed" in sent.json["message"]
    assert (misspelt.status_code, misspelt.json["code"]) == (400, "no_correlation")
    assert count(engine, HistoryEntry) == history and count(engine, ProcessInstance) == 0


def test_a_crm_event_or_a_missing_deal_is_refused_with_the_field_named(client, engine):
    crm_event = client.post("/api/v1/messages", json={"name": "order.paid", "deal_id": make_deal(engine)})
    no_deal = client.post("/api/v1/messages", json={"name": "contract.signed", "deal_id": 999999})
    nul = client.post("/api/v1/messages", json={"name": "contract.signed", "payload": {"x": "a\u0000b"}})

    assert (crm_event.status_code, crm_event.json["code"]) == (422, "invalid_message")
    assert "/api/v1/events" in crm_event.json["details"]["name"]
    assert (no_deal.status_code, no_deal.json["details"]) == (422, {"deal_id": "deal 999999 does not exist"})
    assert nul.status_code == 422 and "body.payload.x" in nul.json["details"]


def test_deploy_lists_the_messages_a_process_waits_for_and_warns_about_names_no_crm_event_sends(client):
    paid = Bpmn("paid").start().message_catch("wait", "order.payed").message_catch("bank", "bank.decision").end()
    deployed = client.post("/api/v1/processes", data=paid.chain("start", "wait", "bank", "end").xml())
    started_by = client.post("/api/v1/processes", data=archive_process())

    assert deployed.status_code == 201
    assert deployed.json["messages"] == ["bank.decision", "order.payed"]
    [warning] = deployed.json["warnings"]
    assert warning["message"] == "order.payed" and "'order.paid'" in warning["warning"]
    assert started_by.json["start_messages"] == ["archive.scanned"]
    assert [w["message"] for w in started_by.json["warnings"]] == ["archive.scanned"]
    listed = {p["key"]: p for p in client.get("/api/v1/processes").json}
    assert listed["file_scan"]["start_messages"] == ["archive.scanned"]


def test_a_collaboration_deploys_every_pool_and_the_answer_lists_them(client):
    from tests.engine.test_collaborations import OFFER

    deployed = client.post("/api/v1/processes", data=OFFER)

    assert deployed.status_code == 201, deployed.json
    assert deployed.json["key"] == "store"
    assert [(p["key"], p["version"]) for p in deployed.json["processes"]] == [("store", 1), ("customer", 1)]
    assert {p["key"] for p in client.get("/api/v1/processes").json} >= {"store", "customer"}


def test_a_message_with_a_correlation_key_reaches_only_the_instance_correlated_by_it(client, engine):
    from tests.engine.test_collaborations import OFFER

    client.post("/api/v1/processes", data=OFFER)
    deal_id = make_deal(engine)
    first = client.post("/api/v1/processes/store/start", json={"deal_id": deal_id, "params": {"order_no": "A-1"}})
    second = client.post("/api/v1/processes/store/start", json={"deal_id": deal_id, "params": {"order_no": "A-2"}})
    history = count(engine, HistoryEntry)

    unknown = client.post("/api/v1/messages", json={"name": "offer.answered", "correlation_key": "A-9"})
    assert (unknown.status_code, unknown.json["code"]) == (400, "no_correlation")
    assert "'A-9'" in unknown.json["message"] and count(engine, HistoryEntry) == history

    sent = client.post("/api/v1/messages", json={"name": "offer.answered", "correlation_key": "A-2",
                                                 "payload": {"accepted": True}})

    assert sent.status_code == 202, sent.json
    assert (sent.json["resumed"], sent.json["correlation_key"]) == ([second.json["id"]], "A-2")
    assert instance_row(engine, second.json["id"]).status == "completed"
    assert instance_row(engine, first.json["id"]).status == "running"
    with_deal = client.post("/api/v1/messages", json={"name": "offer.answered", "deal_id": deal_id,
                                                      "correlation_key": "A-1", "payload": {"accepted": False}})
    assert with_deal.json["resumed"] == [first.json["id"]]
    assert instance_row(engine, first.json["id"]).status == "completed"


def test_a_plain_start_of_a_process_that_starts_only_on_a_message_is_422_naming_the_message(client, engine):
    client.post("/api/v1/processes", data=archive_process())
    deal_id = make_deal(engine)

    refused = client.post("/api/v1/processes/file_scan/start", json={"deal_id": deal_id})

    assert refused.status_code == 422, refused.json
    assert refused.json["code"] == "start_refused"
    assert 'message "archive.scanned"' in refused.json["message"]
    assert count(engine, ProcessInstance) == 0  # nothing waits at the start forever
    sent = client.post("/api/v1/messages", json={"name": "archive.scanned", "deal_id": deal_id})
    assert sent.status_code == 202 and len(sent.json["started"]) == 1
    assert instance_row(engine, sent.json["started"][0]).status == "completed"


SHELF = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="x">
  <bpmn:signal id="sig" name="stock.arrived"/>
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start">{start}</bpmn:startEvent>
    {wait}
    <bpmn:endEvent id="end"/>
    {flows}
  </bpmn:process>
</bpmn:definitions>"""


def test_a_signal_by_name_reaches_the_deals_waiting_instances_and_starts_its_signal_start_processes(client, engine):
    client.post("/api/v1/processes", data=SHELF.format(
        key="shelf", start="", flows='<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>'
                                     '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>',
        wait='<bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="sig"/>'
             '</bpmn:intermediateCatchEvent>'))
    client.post("/api/v1/processes", data=SHELF.format(
        key="recount", start='<bpmn:signalEventDefinition signalRef="sig"/>', wait="",
        flows='<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>'))
    deal_id, other_id = make_deal(engine), make_deal(engine)
    waiting = client.post("/api/v1/processes/shelf/start", json={"deal_id": deal_id}).json["id"]
    untouched = client.post("/api/v1/processes/shelf/start", json={"deal_id": other_id}).json["id"]

    sent = client.post("/api/v1/signals", json={"name": "stock.arrived", "deal_id": deal_id})

    assert sent.status_code == 202, sent.json
    assert sent.json["resumed"] == [waiting] and len(sent.json["started"]) == 1
    started = instance_row(engine, sent.json["started"][0])
    assert (started.key, started.deal_id, started.status) == ("recount", deal_id, "completed")
    assert instance_row(engine, waiting).status == "completed"
    assert instance_row(engine, untouched).status == "running"


def test_a_signal_nothing_waits_for_is_400_no_correlation_and_changes_nothing(client, engine):
    deal_id = make_deal(engine)
    before = count(engine, HistoryEntry)

    sent = client.post("/api/v1/signals", json={"name": "stock.nowhere", "deal_id": deal_id})

    assert sent.status_code == 400 and sent.json["code"] == "no_correlation"
    assert count(engine, HistoryEntry) == before and count(engine, ProcessInstance) == 0
    missing = client.post("/api/v1/signals", json={"name": "stock.arrived", "deal_id": 999999})
    assert (missing.status_code, missing.json["code"]) == (422, "invalid_signal")
    assert missing.json["details"] == {"deal_id": "deal 999999 does not exist"}
