"""The test bench through HTTP alone: sandbox runs of S1 and of a pipeline's robots, their
live room, their log, a saved test case replayed by `dealflow test-processes`, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main as dealflow
from api.wiring import SHIPPED_AUTOMATION, save_shipped_automation
from tests.support.auth import token_for
from tests.support.bpmn import Bpmn
from tests.support.world import make_deal

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
CREDIT_FIELDS = {"credit_type": "credit", "bank": "Sber", "id_document": "4510 123456", "term_months": 12,
                 "down_payment": 10000}
READY = "2026-01-07T10:00:00Z"  # two days after the test clock's 2026-01-05 09:00


@pytest.fixture
def sandboxes(app, tmp_path):
    directory = tmp_path / "sandboxes"
    app.config["DEALFLOW_SANDBOX_DIR"] = directory
    return directory


@pytest.fixture
def world(client, engine, sandboxes):
    """Send to bank deployed and the shipped robots saved, as the demo server has them."""
    assert client.post("/api/v1/processes", data=(BPMN / "send_to_bank.bpmn").read_bytes()).status_code == 201
    save_shipped_automation(engine, SHIPPED_AUTOMATION)
    return engine


def _real_deal_snapshot(client, deal_id: int) -> dict:
    """Everything the API tells about a real deal: nothing of it may change in a sandbox run."""
    return {
        "deal": client.get(f"/api/v1/deals/{deal_id}").json,
        "timeline": client.get(f"/api/v1/deals/{deal_id}/timeline").json,
        "log": client.get(f"/api/v1/deals/{deal_id}/automation-log").json,
        "instances": client.get(f"/api/v1/instances?deal_id={deal_id}").json,
        "tasks": client.get(f"/api/v1/tasks?deal_id={deal_id}").json,
    }


def _s1_run(client, deal_id: int) -> dict:
    created = client.post("/api/v1/test-runs", json={
        "kind": "process", "process": "send_to_bank", "deal_id": deal_id, "params": {"ready_date": READY}})
    assert created.status_code == 201, created.json
    return created.json


def test_s1_in_the_sandbox_rejected_then_past_the_reminder_leaves_the_real_deal_alone(app, client, world, engine):
    deal_id = make_deal(world, stage="main.product_agreement", fields=CREDIT_FIELDS, title="TV on credit")
    before = _real_deal_snapshot(client, deal_id)

    run = _s1_run(client, deal_id)
    run_id = run["id"]
    assert run["source_deal_id"] == deal_id and run["now"].startswith("2026-01-05T09:00:00")
    assert run["deal"]["stage_ref"] == "credit.new"
    assert run["instance"]["status"] == "running"
    assert run["instance"]["active_elements"] == ["wait_bank_decision"]
    assert run["instance"]["completed_elements"] == ["start", "record_ready_date", "move_to_credit_pipeline"]
    [reminder] = run["jobs"]
    assert (reminder["kind"], reminder["robot"]) == ("robot", "remind-at-the-ready-date")
    assert reminder["due_at"].startswith("2026-01-07T10:00:00")

    socket = app.extensions["dealflow.socketio"].test_client(app, auth={"token": token_for(engine, "admin")})
    assert socket.emit("subscribe", {"room": f"test-run:{run_id}"}, callback=True)["ok"] is True
    socket.get_received()
    # The sandbox deal keeps the real deal's id: the real deal's watchers must hear nothing of it.
    real_watcher = app.extensions["dealflow.socketio"].test_client(app, auth={"token": token_for(engine, "admin")})
    real_watcher.emit("subscribe", {"room": f"deal:{deal_id}"})
    real_watcher.emit("subscribe", {"room": "pipeline:credit"})
    real_watcher.get_received()

    sent = client.post(f"/api/v1/test-runs/{run_id}/events",
                       json={"type": "bank.decision", "payload": {"approved": False}})
    assert sent.status_code == 200, sent.json
    assert sent.json["event"]["resumed"] == [run["instance"]["id"]]
    state = sent.json["state"]
    assert state["deal"]["stage_ref"] == "main.product_agreement"
    assert state["instance"]["status"] == "completed"
    assert state["jobs"] == []  # leaving credit.new cancelled the reminder
    assert [t["title"] for t in state["tasks"]] == ["Offer new conditions or another product"]
    heard = {m["name"] for m in socket.get_received()}
    assert {"deal.moved", "instance.step", "robot.log", "task.changed"} <= heard

    advanced = client.post(f"/api/v1/test-runs/{run_id}/advance", json={"by": "P3D"})
    assert advanced.status_code == 200
    assert advanced.json["now"].startswith("2026-01-08T09:00:00")
    assert [t["title"] for t in advanced.json["tasks"]] == ["Offer new conditions or another product"]
    [clock] = [m["args"][0] for m in socket.get_received() if m["name"] == "test-run.clock"]
    assert clock["run_id"] == run_id and clock["moved_by"] == "3d"
    assert real_watcher.get_received() == []
    socket.disconnect()
    real_watcher.disconnect()

    got = client.get(f"/api/v1/test-runs/{run_id}").json
    assert "credit_rejected" in got["instance"]["completed_elements"]
    assert "move_to_order_assembly" not in got["instance"]["completed_elements"]

    log = client.get(f"/api/v1/test-runs/{run_id}/log")
    assert log.status_code == 200
    lines = [(e["source"], e["kind"], e["text"], e["reason"]) for e in log.json]
    assert ("robot", "cancelled", "remind-at-the-ready-date",
            "the deal moved to main.product_agreement before it ran") in lines
    assert any(s == "process" and k == "completed" and "Notify the supervisor" in t for s, k, t, _ in lines)
    assert any(s == "deal" and k == "stage_moved" and "Credit / New" in t for s, k, t, _ in lines)
    assert all(e["reason"] for e in log.json)

    assert _real_deal_snapshot(client, deal_id) == before


def test_the_log_is_one_story_in_the_order_things_happened(client, world):
    """What the person did (start, clock, event) and what it caused, each a row by virtual time,
    with its kind and parameters for the screen to put in words."""
    deal_id = make_deal(world, stage="main.product_agreement", fields=CREDIT_FIELDS, title="TV on credit")
    run_id = _s1_run(client, deal_id)["id"]
    assert client.post(f"/api/v1/test-runs/{run_id}/advance", json={"by": "3d"}).status_code == 200
    assert client.post(f"/api/v1/test-runs/{run_id}/events",
                       json={"type": "bank.decision", "payload": {"approved": False}}).status_code == 200

    log = client.get(f"/api/v1/test-runs/{run_id}/log").json
    moments = [e["at"] for e in log]
    assert moments == sorted(moments)
    bench = [(e["kind"], e["at"][:19]) for e in log if e["source"] == "bench"]
    assert bench == [("run_started", "2026-01-05T09:00:00"), ("process_started", "2026-01-05T09:00:00"),
                     ("clock_moved", "2026-01-05T09:00:00"), ("event_sent", "2026-01-08T09:00:00")]
    [jump] = [e for e in log if e["kind"] == "clock_moved"]
    assert jump["detail"]["by"] == "3d" and jump["detail"]["to"].startswith("2026-01-08T09:00:00")
    [sent] = [e for e in log if e["kind"] == "event_sent"]
    assert sent["detail"] == {"event": "bank.decision", "payload": {"approved": False}}

    def first(predicate) -> int:
        return next(i for i, e in enumerate(log) if predicate(e))

    started = first(lambda e: e["kind"] == "run_started")
    process_started = first(lambda e: e["kind"] == "process_started")
    first_step = first(lambda e: e["source"] == "process")
    assert started < process_started < first_step
    moved_to_credit = first(lambda e: e["source"] == "deal" and e["kind"] == "stage_moved")
    jumped = first(lambda e: e["kind"] == "clock_moved")
    reminded = first(lambda e: e["source"] == "robot" and e["detail"].get("key") == "remind-at-the-ready-date"
                     and e["at"].startswith("2026-01-07T10:00:00"))
    decided = first(lambda e: e["kind"] == "event_sent")
    rejected = first(lambda e: e["source"] == "process" and e["detail"]["element_id"] == "credit_rejected")
    assert started < moved_to_credit < jumped < reminded < decided < rejected
    step = log[rejected]["detail"]
    assert step["process"] == "send_to_bank" and step["element_name"]


def test_the_sandbox_deal_form_has_the_pipelines_typed_fields(client, world):
    got = client.get("/api/v1/test-runs/deal-fields?pipeline=main")
    assert got.status_code == 200
    by_name = {f["name"]: f for f in got.json}
    assert by_name["credit_type"]["type"] == "enum" and "credit" in by_name["credit_type"]["options"]
    assert by_name["ready_date"]["type"] == "datetime" and by_name["ready_date"]["label"]
    assert client.get("/api/v1/test-runs/deal-fields?pipeline=nowhere").status_code == 404


def test_a_saved_run_replays_with_dealflow_test_processes(client, world, tmp_path):
    deal_id = make_deal(world, stage="main.product_agreement", fields=CREDIT_FIELDS, title="Fridge on credit")
    run_id = _s1_run(client, deal_id)["id"]
    client.post(f"/api/v1/test-runs/{run_id}/advance", json={"by": "1d"})
    client.post(f"/api/v1/test-runs/{run_id}/events", json={"type": "bank.decision", "payload": {"approved": True}})
    assert client.post(f"/api/v1/test-runs/{run_id}/move", json={"stage": "main.won"}).status_code == 200

    saved = client.get(f"/api/v1/test-runs/{run_id}/case?name=approved after a day")
    assert saved.status_code == 200
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / saved.json["file_name"]).write_text(saved.json["yaml"], encoding="utf-8")
    (folder / saved.json["bpmn_file_name"]).write_text(saved.json["bpmn"], encoding="utf-8")
    for line in ("advance: 1d", "message: bank.decision", "stage: main.order_assembly", "move: main.won",
                 "stage: main.won"):
        assert line in saved.json["yaml"]

    replayed = CliRunner().invoke(dealflow, ["test-processes", str(folder)])
    assert replayed.exit_code == 0, replayed.output
    assert "PASS send_to_bank.cases.yaml: approved after a day" in replayed.output

    # The same case with a different ending must fail: the replay really checks what was saved.
    wrong = saved.json["yaml"].replace("stage: main.won", "stage: main.lost")
    (folder / saved.json["file_name"]).write_text(wrong, encoding="utf-8")
    assert CliRunner().invoke(dealflow, ["test-processes", str(folder)]).exit_code == 1
    too_early = saved.json["yaml"].replace("clock: '2026-01-05T09:00:00+00:00'", "clock: '2025-01-01T00:00:00+00:00'")
    (folder / saved.json["file_name"]).write_text(too_early, encoding="utf-8")
    early = CliRunner().invoke(dealflow, ["test-processes", str(folder)])
    assert early.exit_code == 1 and "is before the runner's start" in early.output


def test_a_pipelines_robots_fire_when_the_clock_reaches_them(client, world):
    ready = "2026-01-07T10:00:00+00:00"
    created = client.post("/api/v1/test-runs", json={
        "kind": "robots", "pipeline": "credit",
        "deal": {"title": "Sofa on credit", "responsible": "manager.north1", "contact": {"name": "Oleg"},
                 "fields": {"ready_date": ready}}})
    assert created.status_code == 201, created.json
    run = created.json
    assert run["deal"]["stage_ref"] == "credit.new" and run["instance"] is None
    [job] = run["jobs"]
    assert job["due_at"].startswith("2026-01-07T10:00:00")

    early = client.post(f"/api/v1/test-runs/{run['id']}/advance", json={"by": "1d"}).json
    assert early["tasks"] == [] and len(early["jobs"]) == 1

    fired = client.post(f"/api/v1/test-runs/{run['id']}/advance", json={"to": "next_job"})
    assert fired.status_code == 200
    state = fired.json
    assert state["now"].startswith("2026-01-07T10:00:00") and state["jobs"] == []
    [task] = state["tasks"]
    assert task["title"] == "Contact Oleg again about the credit for Sofa on credit"
    assert task["assignee"] == "manager.north1"
    assert [n["user"] for n in state["notifications"]] == ["manager.north1"]
    log = client.get(f"/api/v1/test-runs/{run['id']}/log").json
    assert [(e["kind"], e["text"]) for e in log if e["source"] == "robot"] == [
        ("scheduled", "remind at the ready date"), ("ran", "remind at the ready date")]

    nothing = client.post(f"/api/v1/test-runs/{run['id']}/advance", json={"to": "next_job"})
    assert nothing.status_code == 409 and nothing.json["code"] == "no_job_due"
    moved = client.post(f"/api/v1/test-runs/{run['id']}/move", json={"stage": "documents"})
    assert moved.status_code == 200 and moved.json["deal"]["stage_ref"] == "credit.documents"
    assert client.get(f"/api/v1/test-runs/{run['id']}/case").status_code == 409


def test_bad_input_is_refused_and_changes_nothing(client, world, sandboxes):
    deal_id = make_deal(world, stage="main.product_agreement", fields=CREDIT_FIELDS)
    before = _real_deal_snapshot(client, deal_id)
    refused = [
        ({"kind": "process", "process": "no_such_process", "deal_id": deal_id}, 422, "invalid_test_run"),
        ({"kind": "process", "process": "send_to_bank", "deal_id": 999999}, 422, "invalid_test_run"),
        ({"kind": "process", "process": "send_to_bank", "deal_id": deal_id, "params": {}}, 422, "start_refused"),
        ({"kind": "robots", "pipeline": "nowhere", "deal": {"title": "x"}}, 422, "invalid_test_run"),
        ({"kind": "robots", "pipeline": "credit", "deal_id": deal_id}, 422, "invalid_test_run"),
        ({"kind": "robots", "pipeline": "credit", "deal": {"title": "x", "stage": "main.new"}}, 422,
         "invalid_test_run"),
        ({"kind": "process", "process": "send_to_bank"}, 422, "invalid_payload"),
        ({"kind": "sideways", "deal_id": deal_id}, 422, "invalid_payload"),
        ({"kind": "robots", "pipeline": "credit", "deal": {"title": "x", "responsible": "nobody"}}, 422,
         "invalid_test_run"),
    ]
    for body, status, code in refused:
        answer = client.post("/api/v1/test-runs", json=body)
        assert (answer.status_code, answer.json["code"]) == (status, code), (body, answer.json)
    assert [p.name for p in sandboxes.glob("*")] == [] if sandboxes.exists() else True

    run = _s1_run(client, deal_id)
    run_id = run["id"]
    for body in ({"by": "soon"}, {"by": "-1d"}, {}, {"by": "1d", "to": "next_job"}, {"to": "later"},
                 {"by": "600w"}):
        answer = client.post(f"/api/v1/test-runs/{run_id}/advance", json=body)
        assert answer.status_code == 422, body
    bad_event = client.post(f"/api/v1/test-runs/{run_id}/events", json={"type": "bank.decision", "payload": {}})
    assert bad_event.status_code == 422 and bad_event.json["code"] == "invalid_event"
    assert client.post(f"/api/v1/test-runs/{run_id}/move", json={"stage": "no_such_stage"}).status_code in (404, 422)
    assert client.post(f"/api/v1/test-runs/{run_id}/tasks/999/complete", json={}).status_code == 404
    after = client.get(f"/api/v1/test-runs/{run_id}").json
    assert after["now"] == run["now"] and after["deal"] == run["deal"] and after["steps"] == 0

    for method, url in (("get", "/api/v1/test-runs/123456789012"), ("get", "/api/v1/test-runs/123456789012/log"),
                        ("post", "/api/v1/test-runs/123456789012/advance"),
                        ("delete", "/api/v1/test-runs/123456789012")):
        answer = getattr(client, method)(url, json={"by": "1d"} if method == "post" else None)
        assert answer.status_code == 404 and answer.json["code"] in ("test_run_not_found", "not_found"), url

    assert client.delete(f"/api/v1/test-runs/{run_id}").status_code == 204
    assert client.get(f"/api/v1/test-runs/{run_id}").status_code == 404
    assert list(sandboxes.glob(f"{run_id}.*")) == []
    assert _real_deal_snapshot(client, deal_id) == before


def test_a_run_belongs_to_its_maker_and_the_administrators(app, client_as, engine, world):
    deal_id = make_deal(world, stage="main.product_agreement", fields=CREDIT_FIELDS, title="TV on credit")
    designers_run = _s1_run(client_as("designer"), deal_id)["id"]
    admins_run = _s1_run(client_as("admin"), deal_id)["id"]
    designer = client_as("designer")
    assert designer.get(f"/api/v1/test-runs/{designers_run}").status_code == 200
    assert client_as("admin").get(f"/api/v1/test-runs/{designers_run}").status_code == 200
    for method, tail in (("GET", ""), ("POST", "/advance"), ("GET", "/log"), ("DELETE", "")):
        refused = designer.open(f"/api/v1/test-runs/{admins_run}{tail}", method=method, json={"by": "P1D"})
        assert refused.status_code == 404 and refused.json["code"] == "test_run_not_found", (method, tail)
    socket = app.extensions["dealflow.socketio"].test_client(app, auth={"token": token_for(engine, "designer")})
    assert socket.emit("subscribe", {"room": f"test-run:{admins_run}"}, callback=True) == {"ok": False}
    assert socket.emit("subscribe", {"room": f"test-run:{designers_run}"}, callback=True)["ok"] is True
    assert client_as("admin").get(f"/api/v1/test-runs/{admins_run}").json["now"]  # untouched by the refusals


def test_a_process_waiting_for_a_message_without_a_name_runs_on_the_test_bench(client, world):
    """The message is known by its id, here the event type a modeler would give it."""
    xml = (Bpmn("nameless").start().message_catch("wait", "bank.decision").end().chain("start", "wait", "end").xml()
           .replace('<bpmn:message id="msg_bank_decision" name="bank.decision"/>', '<bpmn:message id="bank.decision"/>')
           .replace('messageRef="msg_bank_decision"', 'messageRef="bank.decision"'))
    assert client.post("/api/v1/processes", data=xml, content_type="application/xml").status_code == 201
    created = client.post("/api/v1/test-runs", json={"kind": "process", "process": "nameless", "params": {},
                                                     "deal_id": make_deal(world)})
    assert created.status_code == 201, created.json
    assert created.json["instance"]["active_elements"] == ["wait"]
    run_id = created.json["id"]
    decision = {"type": "bank.decision", "payload": {"approved": True}}
    sent = client.post(f"/api/v1/test-runs/{run_id}/events", json=decision)
    assert sent.status_code == 200, sent.json
    assert sent.json["event"]["resumed"] == [created.json["instance"]["id"]]
    assert client.get(f"/api/v1/test-runs/{run_id}").json["instance"]["status"] == "completed"
