"""Text in, lark tree out, or a DslSyntaxError that says in plain words what was expected.

One LALR parser per grammar (expression, template, script), built on first use. Every
parse checks the size limits before and the nesting limit after, so nothing downstream
(which recurses over the tree) can be driven into deep recursion.
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Literal

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from dsl import limits
from dsl.errors import DslSyntaxError

GrammarName = Literal["expression", "template", "script", "automation"]

# Terminals that can only start an operand: when one is expected, say "an expression".
_OPERAND_STARTS = {"NAME", "INT", "DECIMAL", "STRING", "DATE", "DATETIME", "DURATION"}
_OPERAND_STARTS |= {"TRUE", "FALSE", "NULL"}
_ALSO_OPERAND_STARTS = {"LPAR", "LSQB", "MINUS", "NOT", "_IF"}
# Terminals that can only continue an operand: when one is expected, say "an operator".
_OPERATORS = {"EQ", "NE", "LT", "LE", "GT", "GE", "PLUS", "STAR", "SLASH", "PERCENT"}
_OPERATORS |= {"_AND", "_OR", "_IN", "_IS"}
_ALSO_OPERATORS = {"DOT", "LSQB", "MINUS", "NOT", "_ARROW"}
_PUNCTUATION = {
    "RPAR": "')'",
    "RSQB": "']'",
    "COMMA": "','",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "LSQB": "'['",
    "LBRACE": "'{'",
    "EQUAL": "'='",
    "DOT": "'.'",
    "NAME": "a name",
    "TEXT": "text",
    "_NL": "a new line",
    "$END": "the end of the text",
    # automation files
    "COLON": "':'",
    "_INDENT": "an indented block",
    "TIME": "a time like 10:00",
    "IN_WORKING_HOURS": "'in working hours'",
    "PIPELINE": "'pipeline <code>'",
    "STRING": "a name in quotes",
}
# Words an automation file reads as one idea, each described once.
_GROUPS = (
    ({"NAME", "MOVE_TO"}, "an action like notify(...) or move_to stage"),
    ({"IMMEDIATELY", "AFTER", "AT"}, "a delay (immediately, after 2d, at deal.date, at 10:00)"),
)
_VALUE_STARTS = {"INT", "DECIMAL", "DATE", "DATETIME", "DURATION", "TRUE", "FALSE"}


@functools.cache
def lark_parser(grammar: GrammarName) -> Lark:
    """The LALR parser for one of the package's grammars (built once per process)."""
    options = {}
    if grammar == "automation":
        from dsl.indentation import AutomationIndenter

        options["postlex"] = AutomationIndenter()
    return Lark.open(
        f"{grammar}.lark",
        rel_to=__file__,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        **options,
    )


def parse(grammar: GrammarName, text: str) -> Tree[Token]:
    """Parse `text` with one grammar; raise DslSyntaxError with a position on any problem."""
    if not isinstance(text, str):
        raise DslSyntaxError(f"expected text, not {type(text).__name__}")
    if len(text) > limits.MAX_SOURCE_LENGTH:
        raise DslSyntaxError(f"text longer than {limits.MAX_SOURCE_LENGTH} characters", 1, 1)
    try:
        tree = lark_parser(grammar).parse(text)
    except UnexpectedInput as error:
        raise syntax_error(error, text, grammar) from None
    except LarkError as error:  # pragma: no cover - lark's other errors are grammar bugs
        raise DslSyntaxError(f"cannot parse the text: {error}") from None
    check_depth(tree)
    return tree


def check_depth(tree: Tree[Token]) -> None:
    """Reject trees nested deeper than MAX_DEPTH, without recursing ourselves."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.MAX_DEPTH:
            line, column = position(node)
            raise DslSyntaxError(f"nested deeper than {limits.MAX_DEPTH} levels", line, column)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


def terminal_name(name: str) -> str:
    """A terminal's own name, without the `expression__` prefix an %import adds."""
    if name.startswith("_") and "__" in name[1:]:
        return "_" + name.rpartition("__")[2]
    return name.rpartition("__")[2]


def position(item: Tree[Token] | Token) -> tuple[int | None, int | None]:
    if isinstance(item, Token):
        return item.line, item.column
    if item.meta.empty:
        return None, None
    return item.meta.line, item.meta.column


def syntax_error(error: UnexpectedInput, text: str, grammar: GrammarName) -> DslSyntaxError:
    """The DslSyntaxError for a lark error: position, what was found, what was expected."""
    if isinstance(error, UnexpectedToken):
        token = error.token
        stop = None if token.type == "$END" else token.start_pos
        accepted = _acceptable_before(grammar, text, stop)
        expected = describe_expected(accepted or error.accepts or error.expected)
        if token.type == "$END":
            line, column = _end_position(text)
        else:
            line, column = token.line, token.column
        message = f"unexpected {_describe_token(token)}"
        if _misplaced_arrow(text, token.start_pos):
            message, column = _ARROW_HINT, (column or 2) - 1  # point at the '-'
        elif token.value == "if" and grammar != "automation":  # Python's `a if c else b`
            message, expected = "a choice is written 'if <condition> then <a> else <b>'", []
        elif token.start_pos is not None and (keyword := _IF_BEFORE.search(text, 0, token.start_pos)):
            # Where no `if` can start, the lexer read it as a name, so the error is one token later.
            message, expected = _IF_HINT, []
            line = text.count("\n", 0, keyword.start()) + 1
            column = keyword.start() - (text.rfind("\n", 0, keyword.start()) + 1) + 1
        if grammar == "template" and token.value == "}" and "'}'" not in expected:
            message = _describe_character("}", grammar)
    elif isinstance(error, UnexpectedCharacters):
        accepted = _acceptable_before(grammar, text, error.pos_in_stream)
        expected = describe_expected(accepted or error.allowed or ())
        line, column = error.line, error.column
        # lark declares pos_in_stream as None on the base class; UnexpectedCharacters sets the offset.
        message = _describe_character(text[error.pos_in_stream], grammar)  # type: ignore[index]
        if _misplaced_arrow(text, error.pos_in_stream):
            message, column = _ARROW_HINT, column - 1  # point at the '-'
    else:  # pragma: no cover - only Earley raises UnexpectedEOF
        expected, (line, column), message = [], _end_position(text), "unexpected end of the text"
    if expected and message not in (_ARROW_HINT, _IF_HINT):
        message = f"{message}; expected {_join(expected)}"
    return DslSyntaxError(message, line, column, expected)


