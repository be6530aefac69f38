"""The robots board's edits as changes to the automation text: parse, change, format.

The designer's board and its DSL text are one file. A form on the board sends a structured
operation (add, update or remove a robot chain or a trigger of a stage, switch a stage's
robots on or off); it is applied to the parsed file and the file printed back by
dsl.automation_format, so comments stay and the text a person wrote elsewhere is only
re-laid out, never changed in meaning. Keeping this here, beside the parser, makes Python
the one reader and writer of the language: the browser never edits DSL text itself.

A robot, as a form holds it (`describe` gives the same shape, with `line`s):

    {"name": "remind", "when": {"kind": "after", "amount": "1d", "moment": None,
                                "time": "10:00", "working_hours": "company"},
     "condition": "deal.amount > 100",
     "actions": [{"name": "notify", "args": [{"name": "to", "value": "deal.responsible"},
                                             {"name": "text", "text": "Call {deal.title}"}]}],
     "then": [<steps of the same shape, without "then">]}

An argument is an expression (`value`) or plain words with `{field}` holes (`text`), which
become a quoted template. A trigger is {"name", "event", "condition", "allow_backward",
"actions"}. New positions are chosen so the formatter keeps every comment where it was:
a new item sits after the last line of its stage, an updated one keeps its own lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from dsl.automation import ActionCall, AutomationFile, Chain, Pos, Robot, StageBlock, Trigger
from dsl.automation_format import format_automation
from dsl.automation_parser import parse_automation
from dsl.base_error import DealflowError
from dsl.errors import DslError
from dsl.expression import compile_expression
from dsl.formatter import format_expression, quote_text
from dsl.nodes import Literal, Node, TextTemplate

KINDS = ("robot", "trigger")
OPERATIONS = ("add", "update", "remove", "switch")
DELAY_KINDS = ("immediately", "after", "at")
WORKING_HOURS = (None, "company", "responsible")
_NAME = re.compile(r"[^\W\d]\w*")
_EVENT = re.compile(r"[^\W\d]\w*(\.[^\W\d]\w*)*")
_TIME = re.compile(r"([01]?\d|2[0-3]):[0-5]\d")
_LATER = 10_000  # a column past any real one: what is placed at a line sorts after what is there


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an edit; `field` is its place in the form ("condition",
    "actions.0.args.1", "then.0.when.amount"), None for the file as a whole."""

    field: str | None
    message: str
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, "line": self.line, "column": self.column}


class EditError(DealflowError):
    """The operation cannot be applied; `problems` says where, field by field."""

    code = "invalid_edit"
    status = 422

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems), details=[p.to_dict() for p in problems])
        self.problems = problems


# ---------------------------------------------------------------------------- reading


def describe(file: AutomationFile) -> dict[str, Any]:
    """The file as the board's forms hold it: per stage its chains and triggers, in order."""
    return {
        "scope": file.scope,
        "stages": [
            {"code": stage.code, "enabled": stage.enabled, "line": stage.pos.line,
             "robots": [_chain_spec(chain) for chain in stage.chains],
             "triggers": [_trigger_spec(trigger) for trigger in stage.triggers]}
            for stage in file.stages
        ],
        "triggers": [_trigger_spec(trigger) for trigger in file.triggers],
    }


def _chain_spec(chain: Chain) -> dict[str, Any]:
    first, *rest = chain.steps
    return {**_step_spec(first), "then": [_step_spec(step) for step in rest]}


def _step_spec(robot: Robot) -> dict[str, Any]:
    delay = robot.delay
    return {
        "name": robot.name,
        "line": robot.pos.line,
        "when": {
            "kind": delay.kind,
            "amount": format_expression(delay.amount) if delay.amount is not None else None,
            "moment": format_expression(delay.moment) if delay.moment is not None else None,
            "time": f"{delay.time_of_day:%H:%M}" if delay.time_of_day is not None else None,
            "working_hours": delay.working_hours,
        },
        "condition": format_expression(robot.condition) if robot.condition is not None else None,
        "actions": [_action_spec(call) for call in robot.actions],
    }


def _trigger_spec(trigger: Trigger) -> dict[str, Any]:
    return {
        "name": trigger.name, "line": trigger.pos.line, "event": trigger.event,
        "condition": format_expression(trigger.condition) if trigger.condition is not None else None,
        "allow_backward": trigger.allow_backward,
        "actions": [_action_spec(call) for call in trigger.actions],
    }


