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


# --- deliveries: planning a driver's day, the load sheet, counts for bonuses -------------------


def test_planning_gives_the_task_a_driver_and_a_due_time_on_the_timeline(world, deal, delivery, published):
    due = datetime(2026, 1, 6, 7, 0, tzinfo=UTC)
    world.plan_task(delivery, "driver1", deadline=due, cause=LOGIST)
    assert (delivery.assignee.login, delivery.deadline) == ("driver1", due)
    assert [e.kind for e in world.timeline(deal)][-2:] == ["task_assigned", "task_scheduled"]
    assert len(published.of(TaskAssigned)) == 1


def test_planning_with_bad_values_lists_them_all_and_changes_nothing(world, deal, delivery):
    before = (delivery.assignee_id, delivery.deadline, len(world.timeline(deal)))
    with pytest.raises(InvalidInput) as refused:
        world.plan_task(delivery, "nobody", deadline="next tuesday-ish", cause=LOGIST)
    assert set(refused.value.fields) == {"assignee_id", "deadline"}
    assert (delivery.assignee_id, delivery.deadline, len(world.timeline(deal))) == before


def test_a_finished_task_cannot_be_planned_again(world, delivery):
    world.complete_task(delivery, cause=LOGIST)
    with pytest.raises(Conflict):
        world.plan_task(delivery, "driver1", cause=LOGIST)


def test_the_load_sheet_holds_the_drivers_deliveries_of_their_local_day_in_order(world, deal):
    driver = world.user("driver1")
    driver.timezone = "Europe/Moscow"
    moscow = timedelta(hours=3)

    def delivery_at(local: datetime, group: str = "logistics", who: str | None = "driver1"):
        return world.create_task(title=f"Deliver at {local:%d %H:%M}", deal=deal, group=group, assignee=who,
                                 deadline=(local - moscow).replace(tzinfo=UTC), cause=ROBOT)

    late = delivery_at(datetime(2026, 1, 6, 16, 0))
    early = delivery_at(datetime(2026, 1, 6, 0, 30))  # still Jan 5 in UTC
    delivery_at(datetime(2026, 1, 7, 1, 0))  # still Jan 6 in UTC
    delivery_at(datetime(2026, 1, 6, 12, 0), who="manager.north1")
    delivery_at(datetime(2026, 1, 6, 12, 0), group="purchasing")
    sheet = world.load_sheet("driver1", datetime(2026, 1, 6).date())
    assert [task.id for task in sheet] == [early.id, late.id]


def test_deliveries_are_counted_per_driver_in_the_period_they_were_completed(world, deal, clock):
    def delivered(who: str | None, done: bool = True):
        task = world.create_task(title="Deliver", deal=deal, group="logistics", assignee=who, cause=ROBOT)
        if done:
            world.complete_task(task, cause=LOGIST)
        return task

    delivered("driver1")
    world.archive_task(delivered("driver1"), cause=LOGIST)
    delivered("manager.north1")
    delivered(None)
    delivered("driver1", done=False)
    start = clock.now()
    clock.advance(timedelta(days=1))
    delivered("driver1")
    counts = [(user.login, n) for user, n in world.delivery_counts(start, start + timedelta(days=1))]
    assert counts == [("driver1", 2), ("manager.north1", 1)]
    two_days = [(user.login, n) for user, n in world.delivery_counts(start, start + timedelta(days=2))]
    assert two_days == [("driver1", 3), ("manager.north1", 1)]


def test_a_title_longer_than_the_column_is_shortened_with_an_ellipsis_not_refused(world, deal):
    """Titles are rendered from templates ("Deliver {deal.title} to ..."): the task must still exist."""
    task = world.create_task(title="Deliver " + "x" * 400, deal=deal, group="logistics", cause=ROBOT)
    world.session.commit()
    world.session.expire_all()
    assert len(task.title) == 300 and task.title.startswith("Deliver xxx") and task.title.endswith("x…")
    long_deal = world.create_deal(title="y" * 301, responsible="manager.north1", cause=MANAGER_CAUSE)
    lead = world.create_lead(title="z" * 500, cause=MANAGER_CAUSE)
    world.session.commit()
    assert long_deal.title == "y" * 299 + "…" and lead.title == "z" * 299 + "…"


def test_a_title_that_fits_is_kept_as_it_is(world, deal):
    task = world.create_task(title="t" * 300, deal=deal, cause=ROBOT)
    assert task.title == "t" * 300
