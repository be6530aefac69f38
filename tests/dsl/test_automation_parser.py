"""Automation files: every construct, the keys robots are known by, and the syntax errors."""

from __future__ import annotations

import pickle
from datetime import time

import pytest

from dsl import DslError, DslSyntaxError
from dsl.automation import ActionCall, Arg, AutomationFile, Delay, Pos
from dsl.automation_parser import parse_automation, slug
from dsl.errors import DslCallError, DslErrorList
from dsl.nodes import Literal
from tests.dsl.automation_samples import CREDIT, MAIN, STORE
from tests.dsl.support import NOW, make_env


def robot_file(body: str) -> AutomationFile:
    return parse_automation(f"pipeline credit\n\nstage documents:\n{body}")


def first_robot(header: str, action: str = "notify(text: 'x')"):
    return robot_file(f"  {header}:\n    {action}\n").robots()[0]


def syntax_error(text: str) -> DslSyntaxError:
    with pytest.raises(DslSyntaxError) as caught:
        parse_automation(text)
    return caught.value


# --- the shape of a file --------------------------------------------------------------------


def test_the_credit_example_parses_into_stages_chains_and_triggers():
    file = parse_automation(CREDIT)
    assert (file.scope, file.title, file.is_global, file.pos) == ("credit", "Credit", False, Pos(2, 1))
    assert [stage.code for stage in file.stages] == ["documents", "bank_review", "approved"]
    documents = file.stage("documents")
    assert [[robot.key for robot in chain.steps] for chain in documents.chains] == [
        ["remind-to-call-the-client"],
        ["documents.2", "documents.2.2"],
    ]
    assert file.stage("bank_review").enabled is False
    assert documents.enabled is True
    assert [robot.key for robot in file.robots()] == [
        "remind-to-call-the-client",
        "documents.2",
        "documents.2.2",
        "bank_review.1",
    ]


def test_a_robot_keeps_its_name_delay_condition_and_actions():
    remind, stuck, escalate = parse_automation(CREDIT).robots()[:3]
    assert remind.name == "remind to call the client"
    assert remind.delay.kind == "at"
    assert remind.delay.moment.text == "deal.ready_date - 2h"
    assert remind.condition is None
    (call,) = remind.actions
    assert call.name == "create_task"
    assert [arg.name for arg in call.args] == ["to", "title", "due"]
    assert call.args[2].pos == Pos(7, 17)  # arguments may continue on the next line
    assert call.args[1].value.evaluate(make_env(), NOW) == "Call Anna about the credit"
    assert stuck.condition.text == 'deal.bank_status == "pending"'
    assert stuck.delay.amount.evaluate({}, NOW).days == 3
    assert [arg.name for arg in stuck.actions[0].args] == [None, None]
    assert escalate.actions[0].args[0].name == "bank_status"


def test_triggers_in_a_stage_target_it_and_top_level_ones_have_actions():
    file = parse_automation(CREDIT)
    approved, manual = file.stage("approved").triggers
    assert (approved.key, approved.event, approved.target_stage) == ("bank-approved", "bank.decision", "approved")
    assert approved.condition.text == "event.approved"
    assert (approved.allow_backward, manual.allow_backward) == (False, True)
    assert approved.actions == ()
    (answered,) = file.triggers
    assert answered.target_stage is None
    assert answered.condition.text == "not event.approved"
    move, notify = answered.actions
    assert move == ActionCall("move_to", (Arg("stage", move.args[0].value, Pos(22, 11)),), Pos(22, 3))
    assert move.args[0].value.node == Literal("main.product_agreement")
    assert notify.name == "notify_supervisor"


def test_a_global_file_holds_triggers_for_events_without_a_deal():
    file = parse_automation(STORE)
    assert (file.scope, file.title, file.is_global, file.stages) == ("global", "Store intake", True, ())
    (trigger,) = file.triggers
    assert trigger.key == "new-order"
    assert trigger.actions[0].args[2].value.evaluate({"event": {"order_id": 7}}, NOW) == "Order 7"


def test_comments_are_collected_with_their_lines():
    comments = parse_automation(CREDIT).comments
    assert comments[0] == (1, "# Credit pipeline: reminders while the bank decides.")
    assert (13, "# per-stage switch: robots of this stage are not run") in comments
    assert len(comments) == 4


def test_the_title_and_names_are_optional():
    file = parse_automation("global\n")
    assert (file.scope, file.title, file.triggers) == ("global", None, ())
    assert parse_automation("pipeline main").title is None


