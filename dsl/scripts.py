"""BPMN script tasks: `name = expression` lines that set process variables.

A script either runs completely or changes nothing: assignments are staged and written
into the variables only after the last line succeeded. Names that come from the
environment but are not process variables (`deal`, `event`) are read-only.
"""

from __future__ import annotations

import functools
from collections import ChainMap
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dsl import nodes
from dsl.build import build_script
from dsl.errors import DslEvalError
from dsl.expression import COMPILE_CACHE_SIZE, evaluate_node
from dsl.parser import parse
from dsl.record import Record
from dsl.values import type_name


class Script:
    """Compiled script; `paths` are the field paths its expressions read, `targets` what it sets."""

    __slots__ = ("paths", "statements", "targets", "text")

    def __init__(self, text: str, statements: tuple[nodes.Assignment, ...]) -> None:
        self.text = text
        self.statements = statements
        self.paths = frozenset().union(*(nodes.paths(s.value) for s in statements))
        self.targets = frozenset(".".join(s.target) for s in statements)

    def run(self, env: Mapping[str, Any], variables: dict[str, Any], now: datetime | None = None) -> None:
        """Run every line; on success the assignments are in `variables`, on error nothing is."""
        staged: dict[str, Any] = {}
        ctx = nodes.Context(ChainMap(staged, variables, env), now)  # type: ignore[arg-type]
        for statement in self.statements:
            value = evaluate_node(statement.value, ctx)
            try:
                _assign(statement.target, value, staged, variables, env)
            except DslEvalError as error:
                raise error.at(statement.line, statement.column) from None
        variables.update(staged)

    def __repr__(self) -> str:
        return f"Script({self.text!r})"


def _assign(
    target: tuple[str, ...],
    value: Any,
    staged: dict[str, Any],
    variables: Mapping[str, Any],
    env: Mapping[str, Any],
) -> None:
    root, *path = target
    if root not in staged and root not in variables and root in env:
        raise DslEvalError(f"cannot assign to '{'.'.join(target)}': '{root}' is not a process variable")
    if not path:
        staged[root] = value
        return
    # Copy each dict along the path so the caller's variables stay untouched until the end.
    current = staged[root] if root in staged else variables.get(root)
    new_root = container = _writable_copy(current, root)
    for depth, name in enumerate(path[:-1], start=1):
        child = _writable_copy(container.get(name), ".".join(target[: depth + 1]))
        container[name] = child
        container = child
    container[path[-1]] = value
    staged[root] = new_root


def _writable_copy(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping) and not isinstance(value, Record):
        return dict(value)
    raise DslEvalError(f"cannot set a field inside '{where}', which is {type_name(value)}")


@functools.lru_cache(maxsize=COMPILE_CACHE_SIZE)
def compile_script(text: str) -> Script:
    """Parse a script; raises DslSyntaxError with the line and column of the problem."""
    return Script(text, build_script(parse("script", text)))
