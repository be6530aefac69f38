"""An accepted event is never lost: refused before it is stored, or stored and applied, or
stored with its failed rule and replayable — never acknowledged and dropped. On both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm.models import Deal, Notification
from tests.support.world import make_deal, notes_of
from tests.triggers.conftest import STORE, act, automation, send, when
from triggers.errors import DealNotYet, InvalidEvent, NotReplayable
from triggers.intake import replay_event
from triggers.models import Event

ORDER = {
    "order_id": "A-2001", "status": "new", "amount": "45990.00", "currency": "RUB", "paid": False,
    "shipped": False, "customer": {"name": "Ivan Sokolov", "phone": "+7 916 111-22-33"},
    "items": [{"name": "Bosch WAN28", "qty": 1, "price": 45990}], "department": "store_north",
}
NEW_ORDER = automation("global", when("new", "order.created", actions=[act("create_deal_from_order",
                                                                           stage='"main.in_processing"')]))


def count(engine, model) -> int:
    with engine.unit() as rt:
        return rt.session.scalar(select(func.count()).select_from(model))


def order_deals(engine, order_id: str) -> list[int]:
    with engine.unit() as rt:
        return [d.id for d in rt.crm.deals_with_field("order_id", order_id)]


def test_a_lone_surrogate_in_the_customer_name_is_refused_before_storing_and_the_corrected_resend_applies(
        engine, files):
    files.add(NEW_ORDER)
    bad = {**ORDER, "customer": {"name": "Iv\ud800an", "phone": "+7 916 111-22-33"}}

    with pytest.raises(InvalidEvent) as refused:
        send(engine, files, "order.created", bad, key="order-A-2001")

    assert set(refused.value.fields) == {"customer.name"} and "surrogate" in refused.value.fields["customer.name"]
    assert count(engine, Event) == 0
    corrected = send(engine, files, "order.created", ORDER, key="order-A-2001")
    assert not corrected.duplicate and corrected.created_deal_ids == order_deals(engine, "A-2001") != []


def test_a_nul_anywhere_in_a_payload_or_key_is_refused_before_storing(engine, files):
    with pytest.raises(InvalidEvent) as in_payload:
        send(engine, files, "webhook.erp", {"lines": [{"note": "a\x00b"}]})
    assert in_payload.value.fields == {"lines[0].note": "holds a NUL character"}
    with pytest.raises(InvalidEvent) as in_key:
        send(engine, files, "webhook.erp", {"ok": True}, key="k\udc80")
    assert set(in_key.value.fields) == {"idempotency_key"}
    assert count(engine, Event) == 0


def test_order_paid_before_its_deal_is_refused_and_the_resend_after_the_order_applies(engine, files):
    files.add(NEW_ORDER)
    files.add(automation("main", when("paid", "order.paid", actions=[act("set_field", field='"payment_status"',
                                                                           value='"paid"')])))
    paid = {"order_id": "A-2001", "amount": 45990, "paid": True}

    with pytest.raises(DealNotYet) as early:
        send(engine, files, "order.paid", paid, key="pay-A-2001")
    assert early.value.code == "deal_not_yet" and early.value.retry_after > 0
    assert count(engine, Event) == 0

    [deal_id] = send(engine, files, "order.created", ORDER, key="order-A-2001").created_deal_ids
    resent = send(engine, files, "order.paid", paid, key="pay-A-2001")
    assert not resent.duplicate and resent.deal_ids == [deal_id] and resent.matched_rules == ["paid"]
    with engine.unit() as rt:
        assert rt.crm.deal(deal_id).fields["payment_status"] == "paid"


def test_the_database_refuses_a_second_deal_of_one_order_from_one_source(engine):
    before = count(engine, Deal)
    with engine.unit() as rt:
        rt.crm.create_deal(title="Order A-2001", order=("store", "A-2001"), cause=STORE)
        rt.crm.create_deal(title="Order A-2001 of another shop", order=("shop2", "A-2001"), cause=STORE)
        rt.crm.create_deal(title="Not an order", cause=STORE)
        rt.crm.create_deal(title="Not an order either", cause=STORE)  # NULLs never collide
    with pytest.raises(IntegrityError), engine.unit() as rt:
        rt.crm.create_deal(title="Order A-2001 again", order=("store", "A-2001"), cause=STORE)
    assert count(engine, Deal) == before + 4


def test_the_same_order_under_two_keys_in_turn_is_one_deal_keyed_by_source_and_number(engine, files):
    files.add(NEW_ORDER)
    first = send(engine, files, "order.created", ORDER, key="k1")
    second = send(engine, files, "order.created", ORDER, key="k2")
    assert second.deal_ids == first.created_deal_ids and second.created_deal_ids == []
    with engine.unit() as rt:
        deal = rt.session.get(Deal, first.created_deal_ids[0])
        assert (deal.order_source, deal.order_number) == ("store", "A-2001")


def test_a_failed_rule_is_recorded_and_the_event_is_replayed_once_the_rule_is_fixed(engine, files):
    deal_id = make_deal(engine, stage="main.in_processing", fields={"order_id": "A-2001"})
    files.add(automation("main", when("paid", "order.paid", actions=[act("notify", text='"Paid " + deal.nothing')])))
    result = send(engine, files, "order.paid", {"order_id": "A-2001", "paid": True}, key="pay-1")
    [evaluation] = result.evaluations
    assert evaluation["outcome"] == "failed"
    assert send(engine, files, "order.paid", {"order_id": "A-2001", "paid": True}, key="pay-1").duplicate

    files.add(automation("main", when("paid", "order.paid", actions=[act("notify", text='"Paid " + deal.title')])))
    with engine.unit() as rt:
        replayed = replay_event(rt, result.event_id, cause=STORE, automation=files)
    assert replayed.matched_rules == ["paid"]
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == ["Paid Washing machine"]
        row = rt.session.get(Event, result.event_id)
        assert row.outcome["evaluations"][0]["outcome"] == "matched"
        assert row.outcome["replaced"][0]["evaluations"][0]["outcome"] == "failed"
    with pytest.raises(NotReplayable), engine.unit() as rt:  # it ran: a second replay would notify twice
        replay_event(rt, result.event_id, cause=STORE, automation=files)
    assert count(engine, Notification) == 1


def test_a_replay_runs_only_the_failed_rules_not_the_processes_the_event_already_started(engine, files):
    from engine.models import ProcessInstance
    from tests.triggers.test_processes import paid_process

    deal_id = make_deal(engine, stage="main.in_processing", fields={"order_id": "A-2001"})
    engine.deploy(paid_process())
    files.add(automation("main", when("paid", "order.paid", actions=[act("notify", text='"Paid " + deal.nothing')])))
    result = send(engine, files, "order.paid", {"order_id": "A-2001", "amount": "100"}, key="pay-2")
    assert len(result.started) == 1 and result.evaluations[0]["outcome"] == "failed"

    files.add(automation("main", when("paid", "order.paid", actions=[act("notify", text='"Rule fixed"')])))
    with engine.unit() as rt:
        replayed = replay_event(rt, result.event_id, cause=STORE, automation=files)
    assert replayed.matched_rules == ["paid"] and replayed.started == result.started
    with engine.unit() as rt:
        assert rt.session.scalar(select(func.count()).select_from(ProcessInstance)) == 1
        assert notes_of(rt, deal_id) == ["Paid 100", "Rule fixed"]