def _action_spec(call: ActionCall) -> dict[str, Any]:
    args = []
    for arg in call.args:
        shown: dict[str, Any] = {"name": arg.name, "value": format_expression(arg.value)}
        words = _plain_words(arg.value.node)
        if words is not None:
            shown["text"] = words
        args.append(shown)
    return {"name": call.name, "args": args}


def _plain_words(node: Node) -> str | None:
    """A string argument as a person types it in a text input: holes in braces, no quotes."""
    if isinstance(node, Literal) and isinstance(node.value, str):
        return node.value.replace("{", "{{").replace("}", "}}")
    if isinstance(node, TextTemplate):
        return "".join(part.replace("{", "{{").replace("}", "}}") if isinstance(part, str)
                       else "{" + format_expression(part) + "}" for part in node.parts)
    return None


# ---------------------------------------------------------------------------- editing


def edit_automation(text: str, operation: dict[str, Any]) -> str:
    """`text` with `operation` applied, in the canonical layout; raises EditError.

    The text must parse (a syntax error elsewhere is fixed in the text first); whether the
    result checks against the database is the caller's question (see `locate`)."""
    try:
        file = parse_automation(text)
    except DslError as error:
        raise EditError([Problem(None, f"the text has errors; fix them in the text first: {error}",
                                 error.line, error.column)]) from None
    op, kind, code = operation.get("op"), operation.get("kind", "robot"), operation.get("stage")
    if op not in OPERATIONS:
        raise EditError([Problem("op", f"unknown operation {op!r}; one of {', '.join(OPERATIONS)}")])
    if kind not in KINDS:
        raise EditError([Problem("kind", f"unknown kind {kind!r}; robot or trigger")])
    if code is None and kind == "trigger" and op in ("add", "update", "remove"):
        return format_automation(_edit_file_trigger(file, op, operation))
    if not isinstance(code, str) or not _NAME.fullmatch(code):
        raise EditError([Problem("stage", "say which stage, by its code")])
    if file.is_global:
        raise EditError([Problem("stage", "a global file has no stages")])
    stage = file.stage(code)
    if op == "switch":
        enabled = operation.get("enabled")
        if not isinstance(enabled, bool):
            raise EditError([Problem("enabled", "on or off: true or false")])
        if stage is None:
            raise EditError([Problem("enabled", f"stage '{code}' has no robots to switch on or off")])
        return format_automation(_with_stage(file, stage, replace(stage, enabled=enabled)))
    if op == "add":
        item = _build(kind, operation.get("item"), code)
        if stage is None:
            stage = StageBlock(code, True, (), (), Pos(_last_line(file) + 1, 0))
        anchor = Pos(_stage_end(stage), _LATER)
        return format_automation(_with_stage(file, stage, _added(stage, item, anchor)))
    if stage is None:
        raise EditError([Problem("stage", f"stage '{code}' has no robots or triggers in the text")])
    items = stage.chains if kind == "robot" else stage.triggers
    index = operation.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(items):
        raise EditError([Problem("index", f"stage '{code}' has no {kind} number {index!r}")])
    old = items[index]
    if op == "remove":
        first, last = _span(old)
        kept = tuple(c for c in file.comments if not first <= c[0] <= last)
        changed = _replaced(stage, kind, index, None)
        file = replace(file, comments=kept)
        if not changed.chains and not changed.triggers:  # a block must hold something
            return format_automation(_without_stage(file, stage))
        return format_automation(_with_stage(file, stage, changed))
    item = _build(kind, operation.get("item"), code)
    if isinstance(old, Chain) and isinstance(item, Chain) and len(item.steps) < len(old.steps):
        gone = [_span(Chain((step,))) for step in old.steps[len(item.steps):]]
        file = replace(file, comments=tuple(c for c in file.comments if not any(a <= c[0] <= b for a, b in gone)))
    return format_automation(_with_stage(file, stage, _replaced(stage, kind, index, _in_place_of(old, item))))


def _edit_file_trigger(file: AutomationFile, op: str, operation: dict[str, Any]) -> AutomationFile:
    """A trigger of the whole file (`stage` null): in a pipeline's file it acts on a deal in any
    stage; in the global file it is every rule there is."""
    if op == "add":
        built = _build_trigger(operation.get("item"))
        placed = _placed(replace(built, target_stage=None), [], [], Pos(_last_line(file), _LATER))
        return replace(file, triggers=(*file.triggers, placed))
    index = operation.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(file.triggers):
        raise EditError([Problem("index", f"the file has no trigger number {index!r} outside its stages")])
    old = file.triggers[index]
    rest = [*file.triggers[:index], *file.triggers[index + 1:]]
    if op == "remove":
        first, last = _span(old)
        return replace(file, triggers=tuple(rest),
                       comments=tuple(c for c in file.comments if not first <= c[0] <= last))
    built = _build_trigger(operation.get("item"))
    changed = _in_place_of(old, replace(built, target_stage=None))
    return replace(file, triggers=(*file.triggers[:index], changed, *file.triggers[index + 1:]))  # type: ignore[arg-type]


