"""What one request asks the database (issue 14): counted with a cursor listener on the app's
own engine, through the real app, on both backends.

The figures themselves move with the code; what must not come back is a repeated read: a
second credential query, the deal a start already has selected again, the set-up rows of a
store order (its pipeline, its department) selected per robot, the stored event selected
right after its INSERT.
"""

from __future__ import annotations

import pytest

from api.wiring import SHIPPED_AUTOMATION, save_shipped_automation
from crm.errors import NotFound
from crm.models import Department
from crm.service import Crm
from tests.support.auth import bearer, token_for
from tests.support.bpmn import Bpmn
from tests.support.statements import statements_sent
from tests.support.world import make_deal, store_order


def _matching(seen: list[str], *parts: str) -> list[str]:
    return [s for s in seen if all(part in s for part in parts)]


def test_a_start_over_http_reads_its_credential_with_its_user_in_one_query_and_its_deal_once(app, engine):
    engine.deploy(Bpmn("quick").start().script("a", "x = 1").end().chain("start", "a", "end").xml())
    deal_id = make_deal(engine)
    client, token = app.test_client(), token_for(engine, "admin")
    with statements_sent(engine.db.engine) as seen:
        reply = client.post("/api/v1/processes/quick/start", headers=bearer(token), json={"deal_id": deal_id})
    assert reply.status_code == 201 and reply.json["status"] == "completed"
    credential = _matching(seen, "FROM credentials")
    assert len(credential) == 1 and "JOIN users" in credential[0]
    assert len(_matching(seen, "FROM deals")) == 1
    assert not _matching(seen, "FROM users")  # the caller came with the credential


def test_a_store_order_reads_its_set_up_rows_once_and_never_reselects_its_event(app, engine):
    save_shipped_automation(engine, SHIPPED_AUTOMATION)
    client, token = app.test_client(), token_for(engine, "store.integration")
    with statements_sent(engine.db.engine) as seen:
        reply = client.post("/api/v1/events", headers=bearer(token), json={
            "type": "order.created", "source": "store", "idempotency_key": "statements-1",
            "payload": store_order("S-1")})
    assert reply.status_code == 202 and len(reply.json["created_deal_ids"]) == 1
    assert len(_matching(seen, "FROM pipelines WHERE pipelines.code")) <= 1
    assert len(_matching(seen, "FROM departments WHERE departments.code")) <= 1
    assert not _matching(seen, "FROM events WHERE events.id")
    assert len(_matching(seen, "FROM credentials")) == 1
    # The shipped immediate robots ran in the same transaction (what the order path is for).
    with engine.unit() as rt:
        deal = rt.crm.deal(reply.json["created_deal_ids"][0])
        assert deal.responsible_id is not None


class RolledBack(Exception):
    pass


def test_a_set_up_row_held_for_the_transaction_is_never_an_outdated_answer(engine, clock):
    with pytest.raises(RolledBack), engine.db.transaction() as session:
        crm = Crm(session, clock)
        north = crm.department("store_north")
        with statements_sent(engine.db.engine) as seen:
            assert crm.department("store_north") is north
        assert seen == []  # held: no second SELECT
        north.code = "store_n"  # renamed in this transaction: the old code no longer finds it
        with pytest.raises(NotFound):
            crm.department("store_north")
        assert crm.department("store_n") is north
        added = Department(code="kiosk", name="Kiosk")
        session.add(added)
        assert crm.department("kiosk") is added
        session.delete(added)
        session.flush()
        with pytest.raises(NotFound):
            crm.department("kiosk")
        raise RolledBack


def test_what_one_transaction_held_is_read_again_by_the_next(engine, clock):
    with engine.db.sessions() as session:
        crm = Crm(session, clock)
        with session.begin():
            crm.department("store_north")
        with engine.db.transaction() as other:  # another process renames it meanwhile
            Crm(other, clock).department("store_north").code = "store_n"
        with session.begin():
            with pytest.raises(NotFound):
                crm.department("store_north")
            assert crm.department("store_n").code == "store_n"
