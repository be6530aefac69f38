"""String templates: `"Deliver {deal.title} to {deal.delivery_address}"`."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dsl import nodes
from dsl.build import build_template
from dsl.errors import DslEvalError
from dsl.expression import COMPILE_CACHE_SIZE
from dsl.parser import parse


class Template:
    """Literal text and `{expression}` holes; rendering shows each value as people read it."""

    __slots__ = ("parts", "paths", "text")

    def __init__(self, text: str, parts: tuple[str | nodes.Node, ...]) -> None:
        self.text = text
        self.parts = parts
        self.paths = frozenset().union(*(nodes.paths(part) for part in parts if isinstance(part, nodes.Node)))

    @property
    def is_constant(self) -> bool:
        """True when there are no holes (the text renders to itself, braces unescaped)."""
        return not any(isinstance(part, nodes.Node) for part in self.parts)

    def render(self, env: Mapping[str, Any], now: datetime | None = None) -> str:
        ctx = nodes.Context(env, now)
        try:
            return nodes.render_parts(self.parts, ctx)
        except RecursionError:
            raise DslEvalError("the data is nested too deeply to evaluate") from None

    def __repr__(self) -> str:
        return f"Template({self.text!r})"


@functools.lru_cache(maxsize=COMPILE_CACHE_SIZE)
def compile_template(text: str) -> Template:
    """Parse a template; raises DslSyntaxError with the position in the template text."""
    return Template(text, build_template(parse("template", text)))


def render(text: str, env: Mapping[str, Any], now: datetime | None = None) -> str:
    """compile_template(text).render(env, now), for one-off use."""
    return compile_template(text).render(env, now)
