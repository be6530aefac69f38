"""Tasks on kanban boards, the notification feed and comments, as the scenarios use them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from crm.errors import Conflict, InvalidInput
from crm.events import (
    Cause,
    NotificationCreated,
    TaskArchived,
    TaskAssigned,
    TaskCompleted,
    TaskCreated,
    TaskMoved,
)
from tests.crm.conftest import MANAGER_CAUSE

ROBOT = Cause("robot", "delivery", "Robot: delivery task")
LOGIST = Cause.user(3, "Larisa")


@pytest.fixture
def deal(world):
    return world.create_deal(title="Fridge", responsible="manager.north1", cause=MANAGER_CAUSE)


@pytest.fixture
def delivery(world, deal, clock):
    return world.create_task(
        title="Deliver the fridge",
        deal=deal,
        group="logistics",
        deadline=clock.now() + timedelta(days=1),
        data={"address": "Lesnaya 12", "amount_to_collect": Decimal("29980.00")},
        cause=ROBOT,
    )


def test_a_task_for_a_group_is_on_the_deal_timeline_and_announced(world, deal, delivery, published):
    assert (delivery.group, delivery.column, delivery.status) == ("logistics", "new", "open")
    assert delivery.data == {"address": "Lesnaya 12", "amount_to_collect": 29980}
    assert (delivery.created_by_kind, delivery.created_by_ref) == ("robot", "delivery")
    entry = world.timeline(deal)[-1]
    assert (entry.kind, entry.text, entry.cause_kind) == ("task_created", "Task created in logistics: "
                                                          "Deliver the fridge", "robot")  # fmt: skip
    assert published.of(TaskCreated) == [TaskCreated(delivery.id, deal.id, ROBOT)]


def test_a_task_can_stand_for_a_bpmn_user_task(world):
    task = world.create_task(title="Approve", process_instance_id=7, element_id="approve", cause=ROBOT)

    assert world.tasks_for_element(7, "approve") == [task]


def test_bad_task_input_is_listed(world):
    with pytest.raises(InvalidInput) as refused:
        world.create_task(title=" ", deal=999, assignee="nobody", deadline="soon", cause=ROBOT)

    assert set(refused.value.fields) == {"title", "deal", "assignee", "deadline"}


def test_assigning_a_driver(world, delivery, published):
    world.assign_task(delivery, "driver1", cause=LOGIST)
    world.assign_task(delivery, "driver1", cause=LOGIST)

    assert delivery.assignee.login == "driver1"
    [assigned] = published.of(TaskAssigned)
    assert (assigned.from_user_id, assigned.to_user_id) == (None, delivery.assignee_id)


def test_dragging_to_another_column_is_announced_once(world, deal, delivery, published):
    world.move_task(delivery, "problem", cause=LOGIST)
    world.move_task(delivery, "problem", cause=LOGIST)

    assert published.of(TaskMoved) == [TaskMoved(delivery.id, deal.id, "new", "problem", LOGIST)]
    assert world.timeline(deal)[-1].text == "Task 'Deliver the fridge': new → problem"


def test_completing_records_who_and_when_and_only_once(world, deal, delivery, clock, published):
    clock.advance(timedelta(hours=3))
    driver = world.user("driver1")

    world.complete_task(delivery, cause=Cause.user(driver.id), result={"collected": Decimal("29980")})

    assert (delivery.status, delivery.completed_at, delivery.completed_by_id) == ("done", clock.now(), driver.id)
    assert delivery.data["result"] == {"collected": 29980}
    assert published.of(TaskCompleted) == [TaskCompleted(delivery.id, deal.id, Cause.user(driver.id))]
    with pytest.raises(Conflict) as twice:
        world.complete_task(delivery, cause=Cause.user(driver.id))
    assert twice.value.code == "task_not_open"


def test_archiving_takes_a_task_off_the_board_once(world, delivery, published):
    world.archive_task(delivery, cause=ROBOT)
    world.archive_task(delivery, cause=ROBOT)

    assert delivery.status == "archived"
    assert len(published.of(TaskArchived)) == 1
    with pytest.raises(Conflict):
        world.move_task(delivery, "done", cause=LOGIST)


def test_notifying_a_manager_about_a_deal(world, deal, clock, published):
    note = world.notify("manager.north1", "Client called", deal=deal, kind="call", cause=ROBOT)

    assert (note.user.login, note.text, note.kind, note.created_at) == (
        "manager.north1", "Client called", "call", clock.now(),
    )  # fmt: skip
    assert world.timeline(deal)[-1].text == "Notified Anna Belova: Client called"
    assert published.of(NotificationCreated) == [NotificationCreated(note.id, note.user_id, deal.id, ROBOT)]
    assert world.notifications("manager.north1", unread_only=True) == [note]

    world.mark_read(note, cause=MANAGER_CAUSE)
    assert world.notifications("manager.north1", unread_only=True) == []


def test_a_comment_goes_on_the_timeline_with_its_author(world, deal):
    entry = world.add_comment(deal, "Client asks for evening delivery", cause=MANAGER_CAUSE)

    assert world.timeline(deal)[-1] is entry
    assert (entry.kind, entry.cause_label) == ("comment", "Anna Belova")


def test_timestamps_come_back_timezone_aware_from_the_database(world, database, delivery):
    world.session.commit()

    with database.sessions() as fresh:
        task = fresh.get(type(delivery), delivery.id)
        assert task.deadline == datetime(2026, 1, 6, 9, 0, tzinfo=UTC)
