"""Small DMN decision tables for tests, written as dmn-js saves them (DMN 1.3, no layout)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def decision_table(key: str, inputs: Sequence[tuple[str, str]], outputs: Sequence[str],
                   rules: Sequence[Sequence[str]], *, hit_policy: str = "UNIQUE", aggregation: str | None = None,
                   name: str | None = None, output_values: dict[str, str] | None = None) -> str:
    """`inputs` are (label, dsl expression); each rule lists its input entries, then its output entries."""
    policy = f' hitPolicy="{hit_policy}"' + (f' aggregation="{aggregation}"' if aggregation else "")
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<definitions xmlns="{DMN_NS}" id="defs_{key}" name="{key}" namespace="https://dealflow.dev/tests">',
             f'  <decision id="{key}" name={quoteattr(name or key)}>',
             f'    <decisionTable id="table_{key}"{policy}>']
    for number, (label, expression) in enumerate(inputs, 1):
        lines.append(f'      <input id="in{number}" label={quoteattr(label)}><inputExpression id="ie{number}">'
                     f"<text>{escape(expression)}</text></inputExpression></input>")
    for number, output in enumerate(outputs, 1):
        values = (output_values or {}).get(output)
        inner = f"<outputValues><text>{escape(values)}</text></outputValues>" if values else ""
        lines.append(f'      <output id="out{number}" name="{output}" label="{output}">{inner}</output>')
    for number, cells in enumerate(rules, 1):
        lines.append(f'      <rule id="r{number}">')
        for column, cell in enumerate(cells[:len(inputs)], 1):
            lines.append(f'        <inputEntry id="r{number}_i{column}"><text>{escape(cell)}</text></inputEntry>')
        for column, cell in enumerate(cells[len(inputs):], 1):
            lines.append(f'        <outputEntry id="r{number}_o{column}"><text>{escape(cell)}</text></outputEntry>')
        lines.append("      </rule>")
    lines += ["    </decisionTable>", "  </decision>", "</definitions>", ""]
    return "\n".join(lines)