_IF_HINT = "an 'if ... then ... else ...' inside an operation needs parentheses: 1 + (if a then 1 else 2)"
_IF_BEFORE = re.compile(r"(?<![\w.])if\s*\Z")
_ARROW_HINT = "'->' names the item of a list function's argument, like sum(deal.products, p -> p.price)"


def _misplaced_arrow(text: str, offset: int | None) -> bool:
    """Whether the failing character is the `>` of an `->` the grammar did not allow there."""
    return offset is not None and 0 < offset < len(text) and text[offset - 1 : offset + 1] == "->"


def _acceptable_before(grammar: GrammarName, text: str, stop: int | None) -> set[str]:
    """The terminals the parser would have taken at offset `stop` (None: at the end).

    lark reports the expected set after it has reduced on the failing token, which for
    `(1 + 2` leaves only ')', and the lexer's set is that of a state shared by several
    contexts; replaying the parse up to the failure gives the exact set. Error path only.
    """
    parser = lark_parser(grammar)
    terminals = {terminal.name for terminal in parser.terminals} | {"$END", "_INDENT"}
    interactive = parser.parse_interactive(text)
    try:
        for token in interactive.iter_parse():
            # Indentation tokens stand at the start of the line whose first token failed.
            at_stop = stop is not None and token.start_pos is not None and token.start_pos >= stop
            if at_stop and token.type not in ("_INDENT", "_DEDENT"):
                break
    except (UnexpectedInput, DslSyntaxError):  # the indentation of automation files raises the latter
        pass
    config = copy.copy(interactive.parser_state.parse_conf)
    config.callbacks = {}
    accepted = set()
    for name in interactive.choices():
        if name not in terminals:
            continue
        attempt = interactive.copy(deepcopy_values=False)
        attempt.parser_state.parse_conf = config
        try:
            attempt.feed_token(Token(name, ""))
        except UnexpectedInput:
            continue
        accepted.add(name)
    return accepted


def describe_expected(terminals: object) -> list[str]:
    """Terminal names → the few words a person needs ("an expression", "')'")."""
    names = {terminal_name(str(name)) for name in terminals}  # type: ignore[attr-defined]
    names.discard("_DEDENT")  # a block ends by writing less indented lines, not by a token
    words = []
    for group, word in _GROUPS:
        if group <= names:
            words.append(word)
            names -= group
    if names & _VALUE_STARTS:
        words.append("an expression")
        names -= _OPERAND_STARTS | _ALSO_OPERAND_STARTS
    if names & (_OPERATORS - {"_IN"}):
        words.append("an operator")
        names -= _OPERATORS | _ALSO_OPERATORS
    for name in sorted(names, key=lambda n: (n == "$END", n)):
        word = _PUNCTUATION.get(name) or _operator_word(name)
        if word not in words:
            words.append(word)
    return words


def _operator_word(name: str) -> str:
    words = {"MINUS": "'-'", "NOT": "'not'", "_IN": "'in'", "NULL": "'null'", "_ARROW": "'->'"}
    return words.get(name, f"'{name.strip('_').lower()}'" if name.isupper() else name)


def _join(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _describe_token(token: Token) -> str:
    kind = terminal_name(token.type)
    if kind == "$END":
        return "end of the text"
    if kind == "_NL":
        return "end of the line"
    if kind == "_INDENT":
        return "indentation"
    if kind == "_DEDENT":
        return "end of the block" if token.value == "" and token.line is None else "less indented line"
    if kind == "NAME":
        return f"name '{token.value}'"
    if kind == "TEXT":  # template text the lexer fell back to inside a hole
        return f"character {token.value[0]!r}"
    if kind == "STRING":
        return f"text {_clip(token.value)}"
    if kind in _OPERAND_STARTS:
        return f"value {_clip(token.value)}"
    return f"'{_clip(token.value)}'"


def _describe_character(char: str, grammar: GrammarName) -> str:
    if char in "\"'":
        return "text is missing its closing quote"
    if char == "}" and grammar == "template":
        return "a single '}' must be written as '}}'"
    if char == "_":
        return "names cannot start with '_'"
    return f"unexpected character {char!r}"


def _clip(value: str) -> str:
    return value if len(value) <= 30 else value[:27] + "..."


def _end_position(text: str) -> tuple[int, int]:
    """Where a person would type the missing part: just after the last character."""
    line = text.count("\n") + 1
    column = len(text) - (text.rfind("\n") + 1) + 1
    return line, column
