"""Hypothesis strategies that write DSL text: valid expressions and grammar-like token soup."""

from __future__ import annotations

from hypothesis import strategies as st

NAMES = ["deal", "event", "count", "approved", "nothing", "x", "amount", "stage", "products", "tags", "it"]
FIELDS = ["amount", "stage", "title", "contact", "phone", "products", "name", "tags", "source", "qty"]
LITERALS = [
    "0",
    "1",
    "42",
    "1.50",
    "0.1",
    "'new'",
    '"it\\"s"',
    "''",
    "true",
    "false",
    "null",
    "2026-01-05",
    "2026-01-05T10:30",
    "2026-01-05T10:30:00Z",
    "2d 4h",
    "30m",
    "1w",
    "45s",
    "'Call {deal.contact.name}'",
    '"{{braces}} and {count + 1}"',
    "\"{x} of {coalesce(x, 'none')}\"",
    "'{'",
]
FUNCTIONS = {
    "now": 0,
    "today": 0,
    "len": 1,
    "lower": 1,
    "upper": 1,
    "trim": 1,
    "contains": 2,
    "starts_with": 2,
    "days_between": 2,
    "date": 1,
    "datetime": 1,
    "duration": 1,
    "coalesce": 2,
    "round": 2,
    "abs": 1,
    "min": 3,
    "max": 2,
    "str": 1,
    "number": 1,
    "format_date": 2,
    "sum": 1,
    "count": 1,
    "any": 1,
    "all": 1,
}
# Functions over a list that take an `item -> expression` second argument.
LIST_FUNCTIONS = ["sum", "count", "any", "all", "filter", "map", "min", "max"]
BINARY = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "in", "not in"]

TOKENS = [
    *NAMES,
    *LITERALS,
    *BINARY,
    *FUNCTIONS,
    "not",
    "is",
    "if",
    "then",
    "else",
    "->",
    "it ->",
    "filter",
    "map",
    "is not null",
    "is null",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "-",
    "{",
    "}",
    "{{",
    "}}",
    "=",
    "\n",
    "#",
    "'",
    '"',
    "_",
    "__class__",
    "9" * 120,
    "((((((((((",
    "]]]]",
    "1e5",
    "**",
    "@",
    "\\",
    "\t",
]


def _path() -> st.SearchStrategy[str]:
    return st.builds(
        lambda root, fields, index: root + "".join("." + f for f in fields) + index,
        st.sampled_from(NAMES),
        st.lists(st.sampled_from(FIELDS), max_size=3),
        st.sampled_from(["", "", "[0]", "[-1]"]),
    )


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    call = st.sampled_from(sorted(FUNCTIONS)).flatmap(
        lambda name: st.lists(children, min_size=FUNCTIONS[name], max_size=FUNCTIONS[name]).map(
            lambda args: f"{name}({', '.join(args)})"
        )
    )
    return st.one_of(
        st.tuples(children, st.sampled_from(BINARY), children).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"not {c}"),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"{c} is null"),
        children.map(lambda c: f"({c}).name"),
        st.lists(children, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        call,
        st.tuples(children, children, children).map(lambda t: f"if {t[0]} then {t[1]} else {t[2]}"),
        st.tuples(st.sampled_from(LIST_FUNCTIONS), children, children).map(lambda t: f"{t[0]}({t[1]}, it -> {t[2]})"),
    )


def expressions() -> st.SearchStrategy[str]:
    """Syntactically plausible expressions (most parse; some break precedence rules on purpose)."""
    leaves = st.one_of(st.sampled_from(LITERALS), _path())
    return st.recursive(leaves, _extend, max_leaves=12)


def token_soup() -> st.SearchStrategy[str]:
    """Grammar tokens in random order, joined with or without spaces."""
    return st.tuples(st.lists(st.sampled_from(TOKENS), max_size=25), st.sampled_from([" ", ""])).map(
        lambda t: t[1].join(t[0])
    )
