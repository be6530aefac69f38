"""A guard that fails a test when SpiffWorkflow or dealflow evaluates text as Python.

`builtins.eval`, `exec` and `compile` are wrapped; a call is refused (and recorded) when the
code calling it belongs to SpiffWorkflow or to one of dealflow's packages. Others call them
for good reasons — SQLAlchemy, Alembic, pytest's assertion rewriting, hypothesis, dataclasses,
the import system — so the decision is made from the calling frame's module, not by banning
the builtins outright. `ast` is looked through: `ast.parse` compiles on behalf of its caller,
and SpiffWorkflow's own `validate` uses it to parse Python.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

GUARDED = ("SpiffWorkflow", "engine", "dsl", "crm", "robots", "triggers", "api")
LOOKED_THROUGH = ("ast",)
BUILTINS = ("eval", "exec", "compile")


def calling_module(frame: FrameType | None) -> str:
    """The module of the first frame that is not a helper compiling on someone else's behalf."""
    while frame is not None:
        module = frame.f_globals.get("__name__", "?")
        if module not in LOOKED_THROUGH:
            return module
        frame = frame.f_back
    return "?"


def _is_guarded(module: str) -> bool:
    return module.split(".")[0] in GUARDED


@contextmanager
def no_python_eval() -> Iterator[list[str]]:
    """While active, a guarded module calling eval/exec/compile raises; the list it yields
    collects every such call, so a test can fail on it even when the caller swallowed the error."""
    calls: list[str] = []
    originals = {name: getattr(builtins, name) for name in BUILTINS}

    def wrap(name: str) -> Any:
        original = originals[name]

        def guarded(source: Any, *args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1)
            module = calling_module(caller)
            if _is_guarded(module):
                calls.append(f"{name}() called from {module}: {str(source)[:120]!r}")
                raise AssertionError(f"{module} called {name}() on process text")
            if name in ("eval", "exec") and not args and "globals" not in kwargs:
                args = (caller.f_globals, caller.f_locals)  # keep the caller's scope, as the builtin would
            return original(source, *args, **kwargs)

        return guarded

    for name in BUILTINS:
        setattr(builtins, name, wrap(name))
    try:
        yield calls
    finally:
        for name, original in originals.items():
            setattr(builtins, name, original)
