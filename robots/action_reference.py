"""docs/action-api.md, written from the code of the author API so the page cannot drift.

`python -m robots.action_reference docs/action-api.md` rewrites the page;
tests/robots/test_action_reference.py fails when the committed page differs from `render()`.
Everything on the page comes from signatures and docstrings: to change the page, change
those and run the command.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from engine import action_api
from engine.action_api import ActionApiError, ActionCallError, ActionCrm, UnknownActionApi, signature_text
from engine.actions import ActionContext, ActionInputError
from robots import outbox, testing
from robots.actions import fields
from robots.actions.registry import ActionRegistry

COMMAND = "python -m robots.action_reference docs/action-api.md"

#: The parameter fields of robots.actions.fields an author may use in a schema.
FIELDS = (fields.Text, fields.Money, fields.When, fields.Duration, fields.Days, fields.UserRef, fields.Recipient,
          fields.StageRef)


def render() -> str:
    """The whole page, as Markdown."""
    return "\n".join(_page()).rstrip() + "\n"


def _page() -> Iterator[str]:
    yield "# Action API reference"
    yield ""
    yield (f"Generated from the code by `{COMMAND}`; `tests/robots/test_action_reference.py` fails when this "
           "page and the code differ. How to write, load and use an action: [custom actions](custom-actions.md).")
    yield ""
    yield "## Declaring an action: `robots.actions.action`"
    yield ""
    yield from _function("@action", ActionRegistry.action, drop_self=True)
    yield "## `ctx`: `engine.actions.ActionContext`"
    yield ""
    yield _doc(ActionContext)
    yield ""
    yield "## `ctx.crm`: `engine.action_api.ActionCrm`"
    yield ""
    yield _doc(action_api)
    yield ""
    for name in action_api.surface_names():
        yield from _function(f"ctx.crm.{name}", getattr(ActionCrm, name), drop_self=True, level="###")
    yield "## Sending outside dealflow: `robots.outbox.queue`"
    yield ""
    yield from _function("outbox.queue", outbox.queue)
    yield "## Errors"
    yield ""
    for error in (ActionInputError, ActionApiError, ActionCallError, UnknownActionApi):
        bases = ", ".join(base.__name__ for base in error.__bases__)
        yield _bullet(f"**`{error.__module__}.{error.__name__}`** ({bases}): {_doc(error)}")
    yield ""
    yield "## Parameter fields: `robots.actions.fields`"
    yield ""
    for field in FIELDS:
        yield _bullet(f"**`{field.__name__}`** (dsl type `{fields.type_of(field())}`): {_doc(field)}")
    yield ""
    yield "## Testing an action: `robots.testing`"
    yield ""
    yield _doc(testing)
    yield ""
    for name in ("__init__", "load", "new_deal", "run", "reading"):
        title = "ActionSandbox" if name == "__init__" else f"sandbox.{name}"
        yield from _function(title, getattr(testing.ActionSandbox, name), drop_self=True, level="###")
    yield "### `ActionRun`"
    yield ""
    yield _doc(testing.ActionRun)
    yield ""
    for field_ in dataclasses.fields(testing.ActionRun):
        yield f"- `{field_.name}`: {_field_comment(testing.ActionRun, field_.name)}"


def _function(title: str, func: Callable[..., Any], *, drop_self: bool = False, level: str = "###") -> Iterator[str]:
    signature = inspect.signature(func)
    if drop_self:
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    yield f"{level} `{title}{signature_text(signature)}`"
    yield ""
    doc = _doc(func)
    if doc:
        yield doc
        yield ""


def _bullet(text: str) -> str:
    return "- " + "\n".join(f"  {line}" if line else "" for line in text.splitlines()).lstrip()


def _doc(obj: Any) -> str:
    return inspect.cleandoc(obj.__doc__ or "")


def _field_comment(cls: type, name: str) -> str:
    """The `#:` comment above a dataclass field."""
    lines = inspect.getsource(cls).splitlines()
    for number, line in enumerate(lines):
        if line.strip().startswith(f"{name}:"):
            comment = lines[number - 1].strip()
            return comment.removeprefix("#:").strip() if comment.startswith("#:") else ""
    return ""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: {COMMAND}", file=sys.stderr)
        return 2
    Path(args[0]).write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
