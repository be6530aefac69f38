"""The decisions API: deploy DMN with versions, read it back, try it, and run it from a process;
bad files are a 422 naming the cell, never a 500, and change nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.models import DecisionVersion, ProcessVersion
from tests.support.bpmn import Bpmn
from tests.support.dmn import decision_table
from tests.support.world import make_deal

ROUTING = Path(__file__).resolve().parents[2] / "bpmn" / "store_routing.dmn"


def counts(engine) -> tuple[int, int]:
    with engine.unit() as rt:
        return (rt.session.scalar(select(func.count()).select_from(DecisionVersion)) or 0,
                rt.session.scalar(select(func.count()).select_from(ProcessVersion)) or 0)


def test_deploy_list_versions_and_xml(client):
    deployed = client.post("/api/v1/decisions", data=ROUTING.read_bytes(), content_type="application/xml")
    assert deployed.status_code == 201, deployed.json
    [routing] = deployed.json["decisions"]
    assert (routing["key"], routing["version"], routing["hit_policy"]) == ("store_routing", 1, "FIRST")
    assert [i["label"] for i in routing["inputs"]] == ["Amount", "Category", "VIP", "Store"]
    assert routing["outputs"] == [{"name": "responsible", "label": "Responsible"}]
    again = client.post("/api/v1/decisions", json={"xml": ROUTING.read_text(encoding="utf-8")})
    assert again.status_code == 201 and again.json["decisions"][0]["version"] == 1
    changed = ROUTING.read_text(encoding="utf-8").replace("&gt;= 300000", "&gt;= 250000")
    assert client.post("/api/v1/decisions", json={"xml": changed}).json["decisions"][0]["version"] == 2
    assert [d["version"] for d in client.get("/api/v1/decisions").json] == [2]
    assert [v["version"] for v in client.get("/api/v1/decisions/store_routing/versions").json] == [2, 1]
    first = client.get("/api/v1/decisions/store_routing/xml?version=1")
    assert first.status_code == 200 and first.mimetype == "application/xml" and b"&gt;= 300000" in first.data
    assert b"250000" in client.get("/api/v1/decisions/store_routing/xml").data
    assert client.get("/api/v1/decisions/nope/versions").status_code == 404
    assert client.get("/api/v1/decisions/store_routing/xml?version=9").status_code == 404


def test_evaluate_tries_the_latest_version_with_a_deal(client, engine):
    client.post("/api/v1/decisions", data=ROUTING.read_bytes())
    deal_id = make_deal(engine, amount=Decimal("150000"), fields={"category": "tv"})
    tried = client.post("/api/v1/decisions/store_routing/evaluate", json={"deal_id": deal_id})
    assert tried.status_code == 200, tried.json
    assert tried.json["matched"] == [4] and tried.json["variables"] == {"responsible": "credit"}
    vip = client.post("/api/v1/decisions/store_routing/evaluate",
                      json={"variables": {"deal": {"vip": True, "department": "store_south", "amount": 1}}})
    assert vip.json["value"] == {"responsible": "head.south"}
    failed = client.post("/api/v1/decisions/store_routing/evaluate", json={"variables": {"deal": {"amount": "x"}}})
    assert failed.status_code == 422 and failed.json["code"] == "decision_failed"
    assert "rule 3, input Amount" in failed.json["message"]
    assert client.post("/api/v1/decisions/nope/evaluate", json={}).status_code == 404


def test_a_bad_cell_is_a_422_naming_its_rule_column_and_line_and_deploys_nothing(client, engine):
    xml = decision_table("tier", [("Amount", "deal.amount")], ["tier"], [["< 10", '"a"'], ["[1..5", '"b"']])
    refused = client.post("/api/v1/decisions", data=xml.encode())
    assert refused.status_code == 422 and refused.json["code"] == "invalid_decision"
    [problem] = refused.json["details"]
    assert (problem["decision"], problem["rule"], problem["input"], problem["element"]) == ("tier", 2, 1, "r2_i1")
    assert problem["line"] > 1 and problem["cell_column"] == 6
    assert counts(engine) == (0, 0)


HOSTILE = [
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><definitions>&x;</definitions>',
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><d>&b;</d>',
    b'<?xml version="1.0" encoding="UTF-16"?><definitions/>',
    '<?xml version="1.0" encoding="ISO-8859-1"?><definitions>é</definitions>'.encode()[:-14] + b"\xff\xfe",
    b"\xff\xfe<\x00d\x00",
    b"<definitions xmlns='https://www.omg.org/spec/DMN/20191111/MODEL/'>" + b"<x>" * 200 + b"</x>" * 200
    + b"</definitions>",
    b"not xml at all",
    b"<definitions xmlns='https://www.omg.org/spec/DMN/20191111/MODEL/'><decision id='d'><decisionTable>"
    b"<input><inputExpression><text>a</text></inputExpression></input><output name='o'/><rule>"
    b"<inputEntry><text>__import__('os').system('id')</text></inputEntry><outputEntry><text>1</text></outputEntry>"
    b"</rule></decisionTable></decision></definitions>",
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_files_are_a_422_never_a_500(client, engine, body):
    refused = client.post("/api/v1/decisions", data=body, content_type="application/xml")
    assert refused.status_code == 422, refused.data
    assert refused.json["code"] in ("invalid_decision", "invalid_text")
    assert counts(engine) == (0, 0)


def test_huge_and_empty_bodies_and_bad_json_are_refused(client, engine):
    assert client.post("/api/v1/decisions", data=b"   ").status_code == 422
    huge = b"<definitions xmlns='https://www.omg.org/spec/DMN/20191111/MODEL/'>" + b" " * (3 * 1024 * 1024) \
        + b"</definitions>"
    assert client.post("/api/v1/decisions", data=huge).status_code in (413, 422)
    assert client.post("/api/v1/decisions", json={"xml": 5}).status_code == 422
    assert client.post("/api/v1/decisions", json={"xml": "<definitions>\ud800</definitions>"}).status_code == 422
    assert counts(engine) == (0, 0)


def test_a_process_with_a_business_rule_task_needs_its_decision_then_runs_it(client, engine):
    process = Bpmn("routed").start().rule_task("route", "store_routing").user("call").end() \
        .chain("start", "route", "call", "end").xml()
    refused = client.post("/api/v1/processes", data=process.encode())
    assert refused.status_code == 422 and refused.json["details"][0]["element"] == "route"
    assert "store_routing" in refused.json["details"][0]["message"]
    client.post("/api/v1/decisions", data=ROUTING.read_bytes())
    assert client.post("/api/v1/processes", data=process.encode()).status_code == 201
    deal_id = make_deal(engine, amount=Decimal("450000"))
    started = client.post("/api/v1/processes/routed/start", json={"deal_id": deal_id})
    assert started.status_code == 201, started.json
    state = client.get(f"/api/v1/instances/{started.json['id']}").json
    assert state["status"] == "running" and state["variables"]["responsible"] == "head.north"


def _routed_process() -> str:
    return Bpmn("routed").start().rule_task("route", "store_routing", "routing").user("call").end() \
        .chain("start", "route", "call", "end").xml()


def test_a_business_rule_task_runs_on_the_test_bench(app, client, engine, tmp_path):
    app.config["DEALFLOW_SANDBOX_DIR"] = tmp_path / "sandboxes"
    client.post("/api/v1/decisions", data=ROUTING.read_bytes())
    client.post("/api/v1/processes", data=_routed_process().encode())
    deal_id = make_deal(engine, amount=Decimal("150000"), fields={"category": "laptops"})
    run = client.post("/api/v1/test-runs", json={"kind": "process", "process": "routed", "deal_id": deal_id})
    assert run.status_code == 201, run.json
    assert run.json["instance"]["completed_elements"] == ["start", "route"]
    log = client.get(f"/api/v1/test-runs/{run.json['id']}/log").json
    [routed] = [row for row in log if row["source"] == "process" and row["detail"].get("element_id") == "route"]
    assert routed["detail"]["result"] == {"responsible": "credit"}


def test_dealflow_test_processes_deploys_the_decisions_beside_the_process(tmp_path):
    from click.testing import CliRunner

    from api.cli import main as dealflow

    (tmp_path / "store_routing.dmn").write_bytes(ROUTING.read_bytes())
    (tmp_path / "routed.bpmn").write_text(_routed_process(), encoding="utf-8")
    case = """process: routed
cases:
  - name: a VIP of the south store is routed to its head
    deal: {title: Sofa, department: store_south, fields: {vip: true}}
    expect: {status: running, path: [route]}
"""
    (tmp_path / "routed.cases.yaml").write_text(case, encoding="utf-8")
    replayed = CliRunner().invoke(dealflow, ["test-processes", str(tmp_path)])
    assert replayed.exit_code == 0, replayed.output
    assert "PASS routed.cases.yaml: a VIP of the south store is routed to its head" in replayed.output
    (tmp_path / "store_routing.dmn").unlink()
    missing = CliRunner().invoke(dealflow, ["test-processes", str(tmp_path)])
    assert missing.exit_code == 1 and "calls decision 'store_routing', which is not deployed" in missing.output
