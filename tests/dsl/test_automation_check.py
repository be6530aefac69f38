"""Save-time checks: what an automation file names must exist and literal values must fit."""

from __future__ import annotations

import pytest

from dsl.automation_check import check_automation
from dsl.automation_parser import parse_automation
from tests.dsl.automation_samples import CREDIT, MAIN, STORE, catalog


def problems(text: str) -> list[tuple[int | None, int | None, str]]:
    return [(e.line, e.column, e.message) for e in check_automation(parse_automation(text), catalog())]


def in_robot(action: str, header: str = "robot") -> list[tuple[int | None, int | None, str]]:
    """Problems of one action line (line 4, column 5) in a robot of stage `documents`."""
    return problems(f"pipeline credit\nstage documents:\n  {header}:\n    {action}\n")


def messages(found: list[tuple[int | None, int | None, str]]) -> list[str]:
    return [message for _, _, message in found]


@pytest.mark.parametrize("text", [CREDIT, STORE, MAIN])
def test_the_examples_are_valid(text):
    assert problems(text) == []


def test_every_problem_has_a_kind_line_and_column():
    (error,) = check_automation(parse_automation("pipeline credit\nstage nope:\n  robot:\n    x()\n"), catalog())[:1]
    assert error.to_dict()["kind"] == "check"


def test_unknown_action():
    assert in_robot("notfy(text: 'x')") == [(4, 5, "unknown action 'notfy'; did you mean 'notify'?")]


def test_unknown_parameter():
    assert in_robot("notify(text: 'x', txt: 'y')") == [(4, 23, "notify has no parameter 'txt'; did you mean 'text'?")]


def test_missing_required_parameter():
    assert in_robot("create_task(to: deal.responsible)") == [(4, 5, "create_task needs 'title'")]


def test_too_many_positional_arguments():
    assert in_robot("notify(deal.responsible, 'a', 'b')") == [
        (4, 35, "too many arguments without a name: notify takes 2 (to, text)")
    ]
    assert messages(in_robot("create_task('x')")) == [
        "create_task needs 'title'",
        "name the arguments of create_task, like to: ...",
    ]


def test_positional_after_named_and_twice_given():
    assert messages(in_robot("notify(text: 'a', deal.responsible)")) == [
        "an argument without a name cannot follow a named one"
    ]
    assert messages(in_robot("notify(deal.responsible, 'a', text: 'b')")) == ["'text' is given twice"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("title: 'x', due: 'tomorrow'", "'due' needs a datetime, not text"),
        ("title: 'x', hours: '5'", "'hours' needs a number, not text"),
        ("title: 'x', hours: 'about {deal.amount}'", "'hours' needs a number, not text"),
        ("title: 'x', hours: true", "'hours' needs a number, not true or false"),
        ("title: ['a']", "'title' needs text, not a list"),
        ("title: 'x', due: true", "'due' needs a datetime, not true or false"),
    ],
)
def test_literal_of_the_wrong_type(args, message):
    assert messages(in_robot(f"create_task({args})")) == [message]


@pytest.mark.parametrize(
    "args",
    [
        "title: 'x', due: '2026-01-05'",
        "title: 'x', due: 2026-01-05T10:00",
        "title: 'x', due: 4h",  # a duration where a moment is expected: that long from now
        "title: 42, hours: -1.5",
        "title: 'x', due: deal.title",  # not a literal: known only at run time
        "title: 'x', due: null, hours: null",
        "title: 'x', due: 'on {deal.ready_date}'",
        "title: 'x', to: 'ivan'",
    ],
)
def test_literals_that_fit_and_expressions_are_accepted(args):
    assert in_robot(f"create_task({args})") == []


def test_durations_booleans_and_dicts():
    assert messages(in_robot("wait(period: 5, flag: 'yes', data: 'x')")) == [
        "'period' needs a duration, not a number",
        "'flag' needs true or false, not text",
        "'data' needs a dict, not text",
    ]
    assert in_robot("wait(period: 'PT2H', flag: not deal.paid)") == []


