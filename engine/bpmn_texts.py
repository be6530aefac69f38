"""Texts as other modelers write them, read as the dsl expressions dealflow evaluates.

Camunda Modeler, bpmn.io and the BPMN spec's own examples write timers as bare ISO-8601
literals (`P7D`, `R6/P1D`, `2026-12-01T10:00:00Z`), which the dsl would read as a name or a
division; Camunda marks an expression with a leading `=` (its FEEL convention). Diagrams
from Python-based tools (SpiffWorkflow's examples) write `True`/`False` in conditions, which
the dsl would read as unknown names. Each text is translated here, once, before it is
compiled at deploy or handed to SpiffWorkflow, so both see the same dsl text.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from lxml import etree

from dsl import DslError, parse_duration
from dsl.errors import DslSyntaxError

_DURATION = r"-?P(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:[.,]\d+)?S)?)?|-?P\d+[YM][0-9YMWDTHS.,]*"
_DATETIME = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
#: The ISO-8601 literal each timer element may hold (a cycle: `R<n>/<duration>` or
#: `R<n>/<start>/<duration>`, n optional for "forever").
ISO_LITERALS = {
    "timeDuration": re.compile(_DURATION),
    "timeDate": re.compile(_DATETIME),
    "timeCycle": re.compile(rf"R\d*/(?:{_DATETIME}/)?(?:{_DURATION})"),
}


def timer_expression(kind: str, text: str | None) -> str | None:
    """The dsl expression for the text of a `timeDuration`, `timeDate` or `timeCycle`.

    `=expr` is the dsl expression `expr`; a bare ISO-8601 literal is that text as a dsl string
    (which the timers read as a duration, a moment or a cycle); anything else is dsl as before
    (`2d`, `deal.return_date`, `"R3/P1D"`).
    """
    if text is None:
        return None
    stripped = text.strip()
    if stripped.startswith("="):
        return stripped[1:].strip()
    literal = ISO_LITERALS.get(kind)
    if literal is not None and literal.fullmatch(stripped):
        return json.dumps(stripped)
    return text


def check_timer_literal(kind: str, text: str | None) -> None:
    """Raise a DslError now for an ISO literal the timer could not read when it is reached
    (`P1M`: months have no fixed length; `2026-13-01`)."""
    if text is None or not (literal := ISO_LITERALS.get(kind)) or not literal.fullmatch(stripped := text.strip()):
        return
    parts = stripped.split("/")
    if kind == "timeCycle":
        parts = parts[1:]
    for part in parts:
        if part.lstrip("-").startswith("P"):
            parse_duration(part)
        else:
            try:
                datetime.fromisoformat(part.replace("Z", "+00:00"))
            except ValueError as err:
                raise DslSyntaxError(f"{part!r} is not a date and time: {err}") from None


_TOKENS = re.compile(r"""(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(?P<dot>\.\s*)?(?P<name>[^\W\d]\w*)""")


def condition_expression(text: str | None) -> str | None:
    """The dsl text of a condition: `=expr` is `expr` (Camunda's marking), and the boolean
    literals in any casing (`True`, `FALSE`) are the dsl's `true`/`false`. Text inside string
    literals and names after a dot (`deal.True`) are left as they are."""
    if text is None:
        return None
    stripped = text.strip()
    if stripped.startswith("=") and not stripped.startswith("=="):
        text = stripped[1:]

    def lower(match: re.Match[str]) -> str:
        name = match.group("name")
        if match.group("string") is not None or match.group("dot") is not None or name is None:
            return match.group(0)
        return name.lower() if name.lower() in ("true", "false") else name

    return _TOKENS.sub(lower, text)


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
#: The conditions translated by `condition_expression`: sequence flows' and conditional events'.
CONDITION_TAGS = ("conditionExpression", "condition")


def translate_texts(root: etree._Element) -> list[tuple[etree._Element, str]]:
    """Rewrite, in the parsed tree, every timer and condition text into its dsl form, so the
    deploy check and SpiffWorkflow read the same text; the stored file keeps what the designer
    wrote. Returns the timer elements whose ISO literal cannot be read, with why."""
    problems: list[tuple[etree._Element, str]] = []
    for kind in ISO_LITERALS:
        for el in root.iter(f"{{{BPMN_NS}}}{kind}"):
            try:
                check_timer_literal(kind, el.text)
            except DslError as err:
                problems.append((el, f"timer: {err}"))
            el.text = timer_expression(kind, el.text)
    for tag in CONDITION_TAGS:
        for el in root.iter(f"{{{BPMN_NS}}}{tag}"):
            el.text = condition_expression(el.text)
    return problems
