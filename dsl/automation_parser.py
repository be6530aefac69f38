"""Automation text in, `AutomationFile` out, or every syntax problem with its line and column.

lark parses the whole file (dsl/automation.lark, indentation by dsl.indentation); the code
here only turns the tree into the agreed AST. To report more than the first mistake, the
top-level block (stage or trigger) holding an error is blanked out - lines kept, so every
position stays true - and the file is parsed again, up to `limits.MAX_ERRORS` times.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time
from typing import ParamSpec, TypeGuard, TypeVar

from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from dsl import limits
from dsl.automation import (
    ActionCall,
    Arg,
    AutomationFile,
    Chain,
    Delay,
    Pos,
    Robot,
    StageBlock,
    Trigger,
    WorkingHours,
)
from dsl.build import build_expression, rule_name, string_value, subtree
from dsl.errors import DslError, DslErrorList, DslSyntaxError
from dsl.expression import Expression
from dsl.formatter import format_string
from dsl.indentation import last_indenter
from dsl.nodes import Literal
from dsl.parser import check_depth, lark_parser, syntax_error

_CLOSERS = {"(": "')'", "[": "']'"}

_P = ParamSpec("_P")
_T = TypeVar("_T")


def parse_automation(text: str) -> AutomationFile:
    """Parse one automation file; raises DslSyntaxError, or DslErrorList for several problems."""
    if not isinstance(text, str):
        raise DslSyntaxError(f"expected text, not {type(text).__name__}")
    if len(text) > limits.MAX_FILE_LENGTH:
        raise DslSyntaxError(f"text longer than {limits.MAX_FILE_LENGTH} characters", 1, 1)
    errors: list[DslError] = []
    source: str | None = text
    parsed = None
    while source is not None and len(errors) < limits.MAX_ERRORS:
        try:
            tree, comments = _parse_tree(source, text)
        except DslSyntaxError as error:
            errors.append(error)
            source = _without_block(source, error.line)
            continue
        builder = _Builder(source)
        parsed = builder.file(tree, comments)
        errors.extend(builder.errors)
        break
    if errors:
        errors.sort(key=lambda e: (e.line or 0, e.column or 0))
        raise errors[0] if len(errors) == 1 else DslErrorList(errors)
    assert parsed is not None
    return parsed


def _parse_tree(source: str, original: str) -> tuple[Tree[Token], tuple[tuple[int, str], ...]]:
    padded = source if source.endswith("\n") else source + "\n"  # the last line ends like the others
    try:
        tree = lark_parser("automation").parse(padded)
    except UnexpectedInput as error:
        unclosed = _unclosed_bracket(error)
        if unclosed is not None:
            raise unclosed from None
        found = syntax_error(error, padded, "automation")
        token = getattr(error, "token", None)
        if token is not None and token.type == "_NL" and "':'" in found.expected:
            found.message = "missing ':' at the end of the line"
        raise _within(found, original) from None
    indenter = last_indenter()
    return tree, tuple(indenter.comments) if indenter else ()


def _unclosed_bracket(error: UnexpectedInput) -> DslSyntaxError | None:
    """A bracket left open on an earlier line swallows the lines after it: say so at the bracket."""
    indenter = last_indenter()
    if indenter is None or not indenter.open_parens:
        return None
    bracket = indenter.open_parens[0]
    line = getattr(error, "line", None)
    if isinstance(line, int) and line > 0 and line <= (bracket.line or 0):  # lexed tokens have a line
        return None
    closer = _CLOSERS.get(bracket.value, "a closing bracket")
    return DslSyntaxError(f"'{bracket.value}' is never closed", bracket.line, bracket.column, [closer])


def _within(error: DslSyntaxError, text: str) -> DslSyntaxError:
    """Errors at the end of the text point just after its last character, not past the padding."""
    lines = text.split("\n")
    if error.line is not None and error.line > len(lines):
        error.line, error.column = len(lines), len(lines[-1]) + 1
    return error


def _without_block(source: str, line: int | None) -> str | None:
    """`source` with the top-level block holding `line` blanked out; None if it cannot be.

    An error at the very start of a block is often the block above being unfinished (a
    missing indented body), so that one goes too, lest it report the same mistake again.
    """
    lines = source.split("\n")
    if line is None or not 1 <= line <= len(lines):
        return None
    starts = [i for i, text in enumerate(lines) if text[:1] not in ("", " ", "\t", "\f", "#", "\r")]
    blocks = starts[1:]  # the first is the header
    before = [i for i in blocks if i < line - 1 or (i == line - 1 and not lines[i].startswith(" "))]
    if not before:
        return None  # the header itself is wrong: nothing after it can be trusted
    start = before[-2] if before[-1] == line - 1 and len(before) > 1 else before[-1]
    end = next((i for i in blocks if i > line - 1), len(lines))
    return "\n".join(lines[:start] + [""] * (end - start) + lines[end:])


class _Builder:
    """Turns the lark tree into the AST; an error in one robot or trigger does not hide the others."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.errors: list[DslError] = []

    def file(self, tree: Tree[Token], comments: tuple[tuple[int, str], ...]) -> AutomationFile:
        header, *blocks = (subtree(child) for child in tree.children)
        scope = "global" if header.data == "global_header" else str(header.children[1])
        title_token = next((c for c in header.children if _is(c, "STRING")), None)
        stages: list[StageBlock] = []
        triggers: list[Trigger] = []
        for block in blocks:
            if block.data == "stage":
                stages.append(self.stage(block))
            elif (trigger := self.guarded(self.trigger, block, None, len(triggers) + 1)) is not None:
                triggers.append(trigger)
        return AutomationFile(
            scope=scope,
            title=self.guarded(string_value, title_token) if title_token is not None else None,
            stages=tuple(stages),
            triggers=tuple(triggers),
            is_global=header.data == "global_header",
            comments=comments,
            pos=_pos(header),
        )

    def guarded(self, build: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T | None:
        try:
            return build(*args, **kwargs)
        except DslError as error:
            self.errors.append(error)
            return None

    def stage(self, tree: Tree[Token]) -> StageBlock:
        code = str(tree.children[1])
        chains: list[list[Robot]] = []
        triggers: list[Trigger] = []
        current: list[Robot] | None = None  # the chain a `then` continues
        broken = False  # the step a `then` would follow could not be built: already reported
        number = 0
        for item in tree.children[2:]:
            if not isinstance(item, Tree) or item.data == "robots_off":
                continue
            if item.data == "trigger":
                trigger = self.guarded(self.trigger, item, code, len(triggers) + 1)
                triggers += [trigger] if trigger is not None else []
                current, broken = None, False
            elif item.data == "robot":
                number += 1
                robot = self.guarded(self.robot, item, f"{code}.{number}")
                current, broken = ([robot], False) if robot is not None else (None, True)
                chains += [current] if current is not None else []
            elif current is None:
                if not broken:
                    message = "'then' must follow a robot: it runs after the step above"
                    self.errors.append(DslSyntaxError(message, *_place(item)))
            else:
                step = self.guarded(self.robot, item, f"{code}.{number}.{len(current) + 1}")
                if step is None:
                    current, broken = None, True
                else:
                    current.append(step)
        return StageBlock(
            code=code,
            enabled=not any(isinstance(c, Tree) and c.data == "robots_off" for c in tree.children),
            chains=tuple(Chain(tuple(steps)) for steps in chains),
            triggers=tuple(triggers),
            pos=_pos(tree),
        )

    def robot(self, tree: Tree[Token], key: str) -> Robot:
        name = self.name(tree)
        return Robot(
            key=_key(name, key),
            name=name,
            delay=self.delay(_part(tree, "timing")),
            condition=self.condition(tree),
            actions=self.actions(_part(tree, "body")),
            pos=_pos(tree),
        )

    def trigger(self, tree: Tree[Token], stage: str | None, number: int) -> Trigger:
        name = self.name(tree)
        prefix = f"{stage}.trigger" if stage else "trigger"
        body = _child(tree, "body")
        return Trigger(
            key=_key(name, f"{prefix}.{number}"),
            name=name,
            event=".".join(str(token) for token in _part(tree, "event").children),
            condition=self.condition(tree),
            actions=self.actions(body) if body is not None else (),
            target_stage=stage,
            allow_backward=_child(tree, "allow_backward") is not None,
            pos=_pos(tree),
        )

    def name(self, tree: Tree[Token]) -> str | None:
        token = next((c for c in tree.children if _is(c, "STRING")), None)
        return string_value(token) if token is not None else None

    def condition(self, tree: Tree[Token]) -> Expression | None:
        condition = _child(tree, "condition")
        return self.expression(subtree(condition.children[1])) if condition is not None else None

    def delay(self, timing: Tree[Token]) -> Delay:
        moment = next((c for c in map(subtree, timing.children) if c.data != "working_hours"), None)
        hours = _child(timing, "working_hours")
        working: WorkingHours | None = None
        if hours is not None:
            working = "responsible" if len(hours.children) > 1 else "company"
        if moment is None or moment.data == "immediately":
            return Delay(working_hours=working)
        expressions = [c for c in moment.children if isinstance(c, Tree)]
        clock = next((_time_of_day(c) for c in moment.children if _is(c, "TIME")), None)
        value = self.expression(expressions[0]) if expressions else None
        if moment.data == "after":
            return Delay("after", amount=value, time_of_day=clock, working_hours=working)
        return Delay("at", moment=value, time_of_day=clock, working_hours=working)

    def actions(self, body: Tree[Token]) -> tuple[ActionCall, ...]:
        return tuple(self.action(subtree(action)) for action in body.children)

    def action(self, tree: Tree[Token]) -> ActionCall:
        name = tree.children[0]
        if tree.data == "move_to":
            ref = subtree(tree.children[1])
            stage = ".".join(str(token) for token in ref.children)
            expression = Expression(format_string(stage), Literal(stage, line=ref.meta.line, column=ref.meta.column))
            return ActionCall("move_to", (Arg("stage", expression, _pos(ref)),), _pos(name))
        args = []
        for argument in map(subtree, tree.children[1:]):
            if argument.data == "named":
                key, value = argument.children
                args.append(Arg(str(key), self.expression(subtree(value)), _pos(key)))
            else:
                args.append(Arg(None, self.expression(subtree(argument.children[0])), _pos(argument)))
        return ActionCall(str(name), tuple(args), _pos(name))

    def expression(self, tree: Tree[Token]) -> Expression:
        check_depth(tree)
        return Expression(self.text[tree.meta.start_pos : tree.meta.end_pos], build_expression(tree))


def _is(item: object, terminal: str) -> TypeGuard[Token]:
    return isinstance(item, Token) and item.type == terminal


def _child(tree: Tree[Token], data: str) -> Tree[Token] | None:
    return next((c for c in tree.children if isinstance(c, Tree) and rule_name(c) == data), None)


def _part(tree: Tree[Token], data: str) -> Tree[Token]:
    """The child rule `data` that the grammar always gives `tree`."""
    child = _child(tree, data)
    if child is None:  # pragma: no cover - the grammar requires it
        raise DslSyntaxError(f"missing '{data}'", *_place(tree))
    return child


def _pos(item: Tree[Token] | Token) -> Pos:
    line, column = _place(item)
    return Pos(line or 0, column or 0)


def _place(item: Tree[Token] | Token) -> tuple[int | None, int | None]:
    if isinstance(item, Token):
        return item.line, item.column
    return (None, None) if item.meta.empty else (item.meta.line, item.meta.column)


def _time_of_day(token: Token) -> time:
    hours, minutes = (int(part) for part in token.value.split(":"))
    if hours > 23 or minutes > 59:
        raise DslSyntaxError(f"'{token.value}' is not a time of day (00:00 to 23:59)", token.line, token.column)
    return time(hours, minutes)


def slug(name: str) -> str:
    """`"Remind to call the client"` → `remind-to-call-the-client`: a robot's key in jobs and logs."""
    return re.sub(r"[\W_]+", "-", name.lower()).strip("-")


def _key(name: str | None, positional: str) -> str:
    return (slug(name) if name else "") or positional
