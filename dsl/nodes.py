"""The compiled form of an expression: a small tree of immutable nodes that evaluate themselves.

The lark tree is turned into these once, at compile time, so evaluating is a walk over a
few objects with no parsing or dispatch on strings. Nodes compare equal by structure and
ignore positions, which lets tests check that formatting round-trips.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dsl import limits, values
from dsl.errors import DslEvalError
from dsl.functions import Function, ItemFunction


class Context:
    """What one evaluate/render/run call reads: the names, the clock and its step budget."""

    __slots__ = ("env", "locals", "now", "steps")

    def __init__(self, env: Mapping[str, Any], now: datetime | None) -> None:
        self.env = env
        self.locals: dict[str, Any] = {}  # the items lambdas are bound to, while their bodies run
        self.now = values.as_utc(now) if now is not None else None
        self.steps = limits.MAX_STEPS

    def tick(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise DslEvalError(f"evaluation took more than {limits.MAX_STEPS} steps")


@dataclass(frozen=True, slots=True)
class Node:
    line: int | None = field(default=None, compare=False, repr=False, kw_only=True)
    column: int | None = field(default=None, compare=False, repr=False, kw_only=True)

    def eval(self, ctx: Context) -> Any:
        raise NotImplementedError

    def children(self) -> Iterator[Node]:
        return iter(())


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any

    def eval(self, ctx: Context) -> Any:
        ctx.tick()
        return self.value


@dataclass(frozen=True, slots=True)
class TextTemplate(Node):
    """A string literal with `{expression}` holes; it evaluates to the rendered text.

    `source` is the literal as written (quotes and escapes included), which the formatter
    prints back unchanged; equality looks at the parts only.
    """

    parts: tuple[str | Node, ...]
    source: str = field(default="", compare=False, repr=False)

    def eval(self, ctx: Context) -> str:
        ctx.tick()
        return render_parts(self.parts, ctx)

    def children(self) -> Iterator[Node]:
        return (part for part in self.parts if isinstance(part, Node))


def render_parts(parts: tuple[str | Node, ...], ctx: Context) -> str:
    """Literal text and hole values shown as people read them, within the text limit."""
    pieces: list[str] = []
    length = 0
    for part in parts:
        piece = part if isinstance(part, str) else values.to_text(part.eval(ctx))
        length += len(piece)
        if length > limits.MAX_TEXT_LENGTH:
            raise DslEvalError(f"text longer than {limits.MAX_TEXT_LENGTH} characters")
        pieces.append(piece)
    return "".join(pieces)


@dataclass(frozen=True, slots=True)
class ListNode(Node):
    items: tuple[Node, ...]

    def eval(self, ctx: Context) -> list[Any]:
        ctx.tick()
        return [item.eval(ctx) for item in self.items]

    def children(self) -> Iterator[Node]:
        return iter(self.items)


@dataclass(frozen=True, slots=True)
class Name(Node):
    """The root of a path: a name looked up in the environment (unset → null)."""

    name: str

    def eval(self, ctx: Context) -> Any:
        ctx.tick()
        try:
            return values.normalize(ctx.env.get(self.name))
        except DslEvalError as error:
            raise error.at(self.line, self.column) from None


@dataclass(frozen=True, slots=True)
class Local(Node):
    """A lambda's parameter inside its body: the current item, never a path into the data."""

    name: str

    def eval(self, ctx: Context) -> Any:
        ctx.tick()
        return ctx.locals.get(self.name)


@dataclass(frozen=True, slots=True)
class Lambda(Node):
    """`p -> body`, an argument of a list function; it evaluates to a function of one item.

    The function runs the body in the same context, so the step budget and every other limit
    count inside it; it is called only by the list functions, while the call is evaluated.
    """

    param: str
    body: Node

    def eval(self, ctx: Context) -> ItemFunction:
        ctx.tick()
        outer = ctx.locals
        scope = dict(outer)

        def apply(item: Any) -> Any:
            ctx.tick()
            scope[self.param] = values.normalize(item)
            ctx.locals = scope
            try:
                return self.body.eval(ctx)
            finally:
                ctx.locals = outer

        return ItemFunction(apply)

    def children(self) -> Iterator[Node]:
        yield self.body


@dataclass(frozen=True, slots=True)
class IfElse(Node):
    """`if condition then a else b`: only the chosen branch is evaluated."""

    condition: Node
    then: Node
    otherwise: Node

    def eval(self, ctx: Context) -> Any:
        ctx.tick()
        branch = self.then if values.truthy(self.condition.eval(ctx)) else self.otherwise
        return branch.eval(ctx)

    def children(self) -> Iterator[Node]:
        yield self.condition
        yield self.then
        yield self.otherwise


@dataclass(frozen=True, slots=True)
class Attr(Node):
    """`obj.name`; the position is the field name's, which is what an error is about."""

    obj: Node
    name: str

    def eval(self, ctx: Context) -> Any:
        ctx.tick()
        target = self.obj.eval(ctx)
        try:
            return values.read_field(target, self.name)
        except DslEvalError as error:
            raise error.at(self.line, self.column) from None

    def children(self) -> Iterator[Node]:
        yield self.obj


