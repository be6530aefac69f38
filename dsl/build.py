"""Turn lark trees into nodes, checking at compile time all that can be checked without data.

A string literal with braces is a template: its text (escapes already resolved) is parsed
by the template grammar and its node positions are moved back onto the literal's place in
the source, so an error in a hole points where the person typed it.

Rule and terminal names are read without the namespace prefix lark gives %imported rules,
so a grammar that imports the expression grammar (templates, scripts, later robot files)
is built by the same code. Literal values (dates, durations, escapes, digit limits) and
function calls (whitelist, argument count) are checked here, with the token's position.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lark import Token, Tree

from dsl import limits, nodes
from dsl.durations import dsl_duration
from dsl.errors import DslCallError, DslSyntaxError
from dsl.functions import FUNCTIONS, Function
from dsl.parser import parse, position
from dsl.values import as_utc

_TEMPLATE_NESTING: contextvars.ContextVar[int] = contextvars.ContextVar("template_nesting", default=0)
# The parameters of the lambdas being built around the current subtree: there, those names
# are the lambda's item (nodes.Local), not paths into the data.
_LOCALS: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("lambda_locals", default=frozenset())
_ITEM_FUNCTION_HINT = "an 'item -> expression' argument"
_BRACE_HINT = "write '{{' or '}}' for a brace in text"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def rule_name(tree: Tree[Token]) -> str:
    return str(tree.data).rpartition("__")[2]


def subtree(item: Tree[Token] | Token) -> Tree[Token]:
    """`item` where the grammar puts a rule (lark types every child as token or tree)."""
    if isinstance(item, Token):  # pragma: no cover - the grammar puts a rule here
        raise DslSyntaxError(f"unexpected {item.value!r}", item.line, item.column)
    return item


def leaf(item: Tree[Token] | Token) -> Token:
    """`item` where the grammar puts a terminal (lark types every child as token or tree)."""
    if isinstance(item, Tree):  # pragma: no cover - the grammar puts a terminal here
        raise DslSyntaxError(f"unexpected '{rule_name(item)}'", *position(item))
    return item


def build_expression(tree: Tree[Token] | Token) -> nodes.Node:
    """The node for an expression subtree of any grammar that %imports `expr`."""
    if isinstance(tree, Token):  # pragma: no cover - every operand is wrapped in a rule
        raise DslSyntaxError(f"unexpected {tree.value!r}", tree.line, tree.column)
    builder = _BUILDERS.get(rule_name(tree))
    if builder is None:  # pragma: no cover - a grammar rule without a builder is a bug
        raise DslSyntaxError(f"cannot build '{rule_name(tree)}'", *position(tree))
    return builder(tree)


def _at(item: Tree[Token] | Token) -> dict[str, int | None]:
    line, column = position(item)
    return {"line": line, "column": column}


# --- literals ------------------------------------------------------------------------------


def _token(tree: Tree[Token]) -> Token:
    return leaf(tree.children[0])


def _literal(convert: Callable[[str], Any]) -> Callable[[Tree[Token]], nodes.Node]:
    def build(tree: Tree[Token]) -> nodes.Node:
        token = _token(tree)
        try:
            value = convert(token.value)
        except (ValueError, OverflowError) as error:
            raise DslSyntaxError(f"{token.value!r} is not valid: {error}", token.line, token.column) from None
        return nodes.Literal(value, **_at(token))

    return build


def _check_digits(text: str) -> str:
    digits = sum(char.isdigit() for char in text)
    if digits > limits.MAX_DIGITS:
        raise ValueError(f"more than {limits.MAX_DIGITS} digits")
    return text


def _string_node(token: Token) -> nodes.Node:
    """A plain Literal, or a TextTemplate when the text has braces (`{{`/`}}` are escapes)."""
    try:
        value, offsets = _unescape(token.value)
    except ValueError as error:
        raise DslSyntaxError(f"{token.value!r} is not valid: {error}", token.line, token.column) from None
    if "{" not in value and "}" not in value:
        return nodes.Literal(value, **_at(token))
    nesting = _TEMPLATE_NESTING.get()
    if nesting >= limits.MAX_TEMPLATE_NESTING:
        raise DslSyntaxError(
            f"text with holes nested more than {limits.MAX_TEMPLATE_NESTING} levels deep", token.line, token.column
        )
    place = _Relocation(token, value, offsets)
    reset = _TEMPLATE_NESTING.set(nesting + 1)
    try:
        parts = build_template(parse("template", value))
    except DslSyntaxError as error:
        if "'}}'" not in error.message:
            error.message = f"{error.message} ({_BRACE_HINT})"
        error.line, error.column = place.source_position(error.line, error.column)
        raise
    finally:
        _TEMPLATE_NESTING.reset(reset)
    if not any(isinstance(part, nodes.Node) for part in parts):
        return nodes.Literal("".join(parts), **_at(token))  # type: ignore[arg-type]
    for part in parts:
        if isinstance(part, nodes.Node):
            place.relocate(part)
    return nodes.TextTemplate(parts, token.value, **_at(token))


def string_value(token: Token) -> str:
    """A quoted literal read as plain text, braces and all: names and titles have no holes."""
    try:
        return _unescape(token.value)[0]
    except ValueError as error:
        raise DslSyntaxError(f"{token.value!r} is not valid: {error}", token.line, token.column) from None


class _Relocation:
    """Maps positions in a string literal's unescaped text back to the source text."""

    def __init__(self, token: Token, value: str, offsets: list[int]) -> None:
        self.line = token.line
        self.column = (token.column or 0) + 1  # past the opening quote (every lexed token has one)
        self.offsets = offsets
        self.line_starts = [0] + [i + 1 for i, char in enumerate(value) if char == "\n"]

    def source_position(self, line: int | None, column: int | None) -> tuple[int | None, int | None]:
        if line is None or column is None:
            return self.line, self.column - 1
        offset = self.line_starts[min(line, len(self.line_starts)) - 1] + column - 1
        return self.line, self.column + self.offsets[min(offset, len(self.offsets) - 1)]

    def relocate(self, node: nodes.Node) -> None:
        """Rewrite positions in place: the nodes were built just now and are not shared yet."""
        for current in nodes.walk(node):
            if current.line is not None:
                line, column = self.source_position(current.line, current.column)
                object.__setattr__(current, "line", line)
                object.__setattr__(current, "column", column)
            if isinstance(current, nodes.Arithmetic):
                moved = tuple(self.source_position(*where) for where in current.positions)
                object.__setattr__(current, "positions", moved)