# --- delays ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "kind", "clock", "hours"),
    [
        ("robot", "immediately", None, None),
        ("robot immediately", "immediately", None, None),
        ("robot in working hours", "immediately", None, "company"),
        ("robot immediately in working hours of responsible", "immediately", None, "responsible"),
        ("robot after 30s", "after", None, None),
        ("robot after 1d at 10:00", "after", time(10), None),
        ("robot after 2d 4h in working hours", "after", None, "company"),
        ("robot at 9:05", "at", time(9, 5), None),
        ("robot at 10:00 in working hours of responsible", "at", time(10), "responsible"),
        ("robot at deal.ready_date + 1d", "at", None, None),
        ("robot at deal.ready_date at 18:30", "at", time(18, 30), None),
    ],
)
def test_delays(header, kind, clock, hours):
    delay = first_robot(header).delay
    assert (delay.kind, delay.time_of_day, delay.working_hours) == (kind, clock, hours)


def test_delay_expressions():
    assert first_robot("robot after deal.wait * 2").delay.amount.paths == {"deal.wait"}
    assert first_robot("robot at 10:00").delay.moment is None
    at = first_robot("robot at deal.ready_date - 2h").delay
    assert (at.amount, at.moment.paths) == (None, {"deal.ready_date"})
    assert first_robot("robot").delay == Delay()


def test_in_working_hours_is_not_read_as_the_in_operator():
    robot = first_robot("robot after 2d in working hours if deal.stage in ['a', 'b']")
    assert robot.delay.working_hours == "company"
    assert robot.condition.text == "deal.stage in ['a', 'b']"


def test_keywords_remain_usable_as_field_names():
    robot = first_robot("robot at deal.at if deal.stage == deal.then", "set_field(robot: deal.after)")
    assert robot.delay.moment.paths == {"deal.at"}
    assert robot.actions[0].args[0].name == "robot"


# --- actions and keys ---------------------------------------------------------------------


def test_actions_take_positional_and_named_arguments_over_several_lines():
    robot = first_robot("robot", "notify(\n      deal.responsible,  # who\n      text: 'Hi',\n    )")
    (call,) = robot.actions
    assert [(arg.name, arg.value.text) for arg in call.args] == [(None, "deal.responsible"), ("text", "'Hi'")]


def test_move_to_takes_a_stage_or_pipeline_and_stage():
    robot = first_robot("robot", "move_to approved\n    move_to main.won\n    move_to(stage: deal.next)")
    stages = [call.args[0] for call in robot.actions]
    assert [arg.name for arg in stages] == ["stage"] * 3
    assert [arg.value.node for arg in stages[:2]] == [Literal("approved"), Literal("main.won")]
    assert stages[2].value.paths == {"deal.next"}


def test_robot_and_trigger_keys():
    file = robot_file(
        "  robot:\n    a()\n  then:\n    b()\n  then 'Third Step!':\n    c()\n"
        "  trigger on x.y\n  robot:\n    d()\n  trigger 'T' on x.y\n  trigger on x.z\n"
        "trigger on a.b:\n  e()\ntrigger on a.c:\n  e()\n"
    )
    assert [robot.key for robot in file.robots()] == ["documents.1", "documents.1.2", "third-step", "documents.2"]
    assert [trigger.key for trigger in file.all_triggers()] == [
        "trigger.1",
        "trigger.2",
        "documents.trigger.1",
        "t",
        "documents.trigger.3",
    ]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Remind to call the client", "remind-to-call-the-client"),
        ("  a__b--c ", "a-b-c"),
        ("Звонок клиенту", "звонок-клиенту"),
    ],
)
def test_slug(name, key):
    assert slug(name) == key


def test_a_name_without_letters_falls_back_to_the_position():
    assert first_robot("robot '!!!'").key == "documents.1"


def test_windows_line_ends_and_tabs_are_accepted():
    file = parse_automation("pipeline credit\r\nstage documents:\r\n\trobot:\r\n\t\tnotify()\r\n")
    assert file.robots()[0].actions[0].name == "notify"


def test_the_whole_example_of_main_parses():
    file = parse_automation(MAIN)
    assert len(file.robots()) == 6
    assert len(file.all_triggers()) == 3


# --- syntax errors ------------------------------------------------------------------------


