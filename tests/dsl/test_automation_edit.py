"""The robots board's form edits as text changes: parse, change, format, every comment kept."""

from __future__ import annotations

import pytest

from dsl.automation import without_positions
from dsl.automation_edit import EditError, describe, edit_automation, locate
from dsl.automation_format import format_automation
from dsl.automation_parser import parse_automation
from dsl.errors import DslCheckError
from tests.dsl.automation_samples import CREDIT, MAIN, STORE

TEXT = '''pipeline main "Sales"

# new deals are greeted
stage new:  # the first stage
  robot "greet" immediately:
    notify(deal.responsible, "New deal {deal.title}")  # say hello
  then after 1d:
    notify(deal.responsible, "Still new")  # nudge

# paid orders close the deal
stage won:
  trigger on order.paid
'''

CALL_BACK = {
    "name": "call back",
    "when": {"kind": "after", "amount": "2d 4h", "time": "10:00", "working_hours": "company"},
    "condition": "deal.amount>100",
    "actions": [{"name": "create_task", "args": [{"name": "title", "text": "Call {deal.contact.name}"},
                                                 {"name": "to", "value": "deal.responsible"}]}],
}


def comments(text: str) -> list[str]:
    return [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]


def test_a_robot_added_to_a_stage_comes_after_its_last_one_and_every_comment_stays():
    added = edit_automation(TEXT, {"op": "add", "kind": "robot", "stage": "new", "item": CALL_BACK})
    assert added == '''pipeline main "Sales"

# new deals are greeted
stage new:  # the first stage
  robot "greet" immediately:
    notify(deal.responsible, "New deal {deal.title}")  # say hello
  then after 1d:
    notify(deal.responsible, "Still new")  # nudge
  robot "call back" after 2d 4h at 10:00 in working hours if deal.amount > 100:
    create_task(title: "Call {deal.contact.name}", to: deal.responsible)

# paid orders close the deal
stage won:
  trigger on order.paid
'''


def test_a_robot_added_to_a_stage_without_a_block_opens_one():
    added = edit_automation(TEXT, {"op": "add", "stage": "lost", "item": {
        "when": {"kind": "immediately"}, "actions": [{"name": "notify", "args": [
            {"value": "deal.responsible"}, {"text": "Lost"}]}]}})
    assert added.endswith('stage lost:\n  robot immediately:\n    notify(deal.responsible, "Lost")\n')
    assert comments(added) == comments(TEXT)


def test_an_updated_robot_keeps_its_place_and_the_comments_on_its_lines():
    updated = edit_automation(TEXT, {"op": "update", "stage": "new", "index": 0, "item": {
        **CALL_BACK, "name": "greet", "then": [{"when": {"kind": "at", "moment": "deal.ready_date - 2h"},
                                                 "actions": [{"name": "notify", "args": [
                                                     {"value": "deal.responsible"}, {"text": "Ready"}]}]}]}})
    assert '''stage new:  # the first stage
  robot "greet" after 2d 4h at 10:00 in working hours if deal.amount > 100:
    create_task(title: "Call {deal.contact.name}", to: deal.responsible)  # say hello
  then at deal.ready_date - 2h:
    notify(deal.responsible, "Ready")  # nudge
''' in updated
    assert comments(updated) == comments(TEXT)


def test_removing_a_robot_takes_its_own_comments_and_leaves_the_others():
    removed = edit_automation(TEXT, {"op": "remove", "stage": "new", "index": 0})
    assert '"greet"' not in removed and "say hello" not in removed and "nudge" not in removed
    assert "# new deals are greeted" in removed and "# paid orders close the deal" in removed
    assert "stage new" not in removed  # an empty stage block says nothing


def test_a_then_step_dropped_in_an_update_takes_its_comment():
    updated = edit_automation(TEXT, {"op": "update", "stage": "new", "index": 0, "item": {
        **describe(parse_automation(TEXT))["stages"][0]["robots"][0], "then": []}})
    assert "Still new" not in updated and "nudge" not in updated and "say hello" in updated


def test_a_trigger_added_updated_and_removed():
    added = edit_automation(TEXT, {"op": "add", "kind": "trigger", "stage": "won", "item": {
        "name": "card paid", "event": "payment.received", "condition": "event.amount > 0",
        "allow_backward": True}})
    assert 'trigger "card paid" on payment.received if event.amount > 0 allow backward\n' in added
    updated = edit_automation(added, {"op": "update", "kind": "trigger", "stage": "won", "index": 1, "item": {
        "event": "payment.received", "actions": [{"name": "notify", "args": [
            {"value": "deal.responsible"}, {"text": "Paid"}]}]}})
    assert 'trigger on payment.received:\n    notify(deal.responsible, "Paid")\n' in updated
    removed = edit_automation(updated, {"op": "remove", "kind": "trigger", "stage": "won", "index": 1})
    assert removed == TEXT.replace("# new deals", "# new deals")


