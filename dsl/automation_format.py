"""Print an automation file in its one canonical layout, so that a diff shows real changes.

Two-space indentation, one blank line before each stage and top-level trigger, blocks in
the order they were written, delays always spelled out (`immediately` included), named
arguments as `name: value`, expressions through dsl.formatter. An action call longer than
`LINE_WIDTH` puts one argument per line. Comments are kept: one on the line of a stage,
robot, trigger or action stays at the end of that line, one on a line of its own goes
before the next of these (so a comment between the arguments of a call moves before the
next action line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsl.automation import ActionCall, AutomationFile, Delay, Robot, StageBlock, Trigger
from dsl.formatter import format_expression, quote_text
from dsl.nodes import Literal

LINE_WIDTH = 100
_INDENT = "  "
_KEYWORDS = {"and", "or", "not", "in", "is", "true", "false", "null"}
_STAGE_REF = re.compile(r"[^\W\d_]\w*(?:\.[^\W\d_]\w*)?")


@dataclass
class _Element:
    """One printed statement: where it was written (for its comments) and its lines."""

    line: int
    depth: int
    lines: list[str]
    opens_block: bool = False


def format_automation(file: AutomationFile) -> str:
    """The canonical text of `file`; parsing it gives the same file, positions aside."""
    elements = [_Element(file.pos.line if file.pos else 0, 0, [_header(file)])]
    blocks: list[StageBlock | Trigger] = sorted([*file.stages, *file.triggers], key=_place)
    for block in blocks:
        printed = _stage(block) if isinstance(block, StageBlock) else _trigger(block, 0)
        printed[0].opens_block = True
        elements.extend(printed)
    return _render(elements, sorted(file.comments))


def _place(item: StageBlock | Trigger | Robot) -> tuple[int, int]:
    return (item.pos.line, item.pos.column)


def _header(file: AutomationFile) -> str:
    words = ["global"] if file.is_global else ["pipeline", file.scope]
    if file.title is not None:
        words.append(quote_text(file.title))
    return " ".join(words)


def _stage(stage: StageBlock) -> list[_Element]:
    head = f"stage {stage.code}{'' if stage.enabled else ' (robots off)'}:"
    elements = [_Element(stage.pos.line, 0, [head])]
    items: list[tuple[tuple[int, int], list[_Element]]] = []
    for chain in stage.chains:
        for number, robot in enumerate(chain.steps):
            items.append((_place(robot), _robot(robot, "robot" if number == 0 else "then")))
    for trigger in stage.triggers:
        items.append((_place(trigger), _trigger(trigger, 1)))
    for _, printed in sorted(items, key=lambda item: item[0]):
        elements.extend(printed)
    return elements


def _robot(robot: Robot, keyword: str) -> list[_Element]:
    words = [keyword]
    if robot.name is not None:
        words.append(quote_text(robot.name))
    words.append(_delay(robot.delay))
    if robot.condition is not None:
        words.append(f"if {format_expression(robot.condition)}")
    head = _Element(robot.pos.line, 1, [" ".join(words) + ":"])
    return [head, *(_action(call, 2) for call in robot.actions)]


def _trigger(trigger: Trigger, depth: int) -> list[_Element]:
    words = ["trigger"]
    if trigger.name is not None:
        words.append(quote_text(trigger.name))
    words.append(f"on {trigger.event}")
    if trigger.condition is not None:
        words.append(f"if {format_expression(trigger.condition)}")
    if trigger.allow_backward:
        words.append("allow backward")
    head = " ".join(words) + (":" if trigger.actions else "")
    return [_Element(trigger.pos.line, depth, [head]), *(_action(call, depth + 1) for call in trigger.actions)]


def _delay(delay: Delay) -> str:
    words = []
    if delay.kind == "after" and delay.amount is not None:
        words.append(f"after {format_expression(delay.amount)}")
    elif delay.kind == "at" and delay.moment is not None:
        words.append(f"at {format_expression(delay.moment)}")
    elif delay.time_of_day is None:
        words.append("immediately")
    if delay.time_of_day is not None:
        words.append(f"at {delay.time_of_day:%H:%M}")
    if delay.working_hours is not None:
        words.append("in working hours" + (" of responsible" if delay.working_hours == "responsible" else ""))
    return " ".join(words)


def _action(call: ActionCall, depth: int) -> _Element:
    stage = _move_to_stage(call)
    if stage is not None:
        return _Element(call.pos.line, depth, [f"move_to {stage}"])
    args = [(f"{arg.name}: " if arg.name is not None else "") + format_expression(arg.value) for arg in call.args]
    flat = f"{call.name}({', '.join(args)})"
    if len(_INDENT * depth + flat) <= LINE_WIDTH or len(args) < 2:
        return _Element(call.pos.line, depth, [flat])
    return _Element(call.pos.line, depth, [f"{call.name}(", *(f"{_INDENT}{arg}," for arg in args), ")"])


def _move_to_stage(call: ActionCall) -> str | None:
    """The stage of a `move_to` that the short form `move_to pipeline.stage` says exactly."""
    if call.name != "move_to" or len(call.args) != 1 or call.args[0].name != "stage":
        return None
    node = call.args[0].value.node
    if not isinstance(node, Literal) or not isinstance(node.value, str) or not _STAGE_REF.fullmatch(node.value):
        return None
    return node.value if not _KEYWORDS & set(node.value.split(".")) else None


def _render(elements: list[_Element], comments: list[tuple[int, str]]) -> str:
    lines: list[str] = []
    pending = list(comments)
    for element in elements:
        indent = _INDENT * element.depth
        if element.opens_block:
            lines.append("")
        while pending and pending[0][0] < element.line:
            lines.append(indent + pending.pop(0)[1])
        printed = [indent + line for line in element.lines]
        while pending and pending[0][0] == element.line:
            printed[0] += "  " + pending.pop(0)[1]
        lines.extend(printed)
    lines.extend(text for _, text in pending)
    return "\n".join(lines) + "\n"