def test_a_missing_colon():
    error = syntax_error("pipeline credit\n\nstage documents\n  robot:\n    notify()\n")
    assert (error.message, error.line, error.column) == ("missing ':' at the end of the line", 3, 16)
    error = syntax_error("pipeline credit\nstage documents:\n  robot after 3d\n    notify()\n")
    assert (error.line, error.column) == (3, 17)
    assert "':'" in error.expected


def test_a_line_indented_to_no_block_above():
    error = syntax_error("pipeline credit\nstage a:\n    robot:\n      notify()\n  robot:\n    notify()\n")
    assert (error.message, error.line, error.column) == ("this line's indentation matches no block above it", 5, 3)


def test_an_unexpected_indentation():
    error = syntax_error("pipeline credit\nstage a:\n  robot:\n    notify()\n      notify()\n")
    assert error.message.startswith("unexpected indentation")
    assert (error.line, error.column) == (5, 7)


def test_a_block_that_is_not_indented():
    error = syntax_error("pipeline credit\nstage a:\nrobot:\n  notify()\n")
    assert (error.message, error.line, error.column) == ("unexpected 'robot'; expected an indented block", 3, 1)


def test_an_unknown_delay_word():
    error = syntax_error("pipeline credit\nstage a:\n  robot aftr 3d:\n    notify()\n")
    assert (error.line, error.column) == (3, 9)
    assert error.message.startswith("unexpected name 'aftr'; expected a delay (immediately, after 2d")
    assert "'if'" in error.expected


def test_not_an_action():
    error = syntax_error("pipeline credit\nstage a:\n  robot:\n    42\n")
    assert error.message == "unexpected value 42; expected an action like notify(...) or move_to stage"
    assert (error.line, error.column) == (4, 5)


def test_an_unclosed_parenthesis_is_reported_where_it_opens():
    error = syntax_error("pipeline credit\nstage a:\n  robot:\n    notify(text: 'x'\n  robot:\n    b()\n")
    assert (error.message, error.line, error.column, error.expected) == ("'(' is never closed", 4, 11, ["')'"])
    assert syntax_error("pipeline credit\nstage a:\n  robot:\n    notify(text: ['x'").line == 4


def test_a_missing_header():
    error = syntax_error("stage a:\n  robot:\n    notify()\n")
    assert (error.line, error.column) == (1, 1)
    assert "'pipeline <code>'" in error.expected
    assert syntax_error("").message.startswith("unexpected end of the text")


def test_then_must_follow_a_robot():
    error = syntax_error("pipeline credit\nstage a:\n  trigger on x.y\n  then:\n    b()\n")
    assert (error.message, error.line, error.column) == (
        "'then' must follow a robot: it runs after the step above",
        4,
        3,
    )


def test_errors_inside_expressions_keep_their_place_and_kind():
    with pytest.raises(DslCallError) as caught:
        parse_automation("pipeline credit\nstage a:\n  robot if shout(1):\n    b()\n")
    assert (caught.value.line, caught.value.column) == (3, 12)
    assert syntax_error("pipeline credit\nstage a:\n  robot at 25:00:\n    b()\n").column == 12
    error = syntax_error("pipeline c\nstage a:\n  robot:\n    b(text: 'Hi {deal.}')\n")
    assert (error.line, error.column) == (4, 23)  # the "}" where a field name should be


def test_several_errors_are_reported_together():
    text = (
        "pipeline credit\nstage a:\n  robot\n    notify()\nstage b:\n  robot:\n    notify(\n"
        "stage c:\n  robot if shout():\n    ok()\n  then:\n    ok()\nstage d:\n  robot:\n    ok()\n"
    )
    with pytest.raises(DslErrorList) as caught:
        parse_automation(text)
    errors = caught.value.errors
    assert [(e.line, e.column) for e in errors] == [(3, 8), (7, 11), (9, 12)]
    assert caught.value.line == 3
    assert caught.value.to_dict()["errors"][1]["message"] == "'(' is never closed"
    copy = pickle.loads(pickle.dumps(caught.value))
    assert [e.message for e in copy.errors] == [e.message for e in errors]


def test_only_dsl_errors_leave_the_parser():
    for text in ["pipeline", "pipeline x\n  stage", "\x00", "pipeline x\nstage y:\n  robot:\n    )", 42]:
        with pytest.raises(DslError):
            parse_automation(text)  # type: ignore[arg-type]


def test_the_file_length_is_limited():
    with pytest.raises(DslSyntaxError, match="longer than"):
        parse_automation("pipeline x\n" + "#" * 300_000)
