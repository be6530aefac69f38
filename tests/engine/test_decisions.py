"""DMN decision tables: unary tests read as modelers write them, hit policies, deploy errors
with the cell they belong to, versions, and business rule tasks running them with the dsl only."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.dmn.table import DecisionFailed, InvalidDecision, read_decisions
from engine.dmn.unary import UnaryTestError, compile_unary_test
from engine.errors import InvalidProcess
from engine.models import DecisionVersion, Incident
from tests.support.bpmn import Bpmn
from tests.support.dmn import decision_table
from tests.support.no_python import no_python_eval
from tests.support.world import TEST_CAUSE, make_deal

ROUTING = Path(__file__).resolve().parents[2] / "bpmn" / "store_routing.dmn"


def matches(cell: str, value: object) -> bool:
    condition = compile_unary_test(cell, "x").condition
    if condition is None:
        return True
    from dsl import evaluate
    return evaluate(condition, {"x": value}) is True


# ---------------------------------------------------------------------- unary tests


@pytest.mark.parametrize(("cell", "yes", "no"), [
    ("< 1000", [999, Decimal("0.5"), -3], [1000, 5000, None]),
    (">= 10", [10, 11], [9, None]),
    ('"VIP","Gold"', ["VIP", "Gold"], ["vip", "Silver", None]),
    ('"VIP"', ["VIP"], ["Gold"]),
    ("[1000..5000]", [1000, 3000, 5000], [999, 5001]),
    ("]1000..5000[", [1001, 4999], [1000, 5000]),
    ("(1000..5000)", [1001], [1000, 5000]),
    ("[1000..5000[", [1000], [5000]),
    ('not("x")', ["y", None], ["x"]),
    ("not(< 5, > 10)", [5, 10], [4, 11]),
    ("-", [None, 1, "a"], []),
    ("", [None, 1, "a"], []),
    ("true", [True], [False, None]),
    ("null", [None], [0, ""]),
    ("-5", [-5], [5]),
    ('date("2026-01-01")', [], []),
])
def test_unary_tests_match_as_feel_reads_them(cell, yes, no):
    for value in yes:
        assert matches(cell, value), (cell, value)
    for value in no:
        assert not matches(cell, value), (cell, value)


def test_a_unary_test_becomes_a_dsl_comparison_over_the_input_expression():
    assert compile_unary_test("[1000..5000]", "deal.amount").condition == \
        "((deal.amount) >= 1000 and (deal.amount) <= 5000)"
    assert compile_unary_test('"VIP","Gold"', "deal.tier").condition == \
        '((deal.tier) == "VIP" or (deal.tier) == "Gold")'
    assert compile_unary_test("< deal.limit", "deal.amount").condition == "(deal.amount) < deal.limit"


@pytest.mark.parametrize(("cell", "column"), [
    ("<< 5", 2), ("[1..", 5), ("__import__('os').system('x')", 1), ("x.__class__", 3), ("a(1)", 2),
    ('"a" "b"', 5), ("? > 5", 1), ('date("soon")', 6),
])
def test_what_is_no_unary_test_is_refused_with_its_place_in_the_cell(cell, column):
    with pytest.raises(UnaryTestError) as refused:
        compile_unary_test(cell, "x")
    assert refused.value.line == 1
    assert refused.value.column == column


# ---------------------------------------------------------------------- hit policies


def table(rules, *, hit_policy="UNIQUE", aggregation=None, outputs=("result",), **kwargs):
    xml = decision_table("d", [("Amount", "amount")], list(outputs), rules, hit_policy=hit_policy,
                         aggregation=aggregation, **kwargs)
    return read_decisions(xml)[0][0]


def test_unique_gives_the_one_matching_rule_or_nothing():
    t = table([["< 10", '"small"'], [">= 10", '"large"']])
    assert t.evaluate({"amount": 5}).value == {"result": "small"}
    assert t.evaluate({"amount": 50}).variables() == {"result": "large"}
    assert t.evaluate({"amount": None}).variables() == {"result": None}
    assert t.evaluate({"amount": None}).value is None


def test_unique_with_two_matching_rules_is_an_error_naming_them():
    t = table([["< 10", '"small"'], ["< 20", '"medium"']])
    with pytest.raises(DecisionFailed, match="UNIQUE but rules 1 and 2 all match"):
        t.evaluate({"amount": 5})


def test_first_gives_the_first_matching_rule_in_table_order():
    t = table([["< 10", '"small"'], ["< 20", '"medium"'], ["-", '"any"']], hit_policy="FIRST")
    assert t.evaluate({"amount": 15}).value == {"result": "medium"}
    assert t.evaluate({"amount": 15}).matched == [2]


def test_priority_ranks_by_the_output_values_listed_on_the_column():
    t = table([["-", '"low"'], ["> 10", '"high"'], ["> 5", '"medium"']], hit_policy="PRIORITY",
              output_values={"result": '"high","medium","low"'})
    assert t.evaluate({"amount": 20}).value == {"result": "high"}
    assert t.evaluate({"amount": 7}).value == {"result": "medium"}
    assert t.evaluate({"amount": 1}).value == {"result": "low"}


def test_any_accepts_several_matches_only_when_they_agree():
    t = table([["> 5", '"yes"'], ["> 10", '"yes"'], ["> 100", '"no"']], hit_policy="ANY")
    assert t.evaluate({"amount": 20}).value == {"result": "yes"}
    with pytest.raises(DecisionFailed, match="different outputs"):
        t.evaluate({"amount": 200})


def test_collect_lists_every_match_and_aggregates():
    rules = [["> 0", "10"], ["> 5", "20"], ["> 50", "5"]]
    assert table(rules, hit_policy="COLLECT").evaluate({"amount": 10}).variables() == {"result": [10, 20]}
    assert table(rules, hit_policy="COLLECT", aggregation="SUM").evaluate({"amount": 100}).value == 35
    assert table(rules, hit_policy="COLLECT", aggregation="MIN").evaluate({"amount": 100}).value == 5
    assert table(rules, hit_policy="COLLECT", aggregation="MAX").evaluate({"amount": 100}).value == 20
    assert table(rules, hit_policy="COLLECT", aggregation="COUNT").evaluate({"amount": 10}).value == 2
    assert table(rules, hit_policy="COLLECT", aggregation="SUM").evaluate({"amount": 0}).value is None
    assert table(rules, hit_policy="COLLECT", aggregation="COUNT").evaluate({"amount": 0}).value == 0


def test_outputs_are_dsl_expressions_over_the_same_names():
    t = table([["-", "amount * 2", '"x" + "y"']], outputs=("double", "word"))
    assert t.evaluate({"amount": 21}).value == {"double": 42, "word": "xy"}


def test_a_cell_comparing_text_with_a_number_fails_naming_rule_and_input():
    t = table([["< 10", '"small"']])
    with pytest.raises(DecisionFailed, match=r"rule 1, input Amount: cannot compare text and number"):
        t.evaluate({"amount": "ten"})


def test_the_shipped_routing_table_routes_by_vip_amount_category_and_store():
    routing = read_decisions(ROUTING.read_bytes())[0][0]
    assert routing.hit_policy == "FIRST"

    def route(**deal):
        return routing.evaluate({"deal": {"amount": 0, "category": None, "vip": False,
                                          "department": "store_north", **deal}}).value["responsible"]

    assert route(vip=True, department="store_south") == "head.south"
    assert route(amount=Decimal("450000"), department="store_south") == "head.north"
    assert route(amount=Decimal("150000"), category="tv") == "credit"
    assert route(amount=Decimal("150000"), category="fridges") == "store_north"
    assert route(department="store_south") == "store_south"


# ---------------------------------------------------------------------- deploy errors


def refusal(xml: str | bytes) -> InvalidDecision:
    with pytest.raises(InvalidDecision) as refused:
        read_decisions(xml)
    return refused.value


def test_a_bad_cell_is_refused_with_its_decision_rule_column_element_and_line():
    xml = decision_table("d", [("Amount", "amount"), ("Tier", "tier")], ["result"],
                         [["< 10", '"VIP"', '"a"'], ["-", "<< 5", '"b"']])
    err = refusal(xml)
    [problem] = err.details
    assert problem["decision"] == "d" and problem["rule"] == 2 and problem["input"] == 2
    assert problem["element"] == "r2_i2"
    assert problem["line"] == xml.splitlines().index(next(
        line for line in xml.splitlines() if 'id="r2_i2"' in line)) + 1
    assert (problem["cell_line"], problem["cell_column"]) == (1, 2)
    assert "Tier: cannot read" in problem["message"]
    assert "decision d, rule 2, input 2" in str(err)


def test_every_bad_text_of_a_table_is_reported_at_once():
    xml = decision_table("d", [("Amount", "amount +")], ["result"], [["< 10", '"a" +'], ["[1..", '"b"']])
    details = refusal(xml).details
    assert {(d.get("rule"), d.get("input"), d.get("output")) for d in details} == {
        (None, 1, None), (1, None, 1), (2, 1, None)}


@pytest.mark.parametrize(("change", "message"), [
    (lambda x: x.replace('hitPolicy="UNIQUE"', 'hitPolicy="SOMETIMES"'), "unknown hit policy 'SOMETIMES'"),
    (lambda x: x.replace('hitPolicy="UNIQUE"', 'hitPolicy="FIRST" aggregation="SUM"'), "only COLLECT takes one"),
    (lambda x: x.replace('hitPolicy="UNIQUE"', 'hitPolicy="PRIORITY"'), "PRIORITY ranks rules by the output"),
    (lambda x: x.replace('name="result" label="result"', 'name="two words"'), "needs a name"),
    (lambda x: x.replace("<text>amount</text>", "<text></text>"), "needs an expression"),
    (lambda x: x.replace("<text>amount</text>", "<text>__import__('os')</text>"), "input expression"),
    (lambda x: x.replace('<outputEntry id="r1_o1"><text>"a"</text></outputEntry>', ""), "1 input and 0 output"),
])
def test_a_table_that_cannot_run_is_refused_at_deploy(change, message):
    xml = change(decision_table("d", [("Amount", "amount")], ["result"], [["< 10", '"a"']]))
    assert message in str(refusal(xml).details)


@pytest.mark.parametrize(("xml", "message"), [
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><definitions>&x;</definitions>',
     "DTD"),
    (b"<definitions", "not well-formed"),
    (b'<?xml version="1.0" encoding="UTF-16"?><definitions/>', "not"),
    (b'<?xml version="1.0" encoding="no-such"?><definitions/>', "not"),
    ('<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/">\ud800</definitions>', "Unicode"),
    (b"<definitions xmlns='https://www.omg.org/spec/DMN/20191111/MODEL/'>" + b"<x>" * 100 + b"</x>" * 100
     + b"</definitions>", "deeper"),
    (b"<definitions xmlns='https://www.omg.org/spec/DMN/20191111/MODEL/'>" + b" " * (3 * 1024 * 1024)
     + b"</definitions>", "larger"),
    (b"<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'/>", "not a DMN file"),
    (b"<definitions xmlns='https://www.omg.org/spec/DMN/20191111/MODEL/'/>", "no dmn:decision"),
    (b"<definitions xmlns='https://www.omg.org/spec/DMN/20191111/MODEL/'><decision id='d'><literalExpression>"
     b"<text>1</text></literalExpression></decision></definitions>", "only decision tables"),
])
def test_hostile_and_foreign_files_are_refused_with_a_reason(xml, message):
    err = refusal(xml)
    assert message in str(err) + str(err.details)
    assert "BPMN" not in str(err)


def test_a_latin1_file_is_read_by_its_declared_encoding():
    xml = decision_table("d", [("Größe", "amount")], ["result"], [["-", '"groß"']])
    xml = xml.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>')
    tables, _ = read_decisions(xml.encode("latin-1"))
    assert tables[0].inputs[0]["label"] == "Größe"
    assert tables[0].evaluate({"amount": 1}).value == {"result": "groß"}


# ---------------------------------------------------------------------- versions


def test_versions_are_immutable_and_the_same_table_twice_is_one_version(engine):
    xml = decision_table("tier", [("Amount", "amount")], ["tier"], [["< 10", '"small"'], [">= 10", '"large"']])
    first = engine.deploy_decisions(xml)[0]
    again = engine.deploy_decisions(xml.replace("<decision ", "<!-- layout only -->\n  <decision "))[0]
    changed = engine.deploy_decisions(xml.replace("&lt; 10", "&lt; 20").replace("&gt;= 10", "&gt;= 20"))[0]
    assert (first.version, again.version, changed.version) == (1, 1, 2)
    with engine.unit() as rt:
        rows = rt.session.scalars(select(DecisionVersion).order_by(DecisionVersion.version)).all()
        assert [r.table["rules"][0]["entries"][0] for r in rows] == ["< 10", "< 20"]


# ---------------------------------------------------------------------- business rule tasks


def rule_process(decision: str = "tier", result_variable: str | None = None) -> str:
    b = Bpmn("rated").start().rule_task("rate", decision, result_variable)
    return b.user("look").end().chain("start", "rate", "look", "end").xml()


def variables(engine, instance_id):
    with engine.unit() as rt:
        return rt.inspect(rt.instance(instance_id))[1]


def test_a_process_calling_a_decision_not_deployed_is_refused_naming_the_task(engine):
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(rule_process("nowhere"))
    [problem] = refused.value.details
    assert problem["element"] == "rate"
    assert "calls decision 'nowhere', which is not deployed" in problem["message"]
    assert problem["line"] > 1


def test_a_business_rule_task_sets_one_variable_per_output_from_the_deal(engine):
    engine.deploy_decisions(decision_table(
        "tier", [("Amount", "deal.amount")], ["tier", "discount"],
        [["< 100000", '"standard"', "0"], [">= 100000", '"gold"', "deal.amount / 100"]]))
    engine.deploy(rule_process())
    deal_id = make_deal(engine, amount=Decimal("200000"))
    with no_python_eval() as calls:
        instance = engine.start("rated", deal_id, cause=TEST_CAUSE)
    assert calls == []
    seen = variables(engine, instance.id)
    assert seen["tier"] == "gold" and Decimal(str(seen["discount"])) == 2000


def test_a_result_variable_holds_the_whole_result(engine):
    engine.deploy_decisions(decision_table("tier", [("Amount", "deal.amount")], ["tier"],
                                           [["> 0", '"a"'], ["> 10", '"b"']], hit_policy="COLLECT"))
    engine.deploy(rule_process(result_variable="rating"))
    instance = engine.start("rated", make_deal(engine, amount=50), cause=TEST_CAUSE)
    assert variables(engine, instance.id)["rating"] == [{"tier": "a"}, {"tier": "b"}]


def test_the_task_runs_the_latest_version_at_call_time(engine):
    xml = decision_table("tier", [("Amount", "deal.amount")], ["tier"], [["-", '"old"']])
    engine.deploy_decisions(xml)
    engine.deploy(rule_process())
    engine.deploy_decisions(xml.replace('"old"', '"new"'))
    instance = engine.start("rated", make_deal(engine), cause=TEST_CAUSE)
    assert variables(engine, instance.id)["tier"] == "new"


def test_a_decision_failing_at_run_time_leaves_an_incident_saying_why(engine):
    engine.deploy_decisions(decision_table("tier", [("Amount", "deal.title")], ["tier"],
                                           [["< 10", '"a"'], ["-", '"b"']], hit_policy="FIRST"))
    engine.deploy(rule_process())
    instance = engine.start("rated", make_deal(engine), cause=TEST_CAUSE)
    with engine.unit() as rt:
        [incident] = rt.session.scalars(select(Incident).where(Incident.instance_id == instance.id)).all()
        assert rt.instance(instance.id).status == "incident"
    assert incident.element_id == "rate"
    assert "rule 1, input Amount: cannot compare text and number" in incident.message


def test_a_camunda_business_rule_task_reads_its_decision_ref(engine):
    engine.deploy_decisions(decision_table("tier", [("Amount", "deal.amount")], ["tier"], [["-", '"any"']]))
    xml = rule_process().replace(
        "<bpmn:extensionElements><spiffworkflow:calledDecisionId>tier</spiffworkflow:calledDecisionId>"
        "</bpmn:extensionElements>", "").replace(
        '<bpmn:businessRuleTask id="rate" name="rate"',
        '<bpmn:businessRuleTask id="rate" name="rate" camunda:decisionRef="tier" camunda:resultVariable="out"').replace(
        'xmlns:dealflow=', 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:dealflow=')
    engine.deploy(xml)
    instance = engine.start("rated", make_deal(engine), cause=TEST_CAUSE)
    assert variables(engine, instance.id)["out"] == {"tier": "any"}


def test_hostile_cells_never_reach_python(engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = "__import__('pathlib').Path('marker').touch()"
    with no_python_eval() as calls:
        for cells in ([payload, '"a"'], ["-", payload]):
            with pytest.raises(InvalidDecision):
                engine.deploy_decisions(decision_table("evil", [("Amount", "amount")], ["result"], [cells]))
        with pytest.raises(InvalidDecision):
            engine.deploy_decisions(decision_table("evil", [("Amount", payload)], ["result"], [["-", '"a"']]))
    assert calls == []
    assert not (tmp_path / "marker").exists()
