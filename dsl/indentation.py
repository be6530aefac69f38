"""Indentation of automation files, as lark's Indenter sees it, made safe to share.

One Lark object serves every thread, but lark's Indenter keeps its state on itself, so each
parse works on a fresh copy. The copy also remembers where each open parenthesis is (an
unclosed one is reported there, not at the far-away token that finally fails) and the
comments it passed, which the formatter puts back.
"""

from __future__ import annotations

import contextvars
import copy
import re
from collections.abc import Iterator

from lark import Token
from lark.indenter import Indenter

from dsl.errors import DslSyntaxError

_COMMENT = re.compile(r"#[^\n]*")
_current: contextvars.ContextVar[AutomationIndenter | None] = contextvars.ContextVar("indenter", default=None)


class AutomationIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB"]
    CLOSE_PAREN_types = ["RPAR", "RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def __init__(self) -> None:
        super().__init__()
        self.open_parens: list[Token] = []
        self.comments: list[tuple[int, str]] = []

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        fresh = copy.copy(self)
        fresh.paren_level, fresh.indent_level, fresh.open_parens, fresh.comments = 0, [0], [], []
        _current.set(fresh)
        return fresh._process(stream)

    def _process(self, stream: Iterator[Token]) -> Iterator[Token]:
        for token in stream:
            if token.type == self.NL_type:
                self._collect_comments(token)
                yield from self.handle_NL(token)
            else:
                yield token
            if token.type in self.OPEN_PAREN_types:
                self.paren_level += 1
                self.open_parens.append(token)
            elif token.type in self.CLOSE_PAREN_types and self.open_parens:
                self.paren_level -= 1
                self.open_parens.pop()
        while len(self.indent_level) > 1:
            self.indent_level.pop()
            yield Token(self.DEDENT_type, "")

    def handle_NL(self, token: Token) -> Iterator[Token]:
        if self.paren_level > 0:
            return
        yield token
        if "\n" not in token.value:  # a comment at the very end of the text
            return
        indent_str = token.value.rpartition("\n")[2]
        indent = indent_str.count(" ") + indent_str.count("\f") + indent_str.count("\t") * self.tab_len
        line = token.line + token.value.count("\n")
        column = len(indent_str) + 1
        start = token.end_pos
        if indent > self.indent_level[-1]:
            self.indent_level.append(indent)
            yield Token(self.INDENT_type, indent_str, start, line, column)
            return
        while indent < self.indent_level[-1]:
            self.indent_level.pop()
            yield Token(self.DEDENT_type, indent_str, start, line, column)
        if indent != self.indent_level[-1]:
            raise DslSyntaxError("this line's indentation matches no block above it", line, column)

    def _collect_comments(self, token: Token) -> None:
        for match in _COMMENT.finditer(token.value):
            line = token.line + token.value.count("\n", 0, match.start())
            self.comments.append((line, match.group().rstrip()))


def last_indenter() -> AutomationIndenter | None:
    """The indenter of the latest parse in this thread (for comments and open parentheses)."""
    return _current.get()