@dataclass(frozen=True, slots=True)
class Index(Node):
    obj: Node
    index: Node

    def eval(self, ctx: Context) -> Any:
        ctx.tick()
        target = self.obj.eval(ctx)
        key = self.index.eval(ctx)
        try:
            return values.read_index(target, key)
        except DslEvalError as error:
            raise error.at(self.line, self.column) from None

    def children(self) -> Iterator[Node]:
        yield self.obj
        yield self.index


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]
    function: Function = field(compare=False, repr=False)

    def eval(self, ctx: Context) -> Any:
        ctx.tick()
        args = [arg.eval(ctx) for arg in self.args]
        try:
            if self.function.needs_clock:
                if ctx.now is None:
                    raise DslEvalError(f"{self.name}() needs the current time, and none was given")
                return self.function.impl(ctx.now)
            return self.function.impl(*args)
        except DslEvalError as error:
            raise error.at(self.line, self.column) from None
        except ArithmeticError as error:
            raise _out_of_range(error).at(self.line, self.column) from None

    def children(self) -> Iterator[Node]:
        return iter(self.args)


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node

    def eval(self, ctx: Context) -> bool:
        ctx.tick()
        return not values.truthy(self.operand.eval(ctx))

    def children(self) -> Iterator[Node]:
        yield self.operand


@dataclass(frozen=True, slots=True)
class Neg(Node):
    operand: Node

    def eval(self, ctx: Context) -> Any:
        ctx.tick()
        operand = self.operand.eval(ctx)
        try:
            return values.negate(operand)
        except DslEvalError as error:
            raise error.at(self.line, self.column) from None
        except ArithmeticError as error:
            raise _out_of_range(error).at(self.line, self.column) from None

    def children(self) -> Iterator[Node]:
        yield self.operand


@dataclass(frozen=True, slots=True)
class Logical(Node):
    """`a and b and c` / `a or b or c`: short-circuit, always a boolean."""

    operator: str
    operands: tuple[Node, ...]

    def eval(self, ctx: Context) -> bool:
        ctx.tick()
        stop_at = self.operator == "or"
        for operand in self.operands:
            if values.truthy(operand.eval(ctx)) == stop_at:
                return stop_at
        return not stop_at

    def children(self) -> Iterator[Node]:
        return iter(self.operands)


@dataclass(frozen=True, slots=True)
class Arithmetic(Node):
    """A left-to-right chain of one precedence level: `a + b - c` or `a * b / c`."""

    operands: tuple[Node, ...]
    operators: tuple[str, ...]
    positions: tuple[tuple[int | None, int | None], ...] = field(compare=False, repr=False)

    def eval(self, ctx: Context) -> Any:
        ctx.tick()
        result = self.operands[0].eval(ctx)
        for operator, operand, position in zip(self.operators, self.operands[1:], self.positions, strict=True):
            right = operand.eval(ctx)
            try:
                result = values.ARITHMETIC[operator](result, right)
            except DslEvalError as error:
                raise error.at(*position) from None
            except ArithmeticError as error:
                raise _out_of_range(error).at(*position) from None
        return result

    def children(self) -> Iterator[Node]:
        return iter(self.operands)


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """`== != < <= > >= in` and `not in`; comparisons do not chain."""

    operator: str
    left: Node
    right: Node

    def eval(self, ctx: Context) -> bool:
        ctx.tick()
        left = self.left.eval(ctx)
        right = self.right.eval(ctx)
        operator = self.operator
        try:
            if operator == "==":
                return values.equals(left, right)
            if operator == "!=":
                return not values.equals(left, right)
            if operator == "in":
                return values.contains(right, left)
            if operator == "not in":
                return not values.contains(right, left)
            return values.compare(operator, left, right)
        except DslEvalError as error:
            raise error.at(self.line, self.column) from None

    def children(self) -> Iterator[Node]:
        yield self.left
        yield self.right


@dataclass(frozen=True, slots=True)
class IsNull(Node):
    operand: Node
    negated: bool = False

    def eval(self, ctx: Context) -> bool:
        ctx.tick()
        return (self.operand.eval(ctx) is None) != self.negated

    def children(self) -> Iterator[Node]:
        yield self.operand


@dataclass(frozen=True, slots=True)
class Assignment(Node):
    """One script line, `target = value`; the target is a dotted name."""

    target: tuple[str, ...]
    value: Node

    def children(self) -> Iterator[Node]:
        yield self.value


def _out_of_range(error: ArithmeticError) -> DslEvalError:
    if isinstance(error, ZeroDivisionError):
        return DslEvalError("division by zero")
    return DslEvalError("the result is out of range")


def walk(node: Node) -> Iterator[Node]:
    """Every node under (and including) `node`."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children())


def path_of(node: Node) -> str | None:
    """The dotted field path a node reads (`deal.products[0].name` → deal.products.name)."""
    parts: list[str] = []
    while True:
        if isinstance(node, Attr):
            parts.append(node.name)
            node = node.obj
        elif isinstance(node, Index):
            node = node.obj
        elif isinstance(node, Name):
            parts.append(node.name)
            return ".".join(reversed(parts))
        else:
            return None


def paths(node: Node) -> frozenset[str]:
    """The longest field paths an expression reads, e.g. {"deal.amount", "deal.stage"}."""
    found: set[str] = set()
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, inside_path = stack.pop()
        if isinstance(current, Attr | Index | Name):
            if not inside_path and (path := path_of(current)) is not None:
                found.add(path)
            if isinstance(current, Attr):
                stack.append((current.obj, True))
            elif isinstance(current, Index):
                stack.append((current.obj, True))
                stack.append((current.index, False))
            continue
        stack.extend((child, False) for child in current.children())
    return frozenset(found)


def functions_called(node: Node) -> frozenset[str]:
    return frozenset(n.name for n in walk(node) if isinstance(n, Call))
