"""Errors that every caller can show to a person: a message, and where in the text it is.

Syntax errors come from parsing (always with a line and column); evaluation errors come
from running an expression against data and carry the position of the offending node
when one is known. Nothing else ever leaves the dsl package for bad process or robot text.
"""

from __future__ import annotations

from typing import Any

from dsl.base_error import DealflowError


class DslError(DealflowError):
    """Base class: catch this to handle any problem with DSL text or its evaluation.

    `to_dict()` is where in the text (what the designer underlines); as an API error its
    `details` are that same place.
    """

    kind = "error"
    code = "invalid_dsl"
    status = 422

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        expected: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.expected = list(expected or [])

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps position and expectations when an error crosses a process boundary.
        return (type(self), (self.message, self.line, self.column, self.expected))

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"{self.message} (line {self.line}, column {self.column})"

    def at(self, line: int | None, column: int | None) -> DslError:
        """Fill in a position if the error has none yet, so the innermost node wins."""
        if self.line is None and line is not None:
            self.line, self.column = line, column
        return self

    @property
    def details(self) -> dict[str, Any]:
        return self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable place and reason the API returns and the designer underlines."""
        return {
            "kind": self.kind,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "expected": list(self.expected),
        }


class DslSyntaxError(DslError):
    """The text is not valid DSL (or breaks a limit that can be seen without running it)."""

    kind = "syntax"


class DslEvalError(DslError):
    """The text is valid but evaluating it against the given data failed."""

    kind = "evaluation"


class DslCallError(DslSyntaxError, DslEvalError):
    """A call the function whitelist cannot serve (unknown name, wrong number of arguments).

    It is found when the text is compiled, so code that compiles and catches DslSyntaxError
    sees it; it is also a DslEvalError because, to a person, it is about meaning, not syntax.
    """

    kind = "evaluation"


class DslErrorList(DslError):
    """Several problems found in one text; `errors` lists them in order, each with its place.

    It reads as its first error (message, line, column), so code that shows one error still
    shows the right one; the designer underlines all of `errors`.
    """

    def __init__(self, errors: list[DslError]) -> None:
        first = errors[0]
        super().__init__(f"{len(errors)} problems; the first: {first.message}", first.line, first.column)
        self.expected = list(first.expected)
        self.errors = list(errors)
        self.kind = first.kind

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors,))

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "errors": [error.to_dict() for error in self.errors]}


class DslCheckError(DslError):
    """The text parses but does not fit the world it runs in (unknown action, stage, field)."""

    kind = "check"