def _with_stage(file: AutomationFile, old: StageBlock, new: StageBlock) -> AutomationFile:
    if old in file.stages:
        return replace(file, stages=tuple(new if s is old else s for s in file.stages))
    return replace(file, stages=(*file.stages, new))


def _without_stage(file: AutomationFile, stage: StageBlock) -> AutomationFile:
    return replace(file, stages=tuple(s for s in file.stages if s is not stage))


def _added(stage: StageBlock, item: Chain | Trigger, anchor: Pos) -> StageBlock:
    placed = _placed(item, [], [], anchor)
    if isinstance(placed, Chain):
        return replace(stage, chains=(*stage.chains, placed))
    return replace(stage, triggers=(*stage.triggers, placed))


def _replaced(stage: StageBlock, kind: str, index: int, item: Chain | Trigger | None) -> StageBlock:
    if kind == "robot":
        chains = [*stage.chains[:index], *([item] if item is not None else []), *stage.chains[index + 1:]]
        return replace(stage, chains=tuple(chains))  # type: ignore[arg-type]
    triggers = [*stage.triggers[:index], *([item] if item is not None else []), *stage.triggers[index + 1:]]
    return replace(stage, triggers=tuple(triggers))  # type: ignore[arg-type]


def _in_place_of(old: Chain | Trigger, new: Chain | Trigger) -> Chain | Trigger:
    """`new` on the lines of `old`: step by step and action by action, so a comment on a
    line keeps its neighbour; what is new goes after the old item's last line."""
    steps = old.steps if isinstance(old, Chain) else (old,)
    placed: Chain | Trigger = _placed(new, [s.pos for s in steps], [[c.pos for c in s.actions] for s in steps],
                                      Pos(_span(old)[1], _LATER))
    return placed


def _placed(item: Chain | Trigger, heads: list[Pos], actions: list[list[Pos]], after: Pos) -> Any:
    """`item` with the positions the formatter sorts by and hangs comments on: the old ones
    where there are, else one after another on the line `after`."""
    counter = iter(range(1, 1_000_000))

    def at(old: list[Pos], i: int) -> Pos:
        return old[i] if i < len(old) else Pos(after.line, after.column + next(counter))

    def step(robot: Any, number: int) -> Any:
        head = at(heads, number)
        old = actions[number] if number < len(actions) else []
        calls = []
        for i, call in enumerate(robot.actions):
            pos = at(old, i)
            calls.append(replace(call, pos=pos, args=tuple(replace(arg, pos=pos) for arg in call.args)))
        return replace(robot, pos=head, actions=tuple(calls))

    if isinstance(item, Trigger):
        return step(item, 0)
    return Chain(tuple(step(robot, number) for number, robot in enumerate(item.steps)))


def _span(item: Chain | Trigger) -> tuple[int, int]:
    """The first and last line an item's text takes (its arguments included)."""
    steps = item.steps if isinstance(item, Chain) else (item,)
    lines = [step.pos.line for step in steps]
    for step in steps:
        for call in step.actions:
            lines += [call.pos.line, *(arg.pos.line for arg in call.args), *_node_lines(call)]
    return min(lines), max(lines)


def _node_lines(call: ActionCall) -> list[int]:
    return [line for arg in call.args if (line := getattr(arg.value.node, "line", None))]


def _stage_end(stage: StageBlock) -> int:
    spans = [*(_span(chain)[1] for chain in stage.chains), *(_span(trigger)[1] for trigger in stage.triggers)]
    return max([stage.pos.line, *spans])


def _last_line(file: AutomationFile) -> int:
    lines = [file.pos.line if file.pos else 0, *(line for line, _ in file.comments)]
    lines += [_stage_end(stage) for stage in file.stages]
    lines += [_span(trigger)[1] for trigger in file.triggers]
    return max(lines)


# ------------------------------------------------------------------ building from a form


def _build_trigger(spec: Any) -> Trigger:
    """A whole-file trigger from the form (`_build` gives a Trigger for kind "trigger")."""
    built = _build("trigger", spec, "edited")
    assert isinstance(built, Trigger)
    return built


