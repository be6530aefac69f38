"""Save-time checks of an automation file against what exists: actions, stages, fields, events.

A file that parses can still name a stage that was renamed or an action that does not
exist; such a file is refused when it is saved, with every problem and its place, rather
than failing at 3 a.m. when the robot fires. Only what is certain is reported: values whose
type is known only at run time (any non-literal expression) are accepted.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dsl import nodes
from dsl.automation import (
    ActionCall,
    ActionSignature,
    Arg,
    AutomationFile,
    Catalog,
    Pos,
    Robot,
    Trigger,
)
from dsl.durations import parse_duration
from dsl.errors import DslCheckError, DslError
from dsl.expression import Expression

# Fields of the records a deal points to (`deal.responsible.name`, `deal.contact.phone`).
USER_FIELDS = frozenset({"id", "login", "name", "email", "phone", "department", "supervisor", "roles", "present"})
CONTACT_FIELDS = frozenset({"id", "name", "phone", "phones", "email", "emails"})
RECORD_FIELDS = {"user": USER_FIELDS, "contact": CONTACT_FIELDS}

# Which literal kinds can be given where a parameter of a type is expected. "template" is a
# string literal with holes: its text is known only when it runs, so it may still be a date.
_FITS = {
    "text": {"text", "template", "number", "bool", "date", "datetime", "duration"},
    "number": {"number"},
    "money": {"number"},
    "bool": {"bool"},
    "date": {"date", "datetime", "template"},
    # a duration where a moment is expected means "that long from now" (due: 4h)
    "datetime": {"date", "datetime", "duration", "template"},
    "duration": {"duration", "template"},
    "user": {"text", "template", "number", "list"},
    "stage": {"text", "template"},
    "dict": set(),
}
_ARTICLES = {"text": "text", "list": "a list", "template": "text", "number": "a number", "bool": "true or false"}


def check_automation(file: AutomationFile, catalog: Catalog) -> list[DslError]:
    """Every problem of `file` in the world `catalog` describes, in text order."""
    checker = _Checker(file, catalog)
    checker.run()
    return sorted(checker.errors, key=lambda e: (e.line or 0, e.column or 0))


class _Checker:
    def __init__(self, file: AutomationFile, catalog: Catalog) -> None:
        self.file = file
        self.catalog = catalog
        self.errors: list[DslError] = []
        self.fields = None if file.is_global else catalog.deal_fields.get(file.scope)

    def error(self, message: str, where: Pos | nodes.Node | None) -> None:
        line = where.line if where is not None else None
        column = where.column if where is not None else None
        self.errors.append(DslCheckError(message, line, column))

    def run(self) -> None:
        file = self.file
        if not file.is_global and file.scope not in self.catalog.stages:
            self.error(f"unknown pipeline '{file.scope}'{_suggest(file.scope, self.catalog.stages)}", file.pos)
        seen_stages: dict[str, int] = {}
        for stage in file.stages:
            if file.is_global:
                self.error("a global file has no stages: its events concern no deal yet", stage.pos)
            elif stage.code in seen_stages:
                self.error(f"stage '{stage.code}' already has a block on line {seen_stages[stage.code]}", stage.pos)
            elif file.scope in self.catalog.stages:
                self.stage_exists(stage.code, file.scope, stage.pos)
            seen_stages.setdefault(stage.code, stage.pos.line)
            for chain in stage.chains:
                for robot in chain.steps:
                    self.robot(robot)
            for trigger in stage.triggers:
                self.trigger(trigger)
        for trigger in file.triggers:
            self.trigger(trigger)
            if not trigger.actions:
                self.error("a trigger outside a stage needs actions: say what it does after ':'", trigger.pos)
        self.unique_names("robot", file.robots())
        self.unique_names("trigger", file.all_triggers())

    def unique_names(self, kind: str, items: Sequence[Robot | Trigger]) -> None:
        lines: dict[str, int] = {}
        for item in sorted(items, key=lambda i: (i.pos.line, i.pos.column)):
            if item.name is None:
                continue
            if item.key in lines:
                self.error(f"another {kind} on line {lines[item.key]} already has this name", item.pos)
            lines.setdefault(item.key, item.pos.line)

    def robot(self, robot: Robot) -> None:
        for expression in (robot.delay.amount, robot.delay.moment, robot.condition):
            self.expression(expression, None)
        for call in robot.actions:
            self.call(call, None)

    def trigger(self, trigger: Trigger) -> None:
        event: str | None = trigger.event
        if event not in self.catalog.events:
            self.error(f"unknown event '{event}'{_suggest(trigger.event, self.catalog.events)}", trigger.pos)
            event = None
        self.expression(trigger.condition, event)
        for call in trigger.actions:
            self.call(call, event)

    # --- actions -------------------------------------------------------------------------

    def call(self, call: ActionCall, event: str | None) -> None:
        for arg in call.args:
            self.expression(arg.value, event)
        signature = self.catalog.actions.get(call.name)
        if signature is None:
            self.error(f"unknown action '{call.name}'{_suggest(call.name, self.catalog.actions)}", call.pos)
            return
        bound = self.bind(call, signature)
        for name, info in signature.params.items():
            if info.required and name not in bound:
                self.error(f"{call.name} needs '{name}'", call.pos)
        pipeline = _literal_text(bound.get("pipeline"))
        for name, arg in bound.items():
            param = signature.params.get(name)
            kind = param.type if param is not None else "any"
            if call.name == "move_to" and name == "stage":
                kind = "stage"
            self.value_fits(name, kind, arg, pipeline)

    def bind(self, call: ActionCall, signature: ActionSignature) -> dict[str, Arg]:
        """Parameter name → argument, reporting what cannot be bound."""
        bound: dict[str, Arg] = {}
        named_seen = False
        positional = 0
        for arg in call.args:
            if arg.name is None:
                if named_seen:
                    self.error("an argument without a name cannot follow a named one", arg.pos)
                    continue
                if positional >= len(signature.positional):
                    self.error(_too_many(call.name, signature), arg.pos)
                    positional += 1
                    continue
                name = signature.positional[positional]
                positional += 1
            else:
                named_seen = True
                name = arg.name
                if name not in signature.params and not signature.accepts_extra:
                    self.error(f"{call.name} has no parameter '{name}'{_suggest(name, signature.params)}", arg.pos)
                    continue
            if name in bound:
                self.error(f"'{name}' is given twice", arg.pos)
                continue
            bound[name] = arg
        return bound

    def value_fits(self, name: str, kind: str, arg: Arg, pipeline: str | None) -> None:
        for node in _outcomes(arg.value.node):
            self.node_fits(name, kind, node, arg.pos, pipeline)

    def node_fits(self, name: str, kind: str, node: nodes.Node, pos: Pos, pipeline: str | None) -> None:
        found = _literal_kind(node)
        if found is None or found[0] == "null":
            return
        what, value = found
        where = node if node.line is not None else pos
        allowed = _FITS.get(kind)
        if allowed is not None and what not in allowed and not _parses_as(kind, value):
            self.error(f"'{name}' needs {_a(kind)}, not {_a(what)}", where)
        elif kind == "stage" and what == "text":
            self.stage_ref(value, pipeline, where)
        elif name == "pipeline" and what == "text" and value not in self.catalog.stages:
            self.error(f"unknown pipeline '{value}'{_suggest(value, self.catalog.stages)}", where)

    # --- stages ---------------------------------------------------------------------------

    def stage_ref(self, ref: str, pipeline: str | None, where: Pos | nodes.Node) -> None:
        if "." in ref:
            pipeline, _, stage = ref.partition(".")
            if pipeline not in self.catalog.stages:
                self.error(f"unknown pipeline '{pipeline}'{_suggest(pipeline, self.catalog.stages)}", where)
                return
        else:
            stage = ref
            pipeline = pipeline or (None if self.file.is_global else self.file.scope)
            if pipeline is None:
                self.error(f"say which pipeline '{ref}' is in, like main.{ref}", where)
                return
            if pipeline not in self.catalog.stages:
                return  # the unknown pipeline is reported where it is named
        self.stage_exists(stage, pipeline, where)

    def stage_exists(self, stage: str, pipeline: str, where: Pos | nodes.Node) -> None:
        stages = self.catalog.stages[pipeline]
        if stage not in stages:
            self.error(f"pipeline '{pipeline}' has no stage '{stage}'{_suggest(stage, stages)}", where)

    # --- field paths ------------------------------------------------------------------------

    def expression(self, expression: Expression | None, event: str | None) -> None:
        if expression is None:
            return
        for root, fields in _paths(expression.node):
            if root.name == "deal":
                self.deal_path(root, fields)
            elif root.name == "event" and event is not None and fields:
                payload = self.catalog.events[event]
                if fields[0].name not in payload:
                    message = f"event '{event}' has no field '{fields[0].name}'{_suggest(fields[0].name, payload)}"
                    self.error(message, fields[0])

    def deal_path(self, root: nodes.Name, fields: list[nodes.Attr]) -> None:
        if self.file.is_global:
            self.error("a global file has no deal: its events concern no deal yet", root)
            return
        if self.fields is None or not fields:
            return
        first = fields[0]
        kind = self.fields.get(first.name)
        if kind is None:
            self.error(f"deal has no field '{first.name}'{_suggest(first.name, self.fields)}", first)
            return
        owner = first.name
        for attr in fields[1:]:
            known = RECORD_FIELDS.get(kind)
            if known is None:
                return
            if attr.name not in known:
                self.error(f"'{owner}' has no field '{attr.name}'{_suggest(attr.name, known)}", attr)
                return
            kind = "user" if kind == "user" and attr.name == "supervisor" else "any"
            owner = attr.name


def _paths(node: nodes.Node) -> Iterator[tuple[nodes.Name, list[nodes.Attr]]]:
    """Each field path an expression reads: its root name and the fields after it, up to the
    first index (`deal.products[0].name` → deal, [products])."""
    stack = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, nodes.Attr | nodes.Index | nodes.Name):
            stack.extend(current.children())
            continue
        fields: list[nodes.Attr] = []
        while not isinstance(current, nodes.Name):
            if isinstance(current, nodes.Attr):
                fields.append(current)
                current = current.obj
            elif isinstance(current, nodes.Index):
                fields.clear()  # what follows an index cannot be known
                stack.append(current.index)
                current = current.obj
            else:  # a path on a call or a parenthesised expression: check what is inside
                stack.append(current)
                break
        else:
            yield current, fields[::-1]


def _outcomes(node: nodes.Node) -> Iterator[nodes.Node]:
    """The values an argument may come out as: each branch of an `if ... then ... else ...`."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, nodes.IfElse):
            stack.extend((current.otherwise, current.then))
        else:
            yield current