def _unescape(literal: str) -> tuple[str, list[int]]:
    """The text of a quoted literal, and for each of its characters (and its end) the offset
    in the literal's inner source where it was written."""
    inner = literal[1:-1]
    chars: list[str] = []
    offsets: list[int] = []
    index = 0
    while index < len(inner):
        offsets.append(index)
        if inner[index] != "\\":
            chars.append(inner[index])
            index += 1
            continue
        code = inner[index + 1]
        if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", inner[index + 2 : index + 6]):
            chars.append(chr(int(inner[index + 2 : index + 6], 16)))
            index += 6
        elif code in _ESCAPES:
            chars.append(_ESCAPES[code])
            index += 2
        else:
            raise ValueError(f"unknown escape '\\{code}'")
    offsets.append(len(inner))
    return "".join(chars), offsets


def _datetime(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text))


_LITERALS: dict[str, Callable[[Tree[Token]], nodes.Node]] = {
    "int": _literal(lambda text: int(_check_digits(text))),
    "decimal": _literal(lambda text: Decimal(_check_digits(text))),
    "string": lambda tree: _string_node(_token(tree)),
    "date": _literal(date.fromisoformat),
    "datetime": _literal(_datetime),
    "duration": _literal(lambda text: dsl_duration(_check_digits(text))),
    "true": _literal(lambda _: True),
    "false": _literal(lambda _: False),
    "null": _literal(lambda _: None),
}