def _build(kind: str, spec: Any, stage: str) -> Chain | Trigger:
    """The form's robot or trigger as parsed AST, every field checked on its own first so a
    mistake is told on its field."""
    problems: list[Problem] = []
    if not isinstance(spec, dict):
        raise EditError([Problem("item", f"the {kind} is missing")])
    if kind == "robot":
        steps = [_step_text("robot", spec, "", problems)]
        then = spec.get("then") or []
        if not isinstance(then, list):
            problems.append(Problem("then", "then steps are a list"))
            then = []
        steps += [_step_text("then", step, f"then.{i}.", problems) for i, step in enumerate(then)]
        body = "".join(steps)
    else:
        body = _trigger_text(spec, problems)
    if problems:
        raise EditError(problems)
    text = f"pipeline edited\n\nstage {stage}:\n{body}"
    try:
        parsed = parse_automation(text)
    except DslError as error:  # every part checked above: a gap between them and the grammar
        raise EditError([Problem(None, str(error))]) from None
    block = parsed.stages[0]
    return block.chains[0] if kind == "robot" else block.triggers[0]


def _step_text(keyword: str, spec: Any, prefix: str, problems: list[Problem]) -> str:
    if not isinstance(spec, dict):
        problems.append(Problem(prefix.rstrip(".") or "item", "a step is missing"))
        return ""
    words = [keyword]
    name = _name(spec, prefix, problems)
    if name:
        words.append(quote_text(name))
    words.append(_when_text(spec.get("when") or {}, prefix, problems))
    condition = _expression(spec.get("condition"), f"{prefix}condition", problems)
    if condition:
        words.append(f"if {condition}")
    return "  " + " ".join(words) + ":\n" + _actions_text(spec.get("actions"), prefix, problems, required=True)


def _trigger_text(spec: dict[str, Any], problems: list[Problem]) -> str:
    words = ["trigger"]
    name = _name(spec, "", problems)
    if name:
        words.append(quote_text(name))
    event = spec.get("event")
    if not isinstance(event, str) or not _EVENT.fullmatch(event.strip()):
        problems.append(Problem("event", "say which event, like order.paid"))
    else:
        words.append(f"on {event.strip()}")
    condition = _expression(spec.get("condition"), "condition", problems)
    if condition:
        words.append(f"if {condition}")
    if spec.get("allow_backward"):
        words.append("allow backward")
    actions = spec.get("actions") or []
    if not actions:
        return "  " + " ".join(words) + "\n"
    return "  " + " ".join(words) + ":\n" + _actions_text(actions, "", problems, required=False)


def _name(spec: dict[str, Any], prefix: str, problems: list[Problem]) -> str | None:
    name = spec.get("name")
    if name is not None and not isinstance(name, str):
        problems.append(Problem(f"{prefix}name", "a name is text"))
        return None
    return name.strip() if name else None


def _when_text(when: Any, prefix: str, problems: list[Problem]) -> str:
    field = f"{prefix}when"
    if not isinstance(when, dict):
        problems.append(Problem(field, "when the robot runs is missing"))
        return "immediately"
    kind = when.get("kind") or "immediately"
    if kind not in DELAY_KINDS:
        problems.append(Problem(f"{field}.kind", f"one of {', '.join(DELAY_KINDS)}"))
        return "immediately"
    clock = (when.get("time") or "").strip() if isinstance(when.get("time"), str) else when.get("time")
    if clock and not (isinstance(clock, str) and _TIME.fullmatch(clock)):
        problems.append(Problem(f"{field}.time", "a time of day, like 10:00"))
        return "immediately"
    words = []
    if kind == "after":
        amount = _expression(when.get("amount"), f"{field}.amount", problems)
        if not amount:
            problems.append(Problem(f"{field}.amount", "say how long to wait, like 2d 4h"))
        words.append(f"after {amount}")
    elif kind == "at":
        moment = _expression(when.get("moment"), f"{field}.moment", problems)
        if not moment and not clock:
            problems.append(Problem(f"{field}.moment", "say when, like deal.ready_date - 2h, or a time of day"))
        if moment:
            words.append(f"at {moment}")
    if clock:
        words.append(f"at {clock}")
    if not words:
        words.append("immediately")
    hours = when.get("working_hours")
    if hours not in WORKING_HOURS:
        problems.append(Problem(f"{field}.working_hours", "company or responsible, or none"))
    elif hours:
        words.append("in working hours" + (" of responsible" if hours == "responsible" else ""))
    return " ".join(words)


