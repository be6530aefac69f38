"""DMN input entries (FEEL unary tests, the subset modelers write) compiled to dsl.

A cell such as `[1000..5000]` is parsed by our own small grammar (unary.lark) and becomes a
dsl condition over the column's input expression, `(deal.amount) >= 1000 and (deal.amount)
<= 5000`, which the dsl parses and checks like any other condition. FEEL itself is never
evaluated: what the grammar does not read is refused at deploy with its position in the cell.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from lark import Lark, Token, Transformer, UnexpectedEOF, UnexpectedInput, UnexpectedToken, v_args
from lark.exceptions import VisitError

from dsl import DslError, compile_expression

_GRAMMAR = Path(__file__).with_name("unary.lark").read_text(encoding="utf-8")
#: A cell longer than this is not a unary test anyone drew; refused before the parser sees it.
MAX_CELL = 2000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})")
_DSL_OPS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "==", "!=": "!="}


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=False)


class UnaryTestError(Exception):
    """A cell that is not a unary test we read: `line`/`column` are 1-based, inside the cell."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass(frozen=True)
class UnaryTest:
    """A compiled cell: `condition` is dsl text, None for a cell that matches any value."""

    text: str
    condition: str | None


@v_args(inline=True)
class _ToDsl(Transformer):  # type: ignore[type-arg]  # lark's Transformer is generic over its tree
    """Each test as dsl text over `value` (the input expression, parenthesized)."""

    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value

    def number(self, token: Token) -> str:
        return str(token)

    def string(self, token: Token) -> str:
        return str(token)

    def true(self, _: Token) -> str:
        return "true"

    def false(self, _: Token) -> str:
        return "false"

    def null(self, _: Token) -> str:
        return "null"

    def temporal(self, function: Token, literal: Token) -> str:
        """`date("2026-01-01")` and `date and time("2026-01-01T10:00:00Z")` as dsl literals."""
        inner = str(literal)[1:-1].strip()
        kind = "date" if str(function) == "date" else "date and time"
        wanted = _DATE if kind == "date" else _DATETIME
        if not wanted.fullmatch(inner):
            raise UnaryTestError(f"{function}({literal}) is not a valid {kind}", literal.line or 1,
                                 literal.column or 1)
        return inner

    def path(self, *names: Token) -> str:
        return ".".join(str(n) for n in names)

    def compare(self, op: Token, endpoint: str) -> str:
        return f"{self.value} {_DSL_OPS[str(op)]} {endpoint}"

    def equal(self, endpoint: str) -> str:
        if endpoint == "null":
            return f"{self.value} is null"
        return f"{self.value} == {endpoint}"

    def closed(self) -> bool:
        return True

    def open(self) -> bool:
        return False

    def interval(self, low: bool, start: str, end: str, high: bool) -> str:
        lower = ">=" if low else ">"
        upper = "<=" if high else "<"
        return f"({self.value} {lower} {start} and {self.value} {upper} {end})"

    def tests(self, *tests: str) -> str:
        return tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"

    def negation(self, _: Token, tests: str) -> str:
        return f"not ({tests})"

    def any(self, _: Token) -> str:
        return ""

    def start(self, tests: str) -> str:
        return tests


def compile_unary_test(text: str | None, input_expression: str) -> UnaryTest:
    """The cell `text` as a dsl condition on `input_expression`; empty and `-` match anything."""
    cell = (text or "").strip()
    if not cell or cell == "-":
        return UnaryTest(cell, None)
    if len(cell) > MAX_CELL:
        raise UnaryTestError(f"the entry is longer than {MAX_CELL} characters")
    try:
        tree = _parser().parse(cell)
    except UnexpectedInput as err:
        if _at_end(err):  # lark places the end of input at the last token; the designer wants after it
            lines = cell.splitlines() or [""]
            raise UnaryTestError(_unexpected(cell, err), len(lines), len(lines[-1]) + 1) from None
        raise UnaryTestError(_unexpected(cell, err), err.line if err.line > 0 else 1,
                             err.column if err.column > 0 else 1) from None
    try:
        condition = _ToDsl(f"({input_expression})").transform(tree)
    except VisitError as err:  # lark wraps a transformer's error
        if isinstance(err.orig_exc, UnaryTestError):
            raise err.orig_exc from None
        raise
    try:
        compile_expression(condition)
    except DslError as err:
        raise UnaryTestError(f"the entry does not make a valid condition: {err.message}") from None
    return UnaryTest(cell, condition or None)


def _at_end(err: UnexpectedInput) -> bool:
    return isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END")


def _unexpected(cell: str, err: UnexpectedInput) -> str:
    at_end = _at_end(err)
    start = err.pos_in_stream if isinstance(err.pos_in_stream, int) and err.pos_in_stream >= 0 else len(cell)
    got = "" if at_end else cell[start:start + 12]
    what = f"`{got}`" if got.strip() else "the end of the entry"
    return (f"cannot read {what} here: an input entry is `-`, a value (\"VIP\", 1000, true), a comparison "
            f"(< 1000, >= 10), a range ([1000..5000], ]1000..5000[), a list of these separated by commas, "
            f"or not(...) around them")