def test_unknown_stages_in_blocks_move_to_and_stage_parameters():
    assert problems("pipeline credit\nstage documnts:\n  robot:\n    move_to main.won\n") == [
        (2, 1, "pipeline 'credit' has no stage 'documnts'; did you mean 'documents'?")
    ]
    assert messages(in_robot("move_to nowhere\n    move_to main.nope\n    move_to mian.won\n    move_to approved")) == [
        "pipeline 'credit' has no stage 'nowhere'",
        "pipeline 'main' has no stage 'nope'",
        "unknown pipeline 'mian'; did you mean 'main'?",
    ]
    assert messages(in_robot("create_deal(pipeline: 'main', stage: 'documents')")) == [
        "pipeline 'main' has no stage 'documents'"
    ]


def test_a_stage_block_may_appear_once():
    assert messages(problems("pipeline credit\nstage new:\n  robot:\n    a()\nstage new:\n  robot:\n    a()\n")) == [
        "unknown action 'a'",
        "stage 'new' already has a block on line 2",
        "unknown action 'a'",
    ]


def test_unknown_pipeline():
    assert problems("pipeline nope\n") == [(1, 1, "unknown pipeline 'nope'")]


def test_unknown_deal_fields():
    found = problems(
        "pipeline credit\nstage documents:\n  robot at deal.ready_dat if deal.responsible.nme == 'x':\n"
        "    notify(text: '{deal.contact.phones[0]} {deal.contact.adress} {deal.products[0].price}')\n"
    )
    assert found == [
        (3, 17, "deal has no field 'ready_dat'; did you mean 'ready_date'?"),
        (3, 47, "'responsible' has no field 'nme'; did you mean 'name'?"),
        (4, 58, "'contact' has no field 'adress'"),
    ]


def test_record_fields_follow_supervisors():
    assert in_robot("notify(deal.responsible.supervisor.supervisor.department, 'x')") == []
    assert messages(in_robot("notify(deal.responsible.supervisor.boss, 'x')")) == ["'supervisor' has no field 'boss'"]


def test_unknown_events_and_event_fields():
    found = problems(
        "pipeline credit\nstage approved:\n  trigger on bank.desicion if event.x\n"
        "  trigger on bank.decision if event.aproved or event.deal_id > 0\n"
    )
    assert found == [
        (3, 3, "unknown event 'bank.desicion'; did you mean 'bank.decision'?"),
        (4, 37, "event 'bank.decision' has no field 'aproved'; did you mean 'approved'?"),
    ]


def test_deal_in_a_global_file():
    found = problems('global\ntrigger on order.created if deal.amount > 0:\n  create_deal(pipeline: "main")\n')
    assert found == [(2, 29, "a global file has no deal: its events concern no deal yet")]


def test_a_global_file_has_no_stages_and_needs_pipelines_named():
    found = messages(
        problems("global\nstage new:\n  robot:\n    notify(text: 'x')\ntrigger on order.created:\n  move_to won\n")
    )
    assert found == [
        "a global file has no stages: its events concern no deal yet",
        "say which pipeline 'won' is in, like main.won",
    ]


def test_duplicate_names():
    found = problems(
        "pipeline credit\nstage new:\n  robot 'Call':\n    notify(text: 'x')\n"
        "stage documents:\n  robot 'call':\n    notify(text: 'x')\n  then 'call!':\n    notify(text: 'x')\n"
    )
    assert found == [
        (6, 3, "another robot on line 3 already has this name"),
        (8, 3, "another robot on line 3 already has this name"),
    ]


def test_a_top_level_trigger_needs_actions():
    assert problems("pipeline credit\ntrigger on bank.decision\n") == [
        (2, 1, "a trigger outside a stage needs actions: say what it does after ':'")
    ]


def test_an_item_name_is_not_checked_as_a_deal_field_but_the_list_it_reads_is():
    ok = "notify(text: str(sum(deal.products, deal -> len(deal.whatever))))"
    assert in_robot(ok) == []
    wrong = in_robot("notify(text: str(count(deal.product, p -> p.x == 1)))")
    assert messages(wrong) == ["deal has no field 'product'; did you mean 'products'?"]


def test_a_robot_condition_may_hold_an_if_expression():
    header = "robot if (if deal.amount > 1000 then deal.paid else true)"
    assert in_robot("notify(text: 'x')", header) == []


def test_each_branch_of_an_if_expression_is_checked_like_a_literal():
    found = in_robot("create_task(title: 'x', hours: if deal.paid then 2 else 'many')")
    assert found == [(4, 61, "'hours' needs a number, not text")]  # at the branch
    assert in_robot("create_task(title: 'x', hours: if deal.paid then 2 else deal.amount)") == []
