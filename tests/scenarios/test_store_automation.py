"""S1, S3, S5-S8 end to end, as the store runs them: events in, shipped robots and triggers, processes.

The app is built the way `dealflow run` builds it (demo world, shipped processes and
automation; the `engine` fixture of conftest.py), on SQLite and on PostgreSQL; only the clock
is virtual. test_store_over_http_*.py drive the same scenarios through the HTTP API alone.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from crm.events import Cause
from crm.models import Deal, Lead, Notification, Task, User
from engine.models import ProcessInstance
from engine.virtual_time import advance
from tests.support.world import make_deal
from tests.support.world import store_order as order
from triggers.intake import accept_event

STORE = Cause("system", "store", "online store")


def send(engine, event_type: str, payload: dict, key: str | None = None, source: str = "store"):
    with engine.unit() as rt:
        return accept_event(rt, event_type, payload, idempotency_key=key, source=source, cause=STORE)


def deal_of_order(engine, order_id: str) -> Deal | None:
    with engine.unit() as rt:
        return rt.session.scalars(select(Deal).where(Deal.fields["order_id"].as_string() == order_id)).first()


def feed(engine, login: str) -> list[str]:
    with engine.unit() as rt:
        user = rt.crm.user(login)
        return [n.text for n in rt.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))]


def where(engine, deal_id: int) -> str:
    with engine.unit() as rt:
        deal = rt.session.get(Deal, deal_id)
        return f"{deal.pipeline.code}.{deal.stage.code}"


def login_of(engine, user_id: int | None) -> str | None:
    with engine.unit() as rt:
        return rt.session.get(User, user_id).login if user_id else None


# ---------------------------------------------------------------------- S5 orders


def test_s5_a_new_order_becomes_a_routed_deal_and_its_manager_is_told(engine):
    send(engine, "order.created", order("A-1"))
    deal = deal_of_order(engine, "A-1")
    assert where(engine, deal.id) == "main.in_processing"
    assert deal.fields["payment_status"] == "unpaid"
    assert deal.fields["delivery_address"] == "Tverskaya 1, Moscow"
    assert deal.products == [{"name": "Dishwasher Bosch", "qty": 1, "price": 45990, "category": "kitchen"}]
    manager = login_of(engine, deal.responsible_id)
    assert manager in ("head.north", "manager.north1")  # manager.north2 is away in the demo
    assert feed(engine, manager) == ["New order deal Order A-1: please call the client"]


def test_s5_orders_are_given_in_turn_to_the_managers_present(engine):
    for n in range(4):
        send(engine, "order.created", order(f"T-{n}", customer={"name": f"C{n}", "phone": f"+7 900 000-00-0{n}"}))
    managers = [login_of(engine, deal_of_order(engine, f"T-{n}").responsible_id) for n in range(4)]
    assert managers[0] != managers[1] and managers[:2] == managers[2:]
    assert "manager.north2" not in managers


def test_s5_the_same_order_sent_twice_makes_one_deal(engine):
    first = send(engine, "order.created", order("A-2"), key="store-evt-1")
    again = send(engine, "order.created", order("A-2"), key="store-evt-1")
    other_key = send(engine, "order.created", order("A-2"), key="store-evt-2")
    assert (first.duplicate, again.duplicate) == (False, True)
    with engine.unit() as rt:
        count = rt.session.scalar(select(func.count()).select_from(Deal).where(
            Deal.fields["order_id"].as_string() == "A-2"))
    assert count == 1
    assert other_key.deal_ids == [deal_of_order(engine, "A-2").id]
    assert other_key.note == f"order A-2 already has deal {deal_of_order(engine, 'A-2').id}: no new deal"


def test_s5_a_paid_and_shipped_order_is_won_at_once(engine):
    send(engine, "order.created", order("A-3", paid=True, shipped=True, status="shipped"))
    assert where(engine, deal_of_order(engine, "A-3").id) == "main.won"


def test_s5_a_big_order_goes_to_the_head_of_the_store(engine):
    send(engine, "order.created", order("A-4", amount="450000"))
    assert login_of(engine, deal_of_order(engine, "A-4").responsible_id) == "head.north"


def test_s5_order_paid_tells_the_manager(engine):
    send(engine, "order.created", order("A-5"))
    send(engine, "order.paid", {"order_id": "A-5", "paid": True})
    deal = deal_of_order(engine, "A-5")
    assert deal.fields["payment_status"] == "paid"
    assert feed(engine, login_of(engine, deal.responsible_id))[-1] == "Order A-5 is paid"


def test_s5_an_order_left_unpaid_makes_a_robot_remind_the_manager_to_call(engine, clock):
    send(engine, "order.created", order("A-6"))
    send(engine, "order.created", order("A-7", customer={"name": "Oleg", "phone": "+7 903 555-07-07"}))
    send(engine, "order.paid", {"order_id": "A-7", "paid": True})
    advance(engine, clock, timedelta(days=1, minutes=1))
    with engine.unit() as rt:
        titles = {t.deal_id: t.title for t in rt.session.scalars(select(Task))}
    unpaid, paid = deal_of_order(engine, "A-6"), deal_of_order(engine, "A-7")
    assert titles.get(unpaid.id) == "Call Irina Petrova: order A-6 is not paid yet"
    assert paid.id not in titles


# ---------------------------------------------------------------------- S6 channels


def test_s6_a_call_from_an_unknown_number_creates_a_lead(engine):
    send(engine, "call.incoming", {"phone": "+7 999 000-00-01"}, source="pbx")
    with engine.unit() as rt:
        leads = rt.session.scalars(select(Lead)).all()
    assert [(lead.title, lead.source) for lead in leads] == [("Call from +7 999 000-00-01", "call")]


def test_s6_a_call_from_a_known_client_goes_to_the_deals_manager(engine):
    send(engine, "order.created", order("B-1"))
    send(engine, "call.incoming", {"phone": "8 903 555 01 02"}, source="pbx")
    manager = login_of(engine, deal_of_order(engine, "B-1").responsible_id)
    assert feed(engine, manager)[-1] == "Irina Petrova is calling (8 903 555 01 02) about Order B-1"
    with engine.unit() as rt:
        assert rt.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_s6_mail_from_a_marketplace_makes_a_lead_others_only_notify_and_blocked_is_ignored(engine):
    send(engine, "email.received", {"from": "orders@ozon.ru", "subject": "Order 77 from Ozon"}, source="mail")
    send(engine, "email.received", {"from": "someone@example.com", "subject": "Question"}, source="mail")
    send(engine, "email.received", {"from": "spam@mailer.example", "subject": "Buy now"}, source="mail")
    with engine.unit() as rt:
        leads = [(lead.title, lead.source) for lead in rt.session.scalars(select(Lead))]
    assert leads == [("Order 77 from Ozon", "marketplace")]
    assert feed(engine, "head.north") == ["Mail from someone@example.com: Question"]


def test_s6_a_web_form_makes_a_lead_for_the_forms_responsible_who_is_told(engine):
    send(engine, "form.submitted", {"form": "callback", "name": "Pavel", "phone": "+7 911 222-33-44",
                                    "responsible": "manager.south1"}, source="site")
    with engine.unit() as rt:
        lead = rt.session.scalars(select(Lead)).one()
        assert (lead.title, rt.session.get(User, lead.responsible_id).login) == ("Form callback: Pavel",
                                                                                 "manager.south1")
    assert feed(engine, "manager.south1") == ["New lead from the form callback: Pavel"]


# ---------------------------------------------------------------------- S7 duplicates


def test_s7_deals_of_one_client_in_two_stores_notify_both_managers_and_heads_once(engine):
    send(engine, "order.created", order("C-1"))
    send(engine, "order.created", order("C-2", department="store_south"))
    north, south = deal_of_order(engine, "C-1"), deal_of_order(engine, "C-2")
    people = {login_of(engine, north.responsible_id), login_of(engine, south.responsible_id), "head.north",
              "head.south"}

    def flagged() -> dict[str, int]:
        return {login: sum("duplicate" in text.lower() for text in feed(engine, login)) for login in people}

    assert set(flagged().values()) == {1}
    send(engine, "order.created", order("C-3", department="store_north", customer={"name": "Other",
                                                                                  "phone": "+7 900 123-45-67"}))
    with engine.unit() as rt:  # the south deal is checked again on re-entering its stage
        rt.crm.move_deal(rt.crm.deal(south.id), "main.new", cause=STORE)
        rt.crm.move_deal(rt.crm.deal(south.id), "main.in_processing", cause=STORE)
    assert set(flagged().values()) == {1}


# ---------------------------------------------------------------------- S8 repeat sale


def test_s8_half_a_year_after_a_win_a_repeat_sale_deal_is_created_and_the_manager_reminded(engine, clock):
    deal_id = make_deal(engine, stage="main.delivery_check", title="Fridge for Anna")
    with engine.unit() as rt:
        rt.crm.move_deal(rt.crm.deal(deal_id), "main.won", cause=STORE)
    advance(engine, clock, timedelta(days=179))
    with engine.unit() as rt:
        assert rt.session.scalars(select(Deal).where(Deal.title == "Repeat sale: Fridge for Anna")).all() == []
    advance(engine, clock, timedelta(days=1))
    with engine.unit() as rt:
        copy = rt.session.scalars(select(Deal).where(Deal.title == "Repeat sale: Fridge for Anna")).one()
        assert f"{copy.pipeline.code}.{copy.stage.code}" == "main.new"
    assert any("repeat sale" in text.lower() for text in feed(engine, "manager.north1"))


# ---------------------------------------------------------------------- S1 and S3 with their robots


CREDIT = {"credit_type": "installment", "bank": "Tinkoff", "id_document": "4510 123456", "term_months": 6,
          "down_payment": 0}


def test_s1_the_installment_robot_reminds_the_manager_at_the_ready_date_and_the_bank_answer_moves_back(
        engine, clock):
    deal_id = make_deal(engine, stage="main.product_agreement", fields=CREDIT, title="TV on installments")
    engine.start("send_to_bank", deal_id, {"ready_date": "2026-01-08T09:00:00Z"})
    assert where(engine, deal_id) == "installment.new"
    advance(engine, clock, timedelta(days=2, hours=23))
    assert feed(engine, "manager.north1") == []
    advance(engine, clock, timedelta(hours=1))
    assert feed(engine, "manager.north1") == [
        "Ready date for the installment of TV on installments: contact the client"]
    send(engine, "bank.decision", {"deal_id": deal_id, "approved": True}, source="bank")
    assert where(engine, deal_id) == "main.order_assembly"


def test_s3_entering_delivery_starts_courier_delivery_and_the_driver_closing_the_task_moves_the_deal(engine):
    deal_id = make_deal(engine, stage="main.shipped", title="Washer to Lenina 5",
                        fields={"delivery_address": "Lenina 5", "amount_to_collect": 1000})
    with engine.unit() as rt:
        rt.crm.move_deal(rt.crm.deal(deal_id), "main.delivery", cause=STORE)
    with engine.unit() as rt:
        instance = rt.session.scalars(select(ProcessInstance).where(ProcessInstance.deal_id == deal_id)).one()
        assert instance.key == "courier_delivery"
        task = rt.session.scalars(select(Task).where(Task.deal_id == deal_id, Task.group == "logistics")).one()
        rt.crm.complete_task(task, cause=STORE)
    assert where(engine, deal_id) == "main.delivery_check"


def test_s3_a_deal_with_a_title_as_long_as_allowed_still_gets_its_delivery_task(engine):
    """The template "Deliver {deal.title} to {deal.delivery_address}" outgrows the task title."""
    title = "Washer " + "w" * 293
    deal_id = make_deal(engine, stage="main.shipped", title=title,
                        fields={"delivery_address": "Lenina 5", "amount_to_collect": 1000})
    with engine.unit() as rt:
        rt.crm.move_deal(rt.crm.deal(deal_id), "main.delivery", cause=STORE)
    with engine.unit() as rt:
        instance = rt.session.scalars(select(ProcessInstance).where(ProcessInstance.deal_id == deal_id)).one()
        assert instance.status == "running"
        task = rt.session.scalars(select(Task).where(Task.deal_id == deal_id, Task.group == "logistics")).one()
        assert len(task.title) == 300 and task.title.startswith(f"Deliver {title[:50]}") and task.title.endswith("…")
        rt.crm.complete_task(task, cause=STORE)
    assert where(engine, deal_id) == "main.delivery_check"