def test_switching_a_stages_robots_off_and_on():
    off = edit_automation(TEXT, {"op": "switch", "stage": "new", "enabled": False})
    assert "stage new (robots off):  # the first stage\n" in off
    assert edit_automation(off, {"op": "switch", "stage": "new", "enabled": True}) == TEXT


@pytest.mark.parametrize("text", [CREDIT, STORE, MAIN])
def test_an_update_with_what_describe_gives_changes_nothing_but_the_layout(text):
    file = parse_automation(text)
    for stage in describe(file)["stages"]:
        for index, robot in enumerate(stage["robots"]):
            edited = edit_automation(text, {"op": "update", "stage": stage["code"], "index": index, "item": robot})
            assert without_positions(parse_automation(edited)) == without_positions(file)
            assert edited == format_automation(file)


@pytest.mark.parametrize(("item", "field"), [
    ({**CALL_BACK, "condition": "deal.amount >"}, "condition"),
    ({**CALL_BACK, "when": {"kind": "after", "amount": ""}}, "when.amount"),
    ({**CALL_BACK, "when": {"kind": "at", "time": "25:00"}}, "when.time"),
    ({**CALL_BACK, "actions": []}, "actions"),
    ({**CALL_BACK, "actions": [{"name": "notify", "args": [{"value": "deal.("}]}]}, "actions.0.args.0"),
    ({**CALL_BACK, "then": [{"when": {"kind": "sometime"}, "actions": CALL_BACK["actions"]}]}, "then.0.when.kind"),
])
def test_a_form_with_a_mistake_is_refused_on_its_field_and_changes_nothing(item, field):
    with pytest.raises(EditError) as refused:
        edit_automation(TEXT, {"op": "add", "stage": "new", "item": item})
    assert [p.field for p in refused.value.problems] == [field]


def test_an_operation_on_what_is_not_there_is_refused():
    for operation, field in [({"op": "remove", "stage": "new", "index": 5}, "index"),
                             ({"op": "update", "stage": "nowhere", "index": 0, "item": CALL_BACK}, "stage"),
                             ({"op": "rename", "stage": "new"}, "op")]:
        with pytest.raises(EditError) as refused:
            edit_automation(TEXT, operation)
        assert refused.value.problems[0].field == field
    with pytest.raises(EditError):
        edit_automation("pipeline main\nstage new:\n  robot:\n", {"op": "remove", "stage": "new", "index": 0})


def test_check_errors_are_put_on_the_fields_of_the_edited_robot():
    text = edit_automation(TEXT, {"op": "add", "stage": "new", "item": {
        **CALL_BACK, "actions": [{"name": "notify", "args": [{"value": "deal.responsible"}, {"value": "deal.nope"}]}]}})
    head, action = (i + 1 for i, line in enumerate(text.splitlines()) if "call back" in line or "deal.nope" in line)
    column = text.splitlines()[action - 1].index("deal.nope") + 1
    if_column = text.splitlines()[head - 1].index("deal.amount") + 1
    errors = [DslCheckError("unknown field", action, column), DslCheckError("not a number", head, if_column),
              DslCheckError("elsewhere", 1, 1)]
    placed = locate(text, {"op": "add", "stage": "new"}, errors)
    assert [p.field for p in placed] == ["actions.0.args.1", "condition", None]


def test_a_stage_without_robots_has_nothing_to_switch_and_its_last_robot_removed_takes_the_block():
    with pytest.raises(EditError) as refused:
        edit_automation(TEXT, {"op": "switch", "stage": "lost", "enabled": False})
    assert refused.value.problems[0].field == "enabled"
    off = edit_automation(TEXT, {"op": "switch", "stage": "won", "enabled": False})
    emptied = edit_automation(off, {"op": "remove", "kind": "trigger", "stage": "won", "index": 0})
    assert "stage won" not in emptied
    parse_automation(emptied)


def test_a_trigger_of_the_whole_file_added_edited_and_removed():
    item = {"name": "order paid", "event": "order.paid", "actions": [
        {"name": "set_field", "args": [{"name": "payment_status", "text": "paid"}]}]}
    added = edit_automation(TEXT, {"op": "add", "kind": "trigger", "stage": None, "item": item})
    assert added.endswith('\n\ntrigger "order paid" on order.paid:\n  set_field(payment_status: "paid")\n')
    assert describe(parse_automation(added))["triggers"][0]["name"] == "order paid"
    updated = edit_automation(added, {"op": "update", "kind": "trigger", "stage": None, "index": 0,
                                      "item": {**item, "condition": "deal.amount > 0"}})
    assert 'trigger "order paid" on order.paid if deal.amount > 0:\n' in updated
    assert edit_automation(updated, {"op": "remove", "kind": "trigger", "stage": None, "index": 0}) == TEXT
    global_file = 'global\n\n# store orders\ntrigger on order.created:\n  create_deal_from_order(stage: "main.new")\n'
    action = {"name": "create_deal_from_order", "args": [{"name": "stage", "value": '"main.new"'}]}
    edited = edit_automation(global_file, {"op": "update", "kind": "trigger", "stage": None, "index": 0,
                                              "item": {"event": "order.created", "actions": [action]}})
    assert edited == global_file