# --- structure -----------------------------------------------------------------------------


def _subtrees(tree: Tree[Token]) -> list[nodes.Node]:
    return [build_expression(child) for child in tree.children if isinstance(child, Tree)]


def _name(tree: Tree[Token]) -> nodes.Node:
    name = str(_token(tree))
    if name in _LOCALS.get():
        return nodes.Local(name, **_at(tree))
    return nodes.Name(name, **_at(tree))


def _lambda(tree: Tree[Token]) -> nodes.Node:
    param, body = tree.children
    param = leaf(param)
    reset = _LOCALS.set(_LOCALS.get() | {str(param)})
    try:
        built = build_expression(body)
    finally:
        _LOCALS.reset(reset)
    return nodes.Lambda(str(param), built, **_at(param))


def _if_else(tree: Tree[Token]) -> nodes.Node:
    condition, then, otherwise = _subtrees(tree)
    return nodes.IfElse(condition, then, otherwise, **_at(tree))


def _attr(tree: Tree[Token]) -> nodes.Node:
    obj, name = tree.children
    return nodes.Attr(build_expression(obj), str(name), **_at(name))


def _index(tree: Tree[Token]) -> nodes.Node:
    obj, index = _subtrees(tree)
    return nodes.Index(obj, index, **_at(tree.children[1]))


def _call(tree: Tree[Token]) -> nodes.Node:
    name = _token(tree)
    args = tuple(_subtrees(tree))
    function = FUNCTIONS.get(str(name))
    if function is None:
        raise DslCallError(f"unknown function '{name}'", name.line, name.column, sorted(FUNCTIONS))
    too_few = len(args) < function.min_args
    if too_few or (function.max_args is not None and len(args) > function.max_args):
        raise DslCallError(
            f"{name}() takes {function.arity_text()} argument(s), not {len(args)}", name.line, name.column
        )
    _check_item_functions(str(name), function, args)
    return nodes.Call(str(name), args, function, **_at(name))


def _check_item_functions(name: str, function: Function, args: tuple[nodes.Node, ...]) -> None:
    """A lambda only as the second of two arguments, and only where the function takes one."""
    takers = sorted(f.name for f in FUNCTIONS.values() if f.item_function != "no")
    for index, arg in enumerate(args):
        if not isinstance(arg, nodes.Lambda):
            continue
        if function.item_function == "no":
            message = f"{name}() takes no 'item -> expression' argument; {', '.join(takers)} do"
            raise DslCallError(message, arg.line, arg.column)
        if index != 1 or len(args) != 2:
            example = f"{name}(deal.products, p -> p.qty)"
            message = f"the 'item -> expression' argument of {name}() comes second, after the list, like {example}"
            raise DslCallError(message, arg.line, arg.column)
    if function.item_function == "required" and not isinstance(args[1], nodes.Lambda):
        message = f"{name}() needs {_ITEM_FUNCTION_HINT} after the list, like {name}(deal.products, p -> p.qty > 0)"
        raise DslCallError(message, args[1].line, args[1].column)


def _list(tree: Tree[Token]) -> nodes.Node:
    items = tuple(_subtrees(tree))
    if len(items) > limits.MAX_LIST_LENGTH:
        raise DslSyntaxError(f"list longer than {limits.MAX_LIST_LENGTH} items", *position(tree))
    return nodes.ListNode(items, **_at(tree))


def _group(tree: Tree[Token]) -> nodes.Node:
    (inner,) = _subtrees(tree)
    return inner


def _not(tree: Tree[Token]) -> nodes.Node:
    (operand,) = _subtrees(tree)
    return nodes.Not(operand, **_at(tree))


