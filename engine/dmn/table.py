"""DMN decision tables: read from untrusted XML at deploy, compiled to dsl, evaluated by the dsl.

SpiffWorkflow's DMN engine evaluates cells with its Python environment; dealflow does not use
it. A table is read here with the same safe XML loader as BPMN (no DTD, no entities, bounded
size and depth), every input expression, input entry (a FEEL unary test, see unary.py) and
output entry is compiled to dsl at deploy, and a problem is reported with its decision, rule,
column, element id and line, so the designer can show it at its cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from lark import Token, Transformer, UnexpectedInput, v_args
from lxml import etree

from dsl import DslError, compile_expression
from engine.bpmn import load_xml, located, xml_text
from engine.dmn.unary import UnaryTestError, _parser, compile_unary_test
from engine.errors import EngineError, InvalidProcess

#: The DMN versions dmn-js, Camunda Modeler and other tools write (1.1 to 1.5).
DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20211108/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)
HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER")
SINGLE_HIT = ("UNIQUE", "FIRST", "PRIORITY", "ANY")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
MAX_RULES = 1000
MAX_COLUMNS = 50
MAX_DECISIONS = 50


class InvalidDecision(EngineError):
    """A DMN file that cannot be deployed; details list one problem per cell or element:
    {decision, element, rule, input | output, line, column, message}."""

    code = "invalid_decision"
    status = 422


class DecisionFailed(EngineError):
    """A decision that could not be evaluated with these values (a cell comparing text with a
    number, two rules of a UNIQUE table matching): the same values fail the same way again."""

    code = "decision_failed"
    status = 422
    transient = False


@dataclass(frozen=True)
class Rule:
    id: str
    conditions: list[str | None]  # dsl condition per input; None matches anything
    outputs: list[str | None]  # dsl expression per output; None gives null
    entries: list[str] = field(default_factory=list)  # the cells as drawn, for the designer and logs


@dataclass(frozen=True)
class DecisionTable:
    """One decision of a DMN file, ready to evaluate: every text is dsl that compiled at deploy."""

    key: str
    name: str
    hit_policy: str
    aggregation: str | None
    inputs: list[dict[str, str]]  # {"label", "expression"}
    outputs: list[dict[str, Any]]  # {"name", "label", "priority": [values] | None}
    rules: list[Rule]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "name": self.name, "hit_policy": self.hit_policy, "aggregation": self.aggregation,
            "inputs": self.inputs, "outputs": self.outputs,
            "rules": [{"id": r.id, "conditions": r.conditions, "outputs": r.outputs, "entries": r.entries}
                      for r in self.rules],
        }

    @staticmethod
    def from_dict(dct: Mapping[str, Any]) -> DecisionTable:
        return DecisionTable(
            dct["key"], dct["name"], dct["hit_policy"], dct.get("aggregation"), list(dct["inputs"]),
            list(dct["outputs"]),
            [Rule(r["id"], list(r["conditions"]), list(r["outputs"]), list(r.get("entries", [])))
             for r in dct["rules"]],
        )

    def evaluate(self, env: Mapping[str, Any], now: datetime | None = None) -> DecisionResult:
        """The rules whose every input entry holds, combined by the hit policy."""
        matched: list[tuple[int, Rule]] = []
        for number, rule in enumerate(self.rules, 1):
            if all(self._holds(condition, env, now, number, column)
                   for column, condition in enumerate(rule.conditions, 1)):
                matched.append((number, rule))
        rows = [(number, self._row(rule, env, now, number)) for number, rule in matched]
        return self._combine(rows)

    def _holds(self, condition: str | None, env: Mapping[str, Any], now: datetime | None,
               number: int, column: int) -> bool:
        if condition is None:
            return True
        try:
            return compile_expression(condition).evaluate(env, now) is True
        except DslError as err:
            label = self.inputs[column - 1]["label"]
            raise DecisionFailed(f"decision {self.name} ({self.key}), rule {number}, input {label}: {err.message}",
                                 {"decision": self.key, "rule": number, "input": column}) from None

    def _row(self, rule: Rule, env: Mapping[str, Any], now: datetime | None, number: int) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for column, (output, text) in enumerate(zip(self.outputs, rule.outputs, strict=True), 1):
            try:
                row[output["name"]] = compile_expression(text).evaluate(env, now) if text else None
            except DslError as err:
                raise DecisionFailed(
                    f"decision {self.name} ({self.key}), rule {number}, output {output['name']}: {err.message}",
                    {"decision": self.key, "rule": number, "output": column}) from None
        return row

    def _combine(self, rows: list[tuple[int, dict[str, Any]]]) -> DecisionResult:
        policy = self.hit_policy
        numbers = [n for n, _ in rows]
        if policy == "UNIQUE" and len(rows) > 1:
            raise DecisionFailed(
                f"decision {self.name} ({self.key}) is UNIQUE but rules {_listed(numbers)} all match",
                {"decision": self.key, "rules": numbers})
        if policy == "ANY" and any(row != rows[0][1] for _, row in rows[1:]):
            raise DecisionFailed(
                f"decision {self.name} ({self.key}) is ANY but rules {_listed(numbers)} match with different outputs",
                {"decision": self.key, "rules": numbers})
        if policy in ("PRIORITY", "OUTPUT ORDER"):
            rows = sorted(rows, key=lambda item: self._priority(item[1]))
        if policy in SINGLE_HIT:
            rows = rows[:1]
            value: Any = rows[0][1] if rows else None
        elif self.aggregation is not None:
            value = _aggregate(self.aggregation, [row[self.outputs[0]["name"]] for _, row in rows])
        else:
            value = [row for _, row in rows]
        return DecisionResult(self, [n for n, _ in rows], [row for _, row in rows], value)

    def _priority(self, row: Mapping[str, Any]) -> tuple[int, ...]:
        ranks = []
        for output in self.outputs:
            order = output.get("priority") or []
            value = row.get(output["name"])
            ranks.append(next((i for i, v in enumerate(order) if _same(v, value)), len(order)))
        return tuple(ranks)


def _same(listed: Any, value: Any) -> bool:
    if isinstance(listed, int | float | Decimal) and isinstance(value, int | float | Decimal) \
            and not isinstance(value, bool) and not isinstance(listed, bool):
        return Decimal(str(listed)) == Decimal(str(value))
    return bool(listed == value)


def _listed(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}" if len(numbers) > 1 else str(numbers[0])


def _aggregate(aggregation: str, values: list[Any]) -> Any:
    if aggregation == "COUNT":
        return len(values)
    present = [v for v in values if v is not None]
    if not present:
        return None
    if any(not isinstance(v, int | float | Decimal) or isinstance(v, bool) for v in present) and aggregation == "SUM":
        raise DecisionFailed(f"COLLECT SUM needs numbers, got {', '.join(repr(v) for v in present[:3])}")
    try:
        if aggregation == "SUM":
            return sum(present[1:], start=present[0])
        return min(present) if aggregation == "MIN" else max(present)
    except TypeError as err:
        raise DecisionFailed(f"COLLECT {aggregation} cannot compare these values: {err}") from err


@dataclass(frozen=True)
class DecisionResult:
    """What a decision gave: `value` is one row ({output: value}) or None for a single-hit
    policy, a list of rows for COLLECT / RULE ORDER / OUTPUT ORDER, the number for an aggregation."""

    table: DecisionTable
    matched: list[int]  # the numbers (1-based) of the rules in the result, in its order
    rows: list[dict[str, Any]]
    value: Any

    def variables(self) -> dict[str, Any]:
        """The result as process variables, one per output column (Spiff's convention): its
        value for a single hit (null when no rule matched), the list of values for several, the
        aggregate for an aggregation."""
        names = [o["name"] for o in self.table.outputs]
        if self.table.hit_policy in SINGLE_HIT:
            row = self.rows[0] if self.rows else {}
            return {name: row.get(name) for name in names}
        if self.table.aggregation is not None:
            return {names[0]: self.value}
        return {name: [row.get(name) for row in self.rows] for name in names}


# ---------------------------------------------------------------------- reading a DMN file


def read_decisions(xml: str | bytes) -> tuple[list[DecisionTable], str]:
    """Every decision table of a DMN file, compiled; raises InvalidDecision listing every problem."""
    try:
        text = xml_text(xml)
        root = load_xml(text)
    except InvalidProcess as err:
        raise InvalidDecision(str(err).replace("BPMN", "DMN")) from err
    ns = etree.QName(root).namespace
    if etree.QName(root).localname != "definitions" or ns not in DMN_NAMESPACES:
        raise InvalidDecision("not a DMN file: the root element must be dmn:definitions of DMN 1.1 to 1.5",
                              [{"element": None, "message": f"root element {etree.QName(root).localname!r}"}])
    reader = _Reader(ns, text)
    decisions = root.findall(f"{{{ns}}}decision")
    if not decisions:
        raise InvalidDecision("the file has no dmn:decision", [])
    if len(decisions) > MAX_DECISIONS:
        raise InvalidDecision(f"the file has more than {MAX_DECISIONS} decisions", [])
    tables = [t for d in decisions if (t := reader.decision(d)) is not None]
    keys = [t.key for t in tables]
    for key in {k for k in keys if keys.count(k) > 1}:
        reader.problem(None, f"two decisions have the id {key!r}", decision=key)
    if reader.problems:
        first = reader.problems[0]
        raise InvalidDecision(f"{len(reader.problems)} problem(s) in the decisions: {first['text']}",
                              reader.problems)
    return tables, text


class _Reader:
    def __init__(self, ns: str, text: str) -> None:
        self.ns, self.text = ns, text
        self.problems: list[dict[str, Any]] = []

    def tag(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def problem(self, el: etree._Element | None, message: str, *, decision: str | None,
                inner: tuple[int, int] | None = None, **where: Any) -> None:
        place = located(el, self.text) if el is not None else {}
        if inner is not None and place.get("line") is not None:
            place = {**place, "cell_line": inner[0], "cell_column": inner[1]}
        said = [f"decision {decision}" if decision else "",
                *(f"{k} {v}" for k, v in where.items() if k in ("rule", "input", "output") and v is not None)]
        prefix = ", ".join(s for s in said if s)
        line = f" (line {place['line']})" if place.get("line") else ""
        self.problems.append({
            "decision": decision, "element": el.get("id") if el is not None else None, **where, **place,
            "message": message, "text": f"{prefix}{line}: {message}" if prefix else message,
        })

    def decision(self, el: etree._Element) -> DecisionTable | None:
        key = (el.get("id") or "").strip()
        name = (el.get("name") or "").strip() or key
        if not key or len(key) > 100:
            self.problem(el, "a decision needs an id of at most 100 characters: it is the key tasks call it by",
                         decision=None)
            return None
        for requirement in el.iter(self.tag("informationRequirement")):
            if requirement.find(self.tag("requiredDecision")) is not None:
                self.problem(requirement, "decisions that require other decisions are not supported; "
                                          "give the table the values as input expressions instead", decision=key)
                return None
        table_el = el.find(self.tag("decisionTable"))
        if table_el is None:
            self.problem(el, "only decision tables can be deployed (this decision has no dmn:decisionTable)",
                         decision=key)
            return None
        before = len(self.problems)
        policy = (table_el.get("hitPolicy") or "UNIQUE").strip().upper().replace("_", " ")
        aggregation = (table_el.get("aggregation") or "").strip().upper() or None
        if policy not in HIT_POLICIES:
            self.problem(table_el, f"unknown hit policy {policy!r} (one of {', '.join(HIT_POLICIES)})", decision=key)
        if aggregation is not None and (aggregation not in AGGREGATIONS or policy != "COLLECT"):
            self.problem(table_el, f"aggregation {aggregation!r}: only COLLECT takes one, "
                                   f"of {', '.join(AGGREGATIONS)}", decision=key)
        inputs = self.inputs(table_el, key)
        outputs = self.outputs(table_el, key, policy)
        if aggregation is not None and aggregation != "COUNT" and len(outputs) != 1:
            self.problem(table_el, f"COLLECT {aggregation} needs exactly one output column", decision=key)
        rule_els = table_el.findall(self.tag("rule"))
        if len(rule_els) > MAX_RULES:
            self.problem(table_el, f"a decision table may have at most {MAX_RULES} rules", decision=key)
            return None
        rules = [self.rule(r, number, key, inputs, outputs) for number, r in enumerate(rule_els, 1)]
        if len(self.problems) > before:
            return None
        return DecisionTable(key, name, policy, aggregation, inputs, outputs, rules)

    def inputs(self, table_el: etree._Element, key: str) -> list[dict[str, str]]:
        inputs = []
        for column, input_el in enumerate(table_el.findall(self.tag("input")), 1):
            label = (input_el.get("label") or "").strip()
            expression_el = input_el.find(self.tag("inputExpression"))
            text_el = expression_el.find(self.tag("text")) if expression_el is not None else None
            expression = (text_el.text or "").strip() if text_el is not None else ""
            label = label or expression or f"input {column}"
            if not expression:
                self.problem(input_el, "the input column needs an expression (dsl, e.g. deal.amount)",
                             decision=key, input=column)
            else:
                try:
                    compile_expression(expression)
                except DslError as err:
                    self.problem(expression_el, f"input expression: {err}", decision=key, input=column,
                                 inner=(err.line or 1, err.column or 1))
                    expression = ""  # its cells are checked against null, not reported again
            inputs.append({"label": label, "expression": expression})
        if len(inputs) > MAX_COLUMNS:
            self.problem(table_el, f"a decision table may have at most {MAX_COLUMNS} inputs", decision=key)
        return inputs

    def outputs(self, table_el: etree._Element, key: str, policy: str) -> list[dict[str, Any]]:
        outputs: list[dict[str, Any]] = []
        for column, output_el in enumerate(table_el.findall(self.tag("output")), 1):
            name = (output_el.get("name") or "").strip()
            label = (output_el.get("label") or "").strip() or name
            if not name and label.isidentifier():
                name = label
            if not name.isidentifier() or name.startswith("_"):
                self.problem(output_el, f"output column {column} needs a name that is a word of letters, digits "
                                        f"and _ (it becomes the process variable), not {name!r}",
                             decision=key, output=column)
            values_el = output_el.find(f"{self.tag('outputValues')}/{self.tag('text')}")
            priority = self.literal_list(values_el, key, column) if values_el is not None else None
            outputs.append({"name": name, "label": label or name, "priority": priority})
        if not outputs:
            self.problem(table_el, "a decision table needs at least one output column", decision=key)
        if len(outputs) > MAX_COLUMNS:
            self.problem(table_el, f"a decision table may have at most {MAX_COLUMNS} outputs", decision=key)
        if policy in ("PRIORITY", "OUTPUT ORDER") and outputs and not any(o["priority"] for o in outputs):
            self.problem(table_el, f"{policy} ranks rules by the output values listed on an output column "
                                   "(\"high\",\"medium\",\"low\"); none lists them", decision=key)
        return outputs

    def literal_list(self, el: etree._Element, key: str, column: int) -> list[Any] | None:
        """`"high","medium","low"` (an output column's values, in priority order) as values."""
        cell = (el.text or "").strip()
        if not cell:
            return None
        try:
            return _Literals().transform(_parser().parse(cell))  # type: ignore[no-any-return]
        except (UnexpectedInput, ValueError, DslError, UnaryTestError, Exception):
            self.problem(el.getparent(), f"output values {cell!r} must be literals separated by commas",
                         decision=key, output=column)
            return None

    def rule(self, rule_el: etree._Element, number: int, key: str, inputs: list[dict[str, str]],
             outputs: list[dict[str, Any]]) -> Rule:
        rule_id = rule_el.get("id") or f"rule {number}"
        entries = rule_el.findall(self.tag("inputEntry"))
        results = rule_el.findall(self.tag("outputEntry"))
        if len(entries) != len(inputs) or len(results) != len(outputs):
            self.problem(rule_el, f"the rule has {len(entries)} input and {len(results)} output entries; the table "
                                  f"has {len(inputs)} inputs and {len(outputs)} outputs", decision=key, rule=number)
            return Rule(rule_id, [], [], [])
        conditions: list[str | None] = []
        drawn: list[str] = []
        for column, (entry, spec) in enumerate(zip(entries, inputs, strict=True), 1):
            cell = _cell(entry, self.tag("text"))
            drawn.append(cell)
            try:
                conditions.append(compile_unary_test(cell, spec["expression"] or "null").condition)
            except UnaryTestError as err:
                self.problem(entry, f"{spec['label']}: {err.message}", decision=key, rule=number, input=column,
                             inner=(err.line, err.column))
                conditions.append(None)
        values: list[str | None] = []
        for column, (entry, spec) in enumerate(zip(results, outputs, strict=True), 1):
            cell = _cell(entry, self.tag("text"))
            drawn.append(cell)
            if cell:
                try:
                    compile_expression(cell)
                except DslError as err:
                    self.problem(entry, f"{spec['label']}: {err}", decision=key, rule=number, output=column,
                                 inner=(err.line or 1, err.column or 1))
            values.append(cell or None)
        return Rule(rule_id, conditions, values, drawn)


def _cell(entry: etree._Element, text_tag: str) -> str:
    text_el = entry.find(text_tag)
    return (text_el.text or "").strip() if text_el is not None else ""


@v_args(inline=True)
class _Literals(Transformer):  # type: ignore[type-arg]  # lark's Transformer is generic over its tree
    def _literal(self, token: Token) -> Any:
        return compile_expression(str(token)).evaluate({})

    number = string = true = false = null = _literal

    def equal(self, value: Any) -> Any:
        return value

    def tests(self, *values: Any) -> list[Any]:
        return list(values)

    def start(self, values: list[Any]) -> list[Any]:
        return values

    def __default__(self, data: Any, children: Any, meta: Any) -> Any:
        raise ValueError(f"not a literal: {data}")