def _literal_kind(node: nodes.Node) -> tuple[str, Any] | None:
    if isinstance(node, nodes.TextTemplate):
        return "template", None
    if isinstance(node, nodes.ListNode):
        return "list", None
    if isinstance(node, nodes.Neg):
        inner = _literal_kind(node.operand)
        return inner if inner is not None and inner[0] in ("number", "duration") else None
    if not isinstance(node, nodes.Literal):
        return None
    value = node.value
    if value is None:
        return "null", None
    if isinstance(value, bool):
        return "bool", value
    if isinstance(value, int | Decimal):
        return "number", value
    if isinstance(value, str):
        return "text", value
    if isinstance(value, datetime):
        return "datetime", value
    if isinstance(value, date):
        return "date", value
    if isinstance(value, timedelta):
        return "duration", value
    return None


def _parses_as(kind: str, value: Any) -> bool:
    """Text that the action will read as a date or duration is not wrong."""
    if not isinstance(value, str):
        return False
    try:
        if kind == "duration":
            parse_duration(value)
        elif kind in ("date", "datetime"):
            datetime.fromisoformat(value)
        else:
            return False
    except (DslError, ValueError):
        return False
    return True


def _literal_text(arg: Arg | None) -> str | None:
    if arg is None:
        return None
    node = arg.value.node
    return node.value if isinstance(node, nodes.Literal) and isinstance(node.value, str) else None


def _too_many(action: str, signature: ActionSignature) -> str:
    if not signature.positional:
        return f"name the arguments of {action}, like {next(iter(signature.params), 'name')}: ..."
    names = ", ".join(signature.positional)
    return f"too many arguments without a name: {action} takes {len(signature.positional)} ({names})"


def _a(kind: str) -> str:
    return _ARTICLES.get(kind, f"a {kind}")


def _suggest(word: str, known: Any) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