def _neg(tree: Tree[Token]) -> nodes.Node:
    (operand,) = _subtrees(tree)
    return nodes.Neg(operand, **_at(tree))


def _logical(operator: str) -> Callable[[Tree[Token]], nodes.Node]:
    def build(tree: Tree[Token]) -> nodes.Node:
        operands = _subtrees(tree)
        first = operands[0]
        # `(a and b) and c` is the same chain as `a and b and c`: keep one canonical tree.
        if isinstance(first, nodes.Logical) and first.operator == operator:
            operands = [*first.operands, *operands[1:]]
        return nodes.Logical(operator, tuple(operands), **_at(tree))

    return build


def _arithmetic(tree: Tree[Token]) -> nodes.Node:
    operands = [build_expression(child) for child in tree.children[::2]]
    tokens = tree.children[1::2]
    operators = [str(token) for token in tokens]
    positions = [position(token) for token in tokens]
    first = operands[0]
    # `(a - b) + c` is the same chain as `a - b + c` (left to right): keep one canonical tree.
    if isinstance(first, nodes.Arithmetic) and _level(first.operators[0]) == _level(operators[0]):
        operands = [*first.operands, *operands[1:]]
        operators = [*first.operators, *operators]
        positions = [*first.positions, *positions]
    return nodes.Arithmetic(tuple(operands), tuple(operators), tuple(positions), **_at(tree))


def _level(operator: str) -> int:
    return 1 if operator in "+-" else 2


def _compare(tree: Tree[Token]) -> nodes.Node:
    left, operator, right = tree.children
    return nodes.Compare(str(operator), build_expression(left), build_expression(right), **_at(operator))


def _membership(operator: str) -> Callable[[Tree[Token]], nodes.Node]:
    def build(tree: Tree[Token]) -> nodes.Node:
        left, right = _subtrees(tree)
        return nodes.Compare(operator, left, right, **_at(tree))

    return build


def _is_null(negated: bool) -> Callable[[Tree[Token]], nodes.Node]:
    def build(tree: Tree[Token]) -> nodes.Node:
        (operand,) = _subtrees(tree)
        return nodes.IsNull(operand, negated, **_at(tree))

    return build


def _start(tree: Tree[Token]) -> nodes.Node:
    (expression,) = _subtrees(tree)
    return expression


_BUILDERS: dict[str, Callable[[Tree[Token]], nodes.Node]] = {
    **_LITERALS,
    "name": _name,
    "attr": _attr,
    "index": _index,
    "call": _call,
    "lambda_": _lambda,
    "if_else": _if_else,
    "list": _list,
    "group": _group,
    "not_": _not,
    "neg": _neg,
    "or_expr": _logical("or"),
    "and_expr": _logical("and"),
    "sum": _arithmetic,
    "product": _arithmetic,
    "compare": _compare,
    "in_": _membership("in"),
    "not_in": _membership("not in"),
    "is_null": _is_null(False),
    "is_not_null": _is_null(True),
    "start": _start,
}


# --- templates and scripts -----------------------------------------------------------------


def build_template(tree: Tree[Token]) -> tuple[str | nodes.Node, ...]:
    """Template parts in order: literal text (braces unescaped) and expression nodes."""
    parts: list[str | nodes.Node] = []
    for child in tree.children:
        if isinstance(child, Token):
            parts.append(child.value.replace("{{", "{").replace("}}", "}"))
        else:
            (hole,) = child.children
            parts.append(build_expression(hole))
    return tuple(parts)


def build_script(tree: Tree[Token]) -> tuple[nodes.Assignment, ...]:
    """Script statements in order; each is a dotted target and the expression assigned."""
    statements = []
    for statement in tree.children:
        if not isinstance(statement, Tree) or rule_name(statement) != "statement":
            continue
        target, value = statement.children
        target = subtree(target)
        names = tuple(str(token) for token in target.children)
        statements.append(nodes.Assignment(names, build_expression(value), **_at(target)))
    return tuple(statements)
