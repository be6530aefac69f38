"""Built-in actions on the CRM: tasks, notifications, comments, new deals and leads, processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.models import Deal, Lead, Notification
from crm.records import user_record
from engine.actions import ActionContext, ActionInputError
from engine.models import ProcessInstance
from robots.actions import registry
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, demo_engine, make_deal, notes_of, tasks_of


@pytest.fixture
def world(database, clock):
    return demo_engine(database, clock)


def run(engine, name: str, deal_id: int | None, *positional, **named):
    """Call an action the way robots do: positional arguments named by the action's order."""
    with engine.unit() as rt:
        deal = rt.crm.deal(deal_id) if deal_id is not None else None
        params = registry.bind_args(name, list(positional), named)
        return registry.call(name, ActionContext(rt.crm, deal, TEST_CAUSE, unit=rt), params)


def feed(engine, login: str) -> list[str]:
    with engine.unit() as rt:
        return [n.text for n in rt.crm.notifications(login)]


class TestTasks:
    def test_create_task_for_a_user_due_in_a_duration(self, world):
        deal_id = make_deal(world)
        run(world, "create_task", deal_id, "Call the client", "manager.north1", "2d", group="sales")
        with world.unit() as rt:
            [task] = tasks_of(rt, deal_id)
            assert (task.title, task.assignee.login, task.group, task.column) == (
                "Call the client", "manager.north1", "sales", "new")
            assert task.deadline == datetime(2026, 1, 7, 9, 0, tzinfo=UTC)

    def test_create_task_takes_a_user_record_and_a_moment_from_an_expression(self, world):
        deal_id = make_deal(world)
        with world.unit() as rt:
            boss = user_record(rt.crm.user("head.north"))
        due = datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
        run(world, "create_task", deal_id, title="Check", to=boss, due=due)
        with world.unit() as rt:
            [task] = tasks_of(rt, deal_id)
            assert (task.assignee.login, task.deadline) == ("head.north", due)

    def test_complete_stage_tasks_closes_what_was_created_on_the_current_stage_only(self, world, clock):
        deal_id = make_deal(world, stage="main.in_processing")
        run(world, "create_task", deal_id, "Before the stage")
        clock.advance(timedelta(hours=1))
        with world.unit() as rt:
            rt.crm.move_deal(rt.crm.deal(deal_id), "product_agreement", cause=TEST_CAUSE)
        run(world, "create_task", deal_id, "Agree the product")
        run(world, "create_task", deal_id, "Agree the price")
        result = run(world, "complete_stage_tasks", deal_id)
        with world.unit() as rt:
            assert [(t.title, t.status) for t in tasks_of(rt, deal_id)] == [
                ("Before the stage", "open"), ("Agree the product", "done"), ("Agree the price", "done")]
        assert len(result["completed"]) == 2

    def test_complete_stage_tasks_of_a_group_whatever_the_stage(self, world):
        deal_id = make_deal(world)
        run(world, "create_task", deal_id, "Deliver", group="logistics")
        run(world, "create_task", deal_id, "Buy", group="purchasing")
        run(world, "complete_stage_tasks", deal_id, "logistics")
        with world.unit() as rt:
            assert [(t.title, t.status) for t in tasks_of(rt, deal_id)] == [("Deliver", "done"), ("Buy", "open")]

    def test_tasks_a_process_waits_on_are_left_alone_unless_asked(self, world):
        world.deploy(Bpmn("wait").start().user("drive", title="Drive", group="logistics").end()
                     .chain("start", "drive", "end").xml())
        deal_id = make_deal(world)
        instance = world.start("wait", deal_id)
        assert run(world, "complete_stage_tasks", deal_id)["completed"] == []
        assert len(run(world, "complete_stage_tasks", deal_id, process_tasks=True)["completed"]) == 1
        with world.unit() as rt:
            assert rt.instance(instance.id).status == "completed"


class TestNotifications:
    def test_notify_to_and_text_by_position(self, world):
        deal_id = make_deal(world)
        run(world, "notify", deal_id, "head.north", "Credit is stuck")
        assert feed(world, "head.north") == ["Credit is stuck"]

    def test_notify_without_a_recipient_tells_the_responsible(self, world):
        deal_id = make_deal(world)
        run(world, "notify", deal_id, text="Hello")
        assert feed(world, "manager.north1") == ["Hello"]

    def test_a_null_recipient_notifies_nobody_rather_than_the_wrong_person(self, world):
        deal_id = make_deal(world, responsible="head.north")  # a head has no supervisor
        with world.unit() as rt:
            supervisor = user_record(rt.crm.deal(deal_id).responsible.supervisor)
        assert supervisor is None
        result = run(world, "notify", deal_id, supervisor, "Credit is stuck")
        assert result["notified"] is None
        with world.unit() as rt:
            assert notes_of(rt, deal_id) == []

    def test_notify_supervisor_of_the_responsible_or_of_a_user(self, world):
        deal_id = make_deal(world)
        run(world, "notify_supervisor", deal_id, "Take it under control")
        run(world, "notify_supervisor", deal_id, "Driver late", "driver1")
        assert feed(world, "head.north") == ["Take it under control"]
        assert feed(world, "head.logistics") == ["Driver late"]

    def test_add_comment_writes_on_the_timeline(self, world):
        deal_id = make_deal(world)
        run(world, "add_comment", deal_id, "Client asked for a discount")
        with world.unit() as rt:
            entry = rt.crm.timeline(rt.crm.deal(deal_id))[-1]
            assert (entry.kind, entry.text, entry.cause_label) == ("comment", "Client asked for a discount", "test")


