"""Compiled expressions: parse once (cached by text), evaluate many times against data."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dsl import nodes
from dsl.build import build_expression
from dsl.errors import DslEvalError
from dsl.parser import parse

COMPILE_CACHE_SIZE = 4096


class Expression:
    """A condition, timer or parameter expression ready to evaluate.

    `paths` lists the dotted field paths it reads (indexes dropped), so the engine knows
    which deal fields a timer or condition depends on; `functions` the functions it calls
    (a timer that calls now() must be re-evaluated as time passes).
    """

    __slots__ = ("functions", "node", "paths", "text")

    def __init__(self, text: str, node: nodes.Node) -> None:
        self.text = text
        self.node = node
        self.paths = nodes.paths(node)
        self.functions = nodes.functions_called(node)

    def evaluate(self, env: Mapping[str, Any], now: datetime | None = None) -> Any:
        """The value of the expression; `now` (tz-aware) is what now() and today() read."""
        return evaluate_node(self.node, nodes.Context(env, now))

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def evaluate_node(node: nodes.Node, ctx: nodes.Context) -> Any:
    """Evaluate one node; a RecursionError here can only mean data nested absurdly deep."""
    try:
        return node.eval(ctx)
    except RecursionError:
        raise DslEvalError("the data is nested too deeply to evaluate", node.line, node.column) from None


@functools.lru_cache(maxsize=COMPILE_CACHE_SIZE)
def compile_expression(text: str) -> Expression:
    """Parse and check `text`; raises DslSyntaxError (DslCallError for unknown functions)."""
    return Expression(text, build_expression(parse("expression", text)))


def evaluate(text: str, env: Mapping[str, Any], now: datetime | None = None) -> Any:
    """compile_expression(text).evaluate(env, now), for one-off use."""
    return compile_expression(text).evaluate(env, now)
