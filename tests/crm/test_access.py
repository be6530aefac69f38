"""S9, who sees what: stores see their own deals until a deal is shipped, then everyone's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.access import can, can_see_deal, can_see_task, visible_deals, visible_tasks
from crm.demo import load_demo
from crm.events import Cause
from crm.models import Deal, Task
from crm.service import Crm

CAUSE = Cause.system("test")


@pytest.fixture
def world(database, clock):
    with database.sessions() as session:
        crm = Crm(session, clock)
        load_demo(crm)
        session.commit()
        yield crm


def deal_in(crm: Crm, department: str, stage: str, title: str) -> Deal:
    return crm.create_deal(title=title, pipeline="main", stage=crm.stage(stage), department=department, cause=CAUSE)


def visible_titles(crm: Crm, login: str, titles: set[str]) -> set[str]:
    user = crm.user(login)
    listed = {d.title for d in crm.session.scalars(select(Deal).where(visible_deals(user))) if d.title in titles}
    one_by_one = {d.title for d in crm.session.scalars(select(Deal)) if d.title in titles and can_see_deal(user, d)}
    assert listed == one_by_one, "the list filter and the per-deal rule disagree"
    return listed


def test_managers_see_their_own_store_and_every_store_once_shipped(world):
    deal_in(world, "store_north", "main.in_processing", "north new")
    deal_in(world, "store_south", "main.in_processing", "south new")
    deal_in(world, "store_south", "main.shipped", "south shipped")
    deal_in(world, "store_south", "main.won", "south won")
    deal_in(world, "store_south", "main.lost", "south lost")
    titles = {"north new", "south new", "south shipped", "south won", "south lost"}
    assert visible_titles(world, "manager.north1", titles) == {"north new", "south shipped", "south won"}
    assert visible_titles(world, "head.south", titles) == {"south new", "south shipped", "south won", "south lost"}
    assert visible_titles(world, "admin", titles) == titles


def test_drivers_see_only_deals_they_have_a_task_for(world):
    mine = deal_in(world, "store_north", "main.delivery", "to deliver")
    deal_in(world, "store_north", "main.delivery", "someone else's")
    world.create_task(title="Deliver", deal=mine, assignee=world.user("driver1"), group="logistics", cause=CAUSE)
    titles = {"to deliver", "someone else's"}
    assert visible_titles(world, "driver1", titles) == {"to deliver"}
    assert visible_titles(world, "logist1", titles) == {"to deliver"}
    assert visible_titles(world, "driver2", titles) == set()


def test_the_responsible_sees_their_deal_wherever_it_belongs(world):
    world.create_deal(title="credit file", pipeline="credit", responsible=world.user("manager.north2"),
                      department="credit", cause=CAUSE)
    assert visible_titles(world, "manager.north2", {"credit file"}) == {"credit file"}
    assert visible_titles(world, "manager.north1", {"credit file"}) == set()


def test_permissions_follow_roles(world):
    assert can(world.user("designer"), "edit_robots")
    assert not can(world.user("manager.north1"), "edit_robots")
    assert can(world.user("manager.north1"), "start_processes")
    assert not can(world.user("driver1"), "start_processes")
    assert can(world.user("admin"), "manage_users")
    assert not can(world.user("head.north"), "manage_users")
    assert not can(world.user("admin"), "no such permission")


def visible_task_titles(crm: Crm, login: str) -> set[str]:
    user = crm.user(login)
    listed = {t.title for t in crm.session.scalars(select(Task).where(visible_tasks(user)))}
    one_by_one = {t.title for t in crm.session.scalars(select(Task)) if can_see_task(user, t)}
    assert listed == one_by_one, "the task list filter and the per-task rule disagree"
    return listed


def test_tasks_are_seen_by_their_assignee_their_group_and_those_who_see_the_deal(world):
    north = deal_in(world, "store_north", "main.in_processing", "north deal")
    south = deal_in(world, "store_south", "main.in_processing", "south deal")
    world.create_task(title="deliver north", deal=north, assignee=world.user("driver1"), group="logistics",
                      cause=CAUSE)
    world.create_task(title="call south", deal=south, assignee=world.user("manager.south1"), cause=CAUSE)
    world.create_task(title="buy parts", group="purchasing", cause=CAUSE)
    world.create_task(title="help north", deal=south, assignee=world.user("manager.north1"), cause=CAUSE)
    assert visible_task_titles(world, "driver1") == {"deliver north"}
    assert visible_task_titles(world, "driver2") == set()
    assert visible_task_titles(world, "logist1") == {"deliver north"}
    assert visible_task_titles(world, "purchaser1") == {"buy parts"}
    assert visible_task_titles(world, "manager.north1") == {"deliver north", "help north"}
    assert visible_task_titles(world, "head.south") == {"call south", "help north"}
    assert visible_task_titles(world, "admin") == {"deliver north", "call south", "buy parts", "help north"}
