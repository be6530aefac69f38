"""Print expressions back in one canonical form, for the designer and for diffs of robot files.

Single spaces around binary operators, parentheses only where precedence needs them,
strings in double quotes (string literals with holes are printed exactly as written).
Parsing the output gives the same node tree as the input.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dsl import nodes
from dsl.durations import format_duration
from dsl.expression import Expression, compile_expression
from dsl.values import format_datetime

# Binding strength, weakest first; a child weaker than its place needs parentheses.
# `if ... then ... else ...` is weaker than everything: its `else` branch reaches to the end.
_IF_ELSE = 0
_OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _UNARY, _POSTFIX = range(1, 9)
_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def format_expression(expression: Expression | nodes.Node | str) -> str:
    """The canonical text of an expression (text is compiled first; DslSyntaxError if invalid)."""
    if isinstance(expression, str):
        expression = compile_expression(expression)
    node = expression.node if isinstance(expression, Expression) else expression
    return _format(node)


def _strength(node: nodes.Node) -> int:
    if isinstance(node, nodes.IfElse):
        return _IF_ELSE
    if isinstance(node, nodes.Logical):
        return _OR if node.operator == "or" else _AND
    if isinstance(node, nodes.Not):
        return _NOT
    if isinstance(node, nodes.Compare | nodes.IsNull):
        return _COMPARE
    if isinstance(node, nodes.Arithmetic):
        return _SUM if node.operators[0] in "+-" else _PRODUCT
    if isinstance(node, nodes.Neg):
        return _UNARY
    return _POSTFIX


def _child(node: nodes.Node, weakest_allowed: int) -> str:
    text = _format(node)
    return text if _strength(node) >= weakest_allowed else f"({text})"


def _format(node: nodes.Node) -> str:
    if isinstance(node, nodes.Literal):
        return format_literal(node.value)
    if isinstance(node, nodes.TextTemplate):
        return node.source  # as written: the text is the person's, the holes read better untouched
    if isinstance(node, nodes.Name | nodes.Local):
        return node.name
    if isinstance(node, nodes.Lambda):
        return f"{node.param} -> {_format(node.body)}"
    if isinstance(node, nodes.IfElse):
        return f"if {_child(node.condition, _OR)} then {_format(node.then)} else {_format(node.otherwise)}"
    if isinstance(node, nodes.Attr):
        return f"{_child(node.obj, _POSTFIX)}.{node.name}"
    if isinstance(node, nodes.Index):
        return f"{_child(node.obj, _POSTFIX)}[{_format(node.index)}]"
    if isinstance(node, nodes.Call):
        return f"{node.name}({', '.join(_format(arg) for arg in node.args)})"
    if isinstance(node, nodes.ListNode):
        return f"[{', '.join(_format(item) for item in node.items)}]"
    if isinstance(node, nodes.Not):
        return f"not {_child(node.operand, _NOT)}"
    if isinstance(node, nodes.Neg):
        return f"-{_child(node.operand, _UNARY)}"
    if isinstance(node, nodes.Logical):
        return _chain(node, [f" {node.operator} "] * (len(node.operands) - 1), node.operands)
    if isinstance(node, nodes.Arithmetic):
        return _chain(node, [f" {op} " for op in node.operators], node.operands)
    if isinstance(node, nodes.Compare):
        left, right = _child(node.left, _SUM), _child(node.right, _SUM)
        return f"{left} {node.operator} {right}"
    if isinstance(node, nodes.IsNull):
        return f"{_child(node.operand, _SUM)} is {'not ' if node.negated else ''}null"
    raise TypeError(f"cannot format {type(node).__name__}")


def _chain(node: nodes.Node, separators: list[str], operands: tuple[nodes.Node, ...]) -> str:
    """Left-associative: the first operand may be as weak as the chain, the others not."""
    own = _strength(node)
    parts = [_child(operands[0], own)]
    for separator, operand in zip(separators, operands[1:], strict=True):
        parts.append(separator + _child(operand, own + 1))
    return "".join(parts)


def format_literal(value: Any) -> str:
    """A literal as the grammar spells it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return format_string(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    raise TypeError(f"{type(value).__name__} has no literal form")


def format_string(value: str) -> str:
    """A string literal for `value`; braces are doubled, since a brace opens a template hole."""
    return quote_text(value.replace("{", "{{").replace("}", "}}"))


def quote_text(value: str) -> str:
    """`value` in double quotes with escapes, braces as they are (names and titles)."""
    escaped = "".join(
        _STRING_ESCAPES.get(char) or (f"\\u{ord(char):04x}" if ord(char) < 32 else char) for char in value
    )
    return f'"{escaped}"'
