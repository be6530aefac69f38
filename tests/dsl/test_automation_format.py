"""The canonical layout of automation files: round trips, idempotence and kept comments."""

from __future__ import annotations

import pytest

from dsl.automation import without_positions
from dsl.automation_format import format_automation
from dsl.automation_parser import parse_automation
from tests.dsl.automation_samples import CREDIT, MAIN, STORE


def fmt(text: str) -> str:
    return format_automation(parse_automation(text))


@pytest.mark.parametrize("text", [CREDIT, STORE, MAIN])
def test_format_then_parse_gives_the_same_file_and_formatting_is_idempotent(text):
    original = parse_automation(text)
    formatted = format_automation(original)
    again = parse_automation(formatted)
    assert without_positions(again) == without_positions(original)
    assert format_automation(again) == formatted
    assert len(again.comments) == len(original.comments)


def test_the_canonical_layout_of_the_credit_example():
    assert fmt(CREDIT) == (
        "# Credit pipeline: reminders while the bank decides.\n"
        'pipeline credit "Credit"\n'
        "\n"
        "stage documents:\n"
        '  robot "remind to call the client" at deal.ready_date - 2h:\n'
        "    create_task(\n"
        "      to: deal.responsible,\n"
        '      title: "Call {deal.contact.name} about the credit",\n'
        "      due: deal.ready_date,\n"
        "    )\n"
        '  robot after 3d if deal.bank_status == "pending":\n'
        '    notify(deal.responsible.supervisor, "Credit for {deal.title} is stuck")\n'
        "  then after 1d:\n"
        '    set_field(bank_status: "escalated")\n'
        "\n"
        "stage bank_review (robots off):  # per-stage switch: robots of this stage are not run\n"
        "  robot immediately:\n"
        '    notify(text: "In review")\n'
        "\n"
        "stage approved:\n"
        '  trigger "bank approved" on bank.decision if event.approved  # target = this stage\n'
        '  trigger "manual approval" on deal.field_changed if event.field == "approved" allow backward\n'
        "\n"
        'trigger "bank answered" on bank.decision if not event.approved:  # top level: actions say what to do\n'
        "  move_to main.product_agreement\n"
        '  notify_supervisor("Take {deal.title} under control")\n'
    )


def test_sloppy_text_is_tidied():
    text = (
        "pipeline  main\n\n\n\nstage new:\n    robot 'a'   after 2d4h  at 9:00   if a==1 :\n"
        "        notify( x ,text:'y' )\n    then:\n        move_to(stage: 'won')\n"
        "trigger on x.y:\n    move_to(deal.next)\n"
    )
    assert fmt(text) == (
        "pipeline main\n\nstage new:\n"
        '  robot "a" after 2d 4h at 09:00 if a == 1:\n    notify(x, text: "y")\n'
        "  then immediately:\n    move_to won\n"
        "\ntrigger on x.y:\n  move_to(deal.next)\n"
    )


def test_delays_are_spelled_out():
    text = (
        "pipeline p\nstage s:\n  robot in working hours:\n    a()\n  robot at 10:00 in working hours of responsible:\n"
        "    a()\n  robot at deal.d at 08:00:\n    a()\n"
    )
    assert "  robot immediately in working hours:\n" in fmt(text)
    assert "  robot at 10:00 in working hours of responsible:\n" in fmt(text)
    assert "  robot at deal.d at 08:00:\n" in fmt(text)


def test_names_and_titles_keep_their_braces_and_quotes():
    text = 'global "A {b} \\"c\\""\ntrigger \'it\\\'s {x}\' on a.b:\n  f()\n'
    formatted = fmt(text)
    assert formatted.startswith('global "A {b} \\"c\\""\n\ntrigger "it\'s {x}" on a.b:')
    assert parse_automation(formatted).title == 'A {b} "c"'


def test_move_to_keeps_the_call_form_when_the_short_form_cannot_say_it():
    text = (
        "global\ntrigger on a.b:\n"
        "  move_to(stage: 'in')\n  move_to('x')\n  move_to(stage: 'a b')\n  move_to(stage: 'a.b')\n"
    )
    assert fmt(text).endswith('  move_to(stage: "in")\n  move_to("x")\n  move_to(stage: "a b")\n  move_to a.b\n')


def test_comments_stay_with_what_follows_them():
    text = (
        "# top\npipeline p  # the pipeline\n# before the stage\n\nstage s:\n  # before the robot\n"
        "  robot:\n    # before the action\n    a()  # after the action\n    b(1,\n      # inside\n      2)\n"
        "    c()\n# at the end\n"
    )
    assert fmt(text) == (
        "# top\npipeline p  # the pipeline\n\n# before the stage\nstage s:\n  # before the robot\n"
        "  robot immediately:\n    # before the action\n    a()  # after the action\n    b(1, 2)\n"
        "    # inside\n    c()\n# at the end\n"
    )
    assert fmt(fmt(text)) == fmt(text)


def test_long_calls_put_one_argument_per_line():
    long_title = "x" * 90
    formatted = fmt(f"global\ntrigger on a.b:\n  f(a: 1, title: '{long_title}')\n  g('{long_title}')\n")
    assert f'  f(\n    a: 1,\n    title: "{long_title}",\n  )\n  g("{long_title}")\n' in formatted


def test_list_functions_and_if_expressions_keep_their_form():
    text = (
        "pipeline store\n\nstage new:\n"
        "  robot if any(deal.products,p->not p.in_stock):\n"
        "    notify(text: if deal.vip then 'VIP order' else 'Order',\n"
        "           to: deal.responsible)\n"
    )
    formatted = format_automation(parse_automation(text))
    assert "  robot immediately if any(deal.products, p -> not p.in_stock):\n" in formatted
    assert '    notify(text: if deal.vip then "VIP order" else "Order", to: deal.responsible)\n' in formatted
    assert without_positions(parse_automation(formatted)) == without_positions(parse_automation(text))
