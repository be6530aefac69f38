"""Conditions as other modelers write them: `True`/`FALSE` in any casing are the booleans (a
SpiffWorkflow example's `True == x` must not take the other branch), text inside strings is
left alone, and Camunda's `=expr` marks a dsl expression."""

from __future__ import annotations

import pytest

from engine.bpmn_texts import condition_expression
from tests.support.bpmn import Bpmn
from tests.support.world import make_deal, notes_of


def branching(condition: str) -> str:
    return (Bpmn("branch").parameter("flag", "bool").start().xor("gw", default="other")
            .service("yes", "notify", text='"yes"').service("no", "notify", text='"no"').end("e1").end("e2")
            .flow("start", "gw").flow("gw", "yes", condition).flow("gw", "no", flow_id="other")
            .flow("yes", "e1").flow("no", "e2").xml())


@pytest.mark.parametrize(("condition", "flag", "taken"), [
    ("True == flag", True, "yes"),
    ("TRUE == flag", False, "no"),
    ("flag == False", False, "yes"),
    ("flag == FALSE", True, "no"),
    ("=flag == true", True, "yes"),
])
def test_boolean_literals_in_any_casing_take_the_branch_they_say(engine, condition, flag, taken):
    engine.deploy(branching(condition))
    deal_id = make_deal(engine)
    engine.start("branch", deal_id, {"flag": flag})
    with engine.unit() as rt:
        assert notes_of(rt, deal_id) == [taken]


@pytest.mark.parametrize(("text", "read_as"), [
    ("True == x", "true == x"),
    ('x == "True" or FALSE', 'x == "True" or false'),
    ("answer != 'False' and False", "answer != 'False' and false"),
    ("deal.True and Trueish", "deal.True and Trueish"),
    ("=amount > 5", "amount > 5"),
    ("a == b", "a == b"),
])
def test_only_boolean_words_outside_strings_and_paths_change(text, read_as):
    assert condition_expression(text) == read_as
