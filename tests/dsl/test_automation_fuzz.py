"""Whatever the text, the automation parser, checker and formatter raise nothing but DslErrors,
and whatever parses formats back to the same file."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import DslError
from dsl.automation import without_positions
from dsl.automation_check import check_automation
from dsl.automation_format import format_automation
from dsl.automation_parser import parse_automation
from tests.dsl.automation_samples import CREDIT, MAIN, STORE, catalog
from tests.dsl.strategies import token_soup

# DSL_FUZZ_EXAMPLES=5000 for a long run before a release.
EXAMPLES = int(os.environ.get("DSL_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAMPLES = [CREDIT, MAIN, STORE]
WORDS = [
    "pipeline", "global", "stage", "robot", "then", "trigger", "on", "if", "allow backward", "immediately",
    "after", "at", "10:00", "25:99", "in working hours", "of responsible", "(robots off)", "move_to", ":", "(",
    ")", "[", "]", ",", "\n", "\n  ", "\n    ", "\t", "#", "'x {deal.title}'", '"{"', "deal.amount", "2d", "notify",
    "x.y", "\\", "'", "=", "{", "}",
]  # fmt: skip


def mutations() -> st.SearchStrategy[str]:
    """A valid file with a few characters cut out, words put in, or lines swapped."""

    def mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
        for where, length, insert in edits:
            at = where % (len(text) + 1)
            text = text[:at] + insert + text[at + length % 6 :]
        return text

    edit = st.tuples(st.integers(0, 5000), st.integers(0, 20), st.one_of(st.just(""), st.sampled_from(WORDS)))
    return st.builds(mutate, st.sampled_from(SAMPLES), st.lists(edit, min_size=1, max_size=3))


def line_shuffles() -> st.SearchStrategy[str]:
    return st.builds(
        lambda text, order: "\n".join(sorted(text.split("\n"), key=lambda line: hash((line, order)))),
        st.sampled_from(SAMPLES),
        st.integers(0, 1000),
    )


def soup() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(WORDS), max_size=30).map(" ".join).map(lambda s: "pipeline x\n" + s)


ANY_TEXT = st.one_of(st.text(max_size=300), token_soup(), soup(), mutations(), line_shuffles())


def check_everything(text: str) -> None:
    try:
        parsed = parse_automation(text)
    except DslError:
        return
    assert all(isinstance(error, DslError) for error in check_automation(parsed, catalog()))
    formatted = format_automation(parsed)
    again = parse_automation(formatted)
    assert without_positions(again) == without_positions(parsed), formatted
    assert format_automation(again) == formatted


@FUZZ
@given(ANY_TEXT)
def test_any_text_gives_a_file_or_dsl_errors(text):
    check_everything(text)


@FUZZ
@given(mutations())
def test_mutated_files_give_a_file_or_dsl_errors(text):
    check_everything(text)