def _actions_text(actions: Any, prefix: str, problems: list[Problem], *, required: bool) -> str:
    if not isinstance(actions, list) or (required and not actions):
        problems.append(Problem(f"{prefix}actions", "add at least one action"))
        return ""
    lines = []
    for i, action in enumerate(actions):
        field = f"{prefix}actions.{i}"
        name = action.get("name") if isinstance(action, dict) else None
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            problems.append(Problem(f"{field}.name", "choose an action"))
            continue
        args = action.get("args") or []
        if not isinstance(args, list):
            problems.append(Problem(f"{field}.args", "arguments are a list"))
            continue
        printed = []
        for j, arg in enumerate(args):
            value = _argument(arg, f"{field}.args.{j}", problems)
            if value is None:
                continue
            arg_name = arg.get("name")
            if arg_name is not None and (not isinstance(arg_name, str) or not _NAME.fullmatch(arg_name)):
                problems.append(Problem(f"{field}.args.{j}", f"{arg_name!r} is not a parameter name"))
                continue
            printed.append(f"{arg_name}: {value}" if arg_name else value)
        lines.append(f"    {name}({', '.join(printed)})\n")
    return "".join(lines)


def _argument(arg: Any, field: str, problems: list[Problem]) -> str | None:
    """An argument's DSL text: plain words quoted as a template, or the expression (which
    wins when both are given, as `describe` does); None if left empty (not given)."""
    if not isinstance(arg, dict):
        problems.append(Problem(field, "an argument is missing"))
        return None
    if isinstance(arg.get("text"), str) and "value" not in arg:
        words = arg["text"]
        return _expression(quote_text(words), field, problems) if words != "" else None
    return _expression(arg.get("value"), field, problems)


def _expression(text: Any, field: str, problems: list[Problem]) -> str | None:
    """`text` checked and in its one-line canonical form; None when left empty."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if not isinstance(text, str):
        problems.append(Problem(field, "an expression is text"))
        return None
    try:
        return format_expression(compile_expression(text.strip()))
    except DslError as error:
        problems.append(Problem(field, error.message, error.line, error.column))
        return None


# ------------------------------------------------------------------ errors on the form


def locate(text: str, operation: dict[str, Any], errors: list[DslError]) -> list[Problem]:
    """The check's errors of an edited `text` put on the fields of the item the operation
    touched (`field` None for the rest of the file)."""
    lines = text.split("\n")
    places: dict[int, tuple[str, Any]] = {}
    try:
        file = parse_automation(text)
    except DslError:
        file = None
    code = operation.get("stage")
    stage = file.stage(code) if file is not None and isinstance(code, str) else None
    loose = file is not None and code is None and operation.get("kind") == "trigger"
    if (stage is not None or loose) and operation.get("op") in ("add", "update"):
        kind = operation.get("kind", "robot")
        items: tuple[Any, ...] = file.triggers if loose else stage.chains if kind == "robot" else stage.triggers  # type: ignore[union-attr]
        index = len(items) - 1 if operation["op"] == "add" else operation.get("index", -1)
        if isinstance(index, int) and 0 <= index < len(items):
            item = items[index]
            steps = item.steps if isinstance(item, Chain) else (item,)
            for number, step in enumerate(steps):
                prefix = f"then.{number - 1}." if number else ""
                places[step.pos.line] = (prefix, step)
                for i, call in enumerate(step.actions):
                    for line in range(call.pos.line, _call_end(call) + 1):
                        places[line] = (f"{prefix}actions.{i}", call)
    return [_on_field(error, places, lines) for error in errors]


def _call_end(call: ActionCall) -> int:
    return max([call.pos.line, *(arg.pos.line for arg in call.args)])


def _on_field(error: DslError, places: dict[int, tuple[str, Any]], lines: list[str]) -> Problem:
    line, column = error.line, error.column or 0
    if line is None or line not in places:
        return Problem(None, error.message, line, error.column)
    prefix, element = places[line]
    if isinstance(element, ActionCall):
        before = [j for j, arg in enumerate(element.args) if (arg.pos.line, arg.pos.column) <= (line, column)]
        field = f"{prefix}.args.{before[-1]}" if before else f"{prefix}.name"
        return Problem(field, error.message, line, error.column)
    head = lines[line - 1]
    condition_at = head.find(" if ") + 2 if " if " in head else len(head) + 1
    if column <= element.pos.column:
        field = "name"
    elif column >= condition_at:
        field = "condition"
    else:
        field = "event" if isinstance(element, Trigger) else "when"
    return Problem(prefix + field, error.message, line, error.column)


__all__ = ["EditError", "Problem", "describe", "edit_automation", "locate"]
