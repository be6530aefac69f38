"""The demo store: the world of SCENARIOS.md, loaded once however often it is asked for."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from crm.demo import load_demo
from crm.models import Contact, Deal, Department, Pipeline, User
from crm.service import Crm


@pytest.fixture
def demo(database, clock) -> Crm:
    with database.transaction() as session:
        load_demo(Crm(session, clock))
    with database.transaction() as session:
        load_demo(Crm(session, clock))
    session = database.sessions()
    yield Crm(session, clock)
    session.close()


def count(crm: Crm, model) -> int:
    return crm.session.scalar(select(func.count(model.id)))


def test_loading_twice_creates_everything_once(demo):
    assert count(demo, Pipeline) == 4
    assert count(demo, Deal) == 12
    assert count(demo, Department) == 5
    assert count(demo, User) == 17
    assert count(demo, Contact) == 5


def test_pipelines_are_those_of_the_scenarios(demo):
    def codes(pipeline: str) -> list[str]:
        return [stage.code for stage in demo.pipeline(pipeline).stages]

    assert codes("main") == ["new", "in_processing", "product_agreement", "order_assembly", "shipped",
                             "delivery", "delivery_check", "won", "lost"]  # fmt: skip
    assert codes("credit") == codes("installment") == ["new", "documents", "bank_review", "approved", "rejected"]
    assert (demo.stage("credit.approved").kind, demo.stage("credit.rejected").kind) == ("won", "lost")
    assert [(s.code, s.kind) for s in demo.pipeline("warehouse").stages] == [
        ("stored", "in_progress"), ("returned", "won"), ("cancelled", "lost"),
    ]  # fmt: skip


def test_every_department_has_a_head_who_supervises_its_people(demo):
    for department in demo.session.scalars(select(Department)):
        assert department.head is not None
        for user in demo.users(department=department):
            assert user.supervisor_id == (None if user.id == department.head_id else department.head_id)
            assert user.working_hours["mon"] == ["09:00", "18:00"]


def test_the_deals_show_off_the_scenarios(demo):
    deals = list(demo.session.scalars(select(Deal).order_by(Deal.id)))
    stages = Counter(deal.stage.code for deal in deals)
    credit_fields = ["credit_type", "bank", "id_document", "term_months", "down_payment"]

    assert len(stages) >= 8
    assert any(not demo.missing_fields(deal, credit_fields) for deal in deals)
    [delivery] = [deal for deal in deals if deal.stage.code == "delivery"]
    assert delivery.fields["delivery_address"] and delivery.products and delivery.contact.phones
    assert demo.record(delivery).dsl_get("amount_to_collect") > 0
    assert all(entry.cause_label == "demo" for entry in demo.timeline(delivery))


def test_demo_logins_stay_stable(demo):
    for login in ["admin", "designer", "head.north", "manager.north1", "manager.north2", "head.south",
                  "manager.south1", "logist1", "driver1", "driver2", "purchaser1", "head.credit"]:  # fmt: skip
        assert demo.user(login).active
    assert demo.find_contact(phone="+79161112233").name == "Ivan Sokolov"
