"""Other grammars (the robot files to come) reuse the expression grammar and its builder."""

from __future__ import annotations

from pathlib import Path

from lark import Lark

import dsl
from dsl.build import build_expression
from dsl.expression import Expression
from tests.dsl.support import NOW, make_env

ROBOT_LIKE_GRAMMAR = r"""
start: "when" expr "then" NAME
%import .expression (expr, NAME, WS)
%ignore WS
"""


def test_a_grammar_that_imports_expr_builds_the_same_nodes():
    parser = Lark(
        ROBOT_LIKE_GRAMMAR,
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=False,
        import_paths=[str(Path(dsl.__file__).parent)],
        source_path=str(Path(dsl.__file__).parent / "robot.lark"),
    )
    tree = parser.parse("when deal.amount > 1000 and deal.stage == 'new' then notify")
    node = build_expression(tree.children[0])
    expected = dsl.compile_expression("deal.amount > 1000 and deal.stage == 'new'").node
    assert node == expected
    assert Expression("...", node).evaluate(make_env(), NOW) is True
    assert node.column == 6
