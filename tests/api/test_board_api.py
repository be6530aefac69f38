"""The deals board and stage gates over HTTP, on both databases, on the demo store."""

from __future__ import annotations

from sqlalchemy import select

from crm.demo_board import load_board_activities
from crm.models import Deal, TimelineEntry
from tests.support.world import make_deal


def _stage(board, code):
    return next(s for s in board["stages"] if s.get("code") == code)


def _deal(engine, deal_id):
    with engine.unit() as rt:
        deal = rt.crm.deal(deal_id)
        return deal.stage.ref, dict(deal.fields), deal.loss_reason, deal.version


def test_the_board_has_every_stage_with_count_sum_and_cards_of_visible_deals_only(client_as, engine):
    board = client_as("manager.south1").get("/api/v1/pipelines/main/board").get_json()
    assert [s["code"] for s in board["stages"]][:3] == ["new", "in_processing", "product_agreement"]
    titles = {c["title"] for s in board["stages"] for c in s["cards"]}
    # S9: the south manager sees the south store's deals and shipped ones, not a north deal in progress.
    assert "Dishwasher Electrolux EEA" in titles and "Microwave Samsung MS23" in titles
    assert "Washing machine Bosch WAN28" not in titles
    processing = _stage(board, "in_processing")
    assert processing["count"] == 1 and processing["sums"] == {"RUB": "38490.00"}
    card = processing["cards"][0]
    assert card["contact"] == "Pavel Smirnov" and card["responsible"]["name"] == "Viktor Gromov"
    everything = client_as("admin").get("/api/v1/pipelines/main/board").get_json()
    assert _stage(everything, "in_processing")["count"] == 2


def test_cards_carry_the_activity_counters(client_as, engine):
    with engine.unit() as rt:
        load_board_activities(rt.crm)  # the demo at work's open tasks on three deals
    board = client_as("manager.north1").get("/api/v1/pipelines/main/board").get_json()
    cards = {c["title"]: c for s in board["stages"] for c in s["cards"]}
    bosch = cards["Washing machine Bosch WAN28"]
    assert bosch["tasks"] == {"open": 1, "overdue": 0, "today": bosch["tasks"]["today"]}
    assert bosch["no_next_step"] is False
    fridge = cards["Fridge LG GA-B509"]
    assert fridge["tasks"]["overdue"] == 1 and fridge["no_next_step"] is True
    assert cards["Microwave Samsung MS23"]["tasks"]["open"] == 0 and cards["Microwave Samsung MS23"]["no_next_step"]
    assert cards["Coffee machine DeLonghi"]["no_next_step"] is False  # won: nothing to plan


def test_filters_and_more_paging(client_as, engine):
    for number in range(5):
        make_deal(engine, title=f"Kettle {number}", department="store_north", responsible="manager.north1")
    client = client_as("head.north")
    page = client.get("/api/v1/pipelines/main/board?per_stage=2").get_json()
    new = _stage(page, "new")
    assert new["count"] == 6 and len(new["cards"]) == 2 and new["more"] is True
    rest = client.get("/api/v1/pipelines/main/board?per_stage=2&stage=new&offset=2").get_json()
    assert [s["code"] for s in rest["stages"]] == ["new"] and len(rest["stages"][0]["cards"]) == 2
    assert not {c["id"] for c in rest["stages"][0]["cards"]} & {c["id"] for c in new["cards"]}
    searched = client.get("/api/v1/pipelines/main/board?q=kettle 3").get_json()
    assert [c["title"] for s in searched["stages"] for c in s["cards"]] == ["Kettle 3"]
    by_contact = client.get("/api/v1/pipelines/main/board?q=sokolov").get_json()
    assert {c["contact"] for s in by_contact["stages"] for c in s["cards"]} == {"Ivan Sokolov"}
    mine = client_as("manager.north2").get("/api/v1/pipelines/main/board?mine=true").get_json()
    assert {c["responsible"]["name"] for s in mine["stages"] for c in s["cards"]} == {"Boris Orlov"}
    other = client.get("/api/v1/pipelines/main/board?responsible=manager.north2").get_json()
    assert sum(s["count"] for s in other["stages"]) == sum(s["count"] for s in mine["stages"])
    department = client_as("admin").get("/api/v1/pipelines/main/board?department=store_south").get_json()
    assert sum(s["count"] for s in department["stages"]) == 5
    own = client_as("manager.south1").get("/api/v1/pipelines/main/board?department=mine").get_json()
    assert sum(s["count"] for s in own["stages"]) == 5


def test_bad_board_queries_are_refused_with_what_is_wrong(client):
    answer = client.get("/api/v1/pipelines/main/board?per_stage=0&offset=-1")
    assert answer.status_code == 422 and {"per_stage", "offset"} <= set(answer.get_json()["details"])
    assert client.get("/api/v1/pipelines/nope/board").status_code == 404
    assert client.get("/api/v1/pipelines/main/board?stage=nope").status_code == 404