class TestNewRecords:
    def test_copy_deal_for_a_repeat_sale_in_main(self, world):
        deal_id = make_deal(world, stage="main.won", products=[{"name": "Bosch", "qty": 1, "price": "45990"}],
                            fields={"category": "washing_machines"})
        result = run(world, "copy_deal", deal_id, "in_processing", "Repeat sale")
        with world.unit() as rt:
            copy = rt.crm.deal(result["deal_id"])
            assert (copy.title, copy.stage.ref, copy.responsible.login) == (
                "Repeat sale", "main.in_processing", "manager.north1")
            assert copy.products[0]["name"] == "Bosch" and copy.fields == {"category": "washing_machines"}
            assert [e.kind for e in rt.crm.timeline(rt.crm.deal(deal_id))][-1] == "copied_to"

    def test_create_deal_finds_the_known_client_by_phone(self, world):
        result = run(world, "create_deal", None, title="Order SO-2001", stage="in_processing", amount="12990",
                     phone="8 916 111 22 33", contact_name="Ivan", fields={"order_id": "SO-2001"},
                     products=[{"name": "Kettle", "qty": 1, "price": "12990"}], source="store")
        with world.unit() as rt:
            deal = rt.crm.deal(result["deal_id"])
            assert (deal.stage.ref, deal.contact.name, str(deal.amount), deal.fields["order_id"]) == (
                "main.in_processing", "Ivan Sokolov", "12990.00", "SO-2001")
            assert deal.responsible is None

    def test_create_deal_creates_an_unknown_client(self, world):
        result = run(world, "create_deal", None, "main", "won", "Paid order", email="new@client.example",
                     contact_name="New Client", responsible="manager.south1")
        with world.unit() as rt:
            deal = rt.crm.deal(result["deal_id"])
            assert (deal.stage.ref, deal.contact.name, deal.contact.emails, deal.responsible.login) == (
                "main.won", "New Client", ["new@client.example"], "manager.south1")

    def test_create_deal_with_bad_input_creates_nothing(self, world):
        with world.unit() as rt:
            before = len(rt.session.scalars(select(Deal)).all())
        with pytest.raises(ActionInputError) as refused:
            run(world, "create_deal", None, title="Order", stage="nowhere", phone="+7 999 000 00 00")
        assert "stage" in refused.value.fields
        with world.unit() as rt:
            assert len(rt.session.scalars(select(Deal)).all()) == before
            assert rt.crm.find_contact(phone="+7 999 000 00 00") is None

    def test_create_lead_from_a_call(self, world):
        result = run(world, "create_lead", None, "Call from +7 999 123 45 67", phone="+7 999 123 45 67",
                     source="call", responsible="manager.north1")
        with world.unit() as rt:
            lead = rt.session.get(Lead, result["lead_id"])
            assert (lead.phone, lead.source, lead.status, lead.responsible_id) == (
                "+7 999 123 45 67", "call", "new", rt.crm.user("manager.north1").id)


class TestStartProcess:
    XML = (Bpmn("greet").parameter("text").start().service("tell", "notify", text="text").end()
           .chain("start", "tell", "end").xml())

    def test_starts_a_process_for_the_deal_in_the_same_transaction(self, world):
        world.deploy(self.XML)
        deal_id = make_deal(world)
        result = run(world, "start_process", deal_id, "greet", {"text": "Started by a robot"})
        assert result["status"] == "completed"
        with world.unit() as rt:
            instance = rt.session.get(ProcessInstance, result["instance_id"])
            assert (instance.key, instance.deal_id) == ("greet", deal_id)
            assert instance.started_by["kind"] == "user"
        assert feed(world, "manager.north1") == ["Started by a robot"]

    def test_a_refused_start_is_an_input_error_naming_what_is_missing(self, world):
        world.deploy(self.XML)
        deal_id = make_deal(world)
        with pytest.raises(ActionInputError, match="text") as refused:
            run(world, "start_process", deal_id, "greet")
        assert refused.value.fields["invalid_parameters"]
        with pytest.raises(ActionInputError, match="no process 'nothing'"):
            run(world, "start_process", deal_id, "nothing")

    def test_outside_an_engine_unit_there_is_no_runtime_to_start_with(self, world):
        deal_id = make_deal(world)
        from crm.service import Crm

        with world.db.transaction() as session:
            crm = Crm(session, world.clock)
            ctx = ActionContext(crm, crm.deal(deal_id), TEST_CAUSE)
            with pytest.raises(ActionInputError, match="runtime"):
                registry.call("start_process", ctx, {"process": "greet"})
            assert session.scalars(select(Notification)).all() == []
