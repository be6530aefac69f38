"""Pipelines, stages, field definitions and users: the set-up every deal relies on."""

from __future__ import annotations

import pytest

from crm.errors import Conflict, InvalidInput, NotFound
from crm.events import Cause
from tests.crm.conftest import SETUP

ADMIN = Cause("user", "1", "admin")


def test_a_pipeline_needs_a_start_a_won_and_a_lost_stage(world):
    with pytest.raises(InvalidInput) as refused:
        world.create_pipeline("bad", "", [{"code": "open"}, {"code": "open"}, {"code": "x", "kind": "meh"}],
                              cause=ADMIN)  # fmt: skip

    assert refused.value.fields == {
        "name": "is required",
        "stages[1].code": "stage 'open' appears twice",
        "stages[2].kind": "must be one of: in_progress, won, lost",
        "stages": "a pipeline needs at least one won stage",
    }


def test_the_first_stage_starts_a_pipeline_unless_another_is_marked(world):
    pipeline = world.create_pipeline(
        "repair", "Repair", [{"code": "a"}, {"code": "b", "is_start": True}, {"code": "ok", "kind": "won"},
                             {"code": "ko", "kind": "lost"}], cause=ADMIN,
    )  # fmt: skip

    assert world.start_stage(pipeline).code == "b"
    assert [stage.code for stage in pipeline.stages] == ["a", "b", "ok", "ko"]


def test_stages_are_found_qualified_or_relative_to_a_pipeline(world):
    main = world.pipeline("main")

    assert world.stage("credit.documents").pipeline.code == "credit"
    assert world.stage("won", main).ref == "main.won"
    assert world.stage("documents", "credit").ref == "credit.documents"
    with pytest.raises(NotFound, match="pipelines: main, credit"):
        world.stage("leasing.new")
    with pytest.raises(NotFound, match=r"pipeline\.stage"):
        world.stage("won")


def test_closing_and_start_stages_cannot_be_deleted(world):
    for stage, code in [("main.won", "closing_stage"), ("main.lost", "closing_stage"), ("main.new", "start_stage")]:
        with pytest.raises(Conflict) as refused:
            world.delete_stage(stage, cause=ADMIN)
        assert refused.value.code == code
        assert world.stage(stage)


def test_an_ordinary_empty_stage_can_be_deleted_but_not_one_holding_deals(world):
    world.create_deal(title="Kettle", stage="in_processing", cause=ADMIN)

    with pytest.raises(Conflict) as refused:
        world.delete_stage("main.in_processing", cause=ADMIN)
    assert refused.value.code == "stage_not_empty"

    world.delete_stage("main.delivery", cause=ADMIN)
    world.session.commit()
    assert [stage.code for stage in world.pipeline("main").stages] == ["new", "in_processing", "won", "lost"]


def test_a_new_ordinary_stage_goes_before_the_closing_ones(world):
    world.add_stage("main", code="shipped", name="Shipped", cause=ADMIN)
    world.add_stage("main", code="check", name="Check", after="new", cause=ADMIN)

    codes = [stage.code for stage in world.pipeline("main").stages]
    assert codes == ["new", "check", "in_processing", "delivery", "shipped", "won", "lost"]


def test_field_defs_of_a_pipeline_include_global_ones(world):
    main, credit = world.pipeline("main"), world.pipeline("credit")

    assert "bank_officer" not in world.field_defs(main)
    assert {"bank", "bank_officer"} <= set(world.field_defs(credit))


def test_field_defs_are_checked(world):
    with pytest.raises(InvalidInput) as refused:
        world.create_field_def(code="amount", name="Amount", type="colour", cause=SETUP)
    assert set(refused.value.fields) == {"code", "type"}

    with pytest.raises(InvalidInput, match="needs its options"):
        world.create_field_def(code="size", name="Size", type="enum", cause=SETUP)
    with pytest.raises(InvalidInput, match="already exists"):
        world.create_field_def(code="bank", name="Bank", type="string", cause=SETUP)


def test_users_are_found_by_id_or_login_with_their_department_and_supervisor(world):
    anna = world.user("manager.north1")

    assert world.user(anna.id) is anna
    assert anna.department.code == "store_north"
    assert anna.supervisor.login == "head.north"
    assert world.department("store_north").head.login == "head.north"
    with pytest.raises(NotFound):
        world.user("nobody")


def test_user_input_is_checked_all_at_once(world):
    with pytest.raises(InvalidInput) as refused:
        world.create_user(login="manager.north1", name="Twin", roles=["wizard"], department="moon",
                          working_hours={"mon": ["18:00", "09:00"]}, cause=SETUP)  # fmt: skip

    assert set(refused.value.fields) == {"login", "roles", "department", "working_hours.mon"}


def test_users_can_be_listed_by_role_and_presence(world):
    world.set_presence("manager.north1", False, cause=ADMIN)

    assert [user.login for user in world.users(role="manager")] == ["head.north", "manager.north1"]
    assert [user.login for user in world.users(role="manager", present=True)] == ["head.north"]