def test_a_move_into_a_gated_stage_is_refused_with_the_missing_fields_and_nothing_changes(client_as, engine):
    deal_id = make_deal(engine, stage="main.order_assembly", department="store_north")
    before = _deal(engine, deal_id)
    answer = client_as("manager.north1").post(f"/api/v1/deals/{deal_id}/move", json={"stage": "delivery"})
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["code"] == "stage_gate"
    assert body["details"]["stage"] == "main.delivery"
    assert body["details"]["missing"] == [
        {"name": "delivery_address", "label": "Delivery address", "type": "string", "options": []}]
    assert "Delivery address" in body["message"]
    assert _deal(engine, deal_id) == before


def test_the_fields_sent_with_the_move_fill_the_gate_in_one_transaction(client_as, engine):
    deal_id = make_deal(engine, stage="main.order_assembly", department="store_north")
    client = client_as("manager.north1")
    wrong = client.post(f"/api/v1/deals/{deal_id}/move", json={"stage": "delivery", "fields": {"delivery_time": "9"}})
    assert wrong.status_code == 422 and _deal(engine, deal_id)[1] == {}  # the field sent is not kept either
    answer = client.post(f"/api/v1/deals/{deal_id}/move",
                         json={"stage": "delivery", "fields": {"delivery_address": "Lesnaya 1"}})
    assert answer.status_code == 200, answer.get_json()
    assert _deal(engine, deal_id)[:2] == ("main.delivery", {"delivery_address": "Lesnaya 1"})
    timeline = client.get(f"/api/v1/deals/{deal_id}/timeline?per_page=100").get_json()
    assert [e["kind"] for e in timeline][-2:] == ["field_changed", "stage_moved"]


def test_a_lost_stage_asks_for_a_reason_from_the_list_and_keeps_it(client_as, engine):
    deal_id = make_deal(engine, stage="main.in_processing", department="store_north")
    client = client_as("manager.north1")
    refused = client.post(f"/api/v1/deals/{deal_id}/move", json={"stage": "lost"})
    assert refused.status_code == 422
    details = refused.get_json()["details"]
    assert details["missing"] == [] and "Too expensive" in details["loss_reasons"]
    made_up = client.post(f"/api/v1/deals/{deal_id}/move", json={"stage": "lost", "loss_reason": "Bored"})
    assert made_up.status_code == 422 and _deal(engine, deal_id)[0] == "main.in_processing"
    moved = client.post(f"/api/v1/deals/{deal_id}/move", json={"stage": "lost", "loss_reason": "Too expensive"})
    assert moved.status_code == 200 and moved.get_json()["loss_reason"] == "Too expensive"
    with engine.unit() as rt:
        entry = rt.session.scalars(select(TimelineEntry).where(TimelineEntry.deal_id == deal_id,
                                                               TimelineEntry.kind == "stage_moved")).all()[-1]
        assert entry.text.endswith("Loss reason: Too expensive") and entry.data["loss_reason"] == "Too expensive"
    back = client.post(f"/api/v1/deals/{deal_id}/move", json={"stage": "in_processing"})
    assert back.get_json()["loss_reason"] is None


def test_a_mover_who_may_not_edit_deals_cannot_fill_fields_through_the_move(client_as, engine):
    deal_id = make_deal(engine, stage="main.order_assembly", department="logistics", responsible=None)
    answer = client_as("logist1").post(f"/api/v1/deals/{deal_id}/move",
                                       json={"stage": "delivery", "fields": {"delivery_address": "x"}})
    assert answer.status_code in (403, 404)
    assert _deal(engine, deal_id)[:2] == ("main.order_assembly", {})


def test_gates_are_declared_with_the_pipeline_and_bad_ones_are_refused_whole(client, engine):
    pipeline = client.get("/api/v1/pipelines/credit").get_json()
    bank_review = next(s for s in pipeline["stages"] if s["code"] == "bank_review")
    assert bank_review["required_fields"] == ["credit_type", "bank", "id_document", "term_months", "down_payment"]
    assert client.get("/api/v1/pipelines/main").get_json()["loss_reasons"][0] == "Too expensive"
    bad = client.put("/api/v1/pipelines/main/gates",
                     json={"required_fields": {"nope": ["bank"], "won": ["no_such_field"]}, "loss_reasons": [" "]})
    assert bad.status_code == 422
    assert set(bad.get_json()["details"]) == {"required_fields.nope", "required_fields.won", "loss_reasons[0]"}
    assert client.get("/api/v1/pipelines/main").get_json()["loss_reasons"][0] == "Too expensive"
    good = client.put("/api/v1/pipelines/main/gates",
                      json={"required_fields": {"delivery": [], "won": ["payment_status"]}, "loss_reasons": ["Price"]})
    assert good.status_code == 200
    stages = {s["code"]: s["required_fields"] for s in good.get_json()["stages"]}
    assert stages["delivery"] == [] and stages["won"] == ["payment_status"]
    board = client.get("/api/v1/pipelines/main/board").get_json()
    assert _stage(board, "won")["required_fields"][0]["label"] == "Payment"
    assert board["loss_reasons"] == ["Price"]
    with engine.unit() as rt:
        assert rt.session.scalar(select(Deal.id).limit(1)) is not None
