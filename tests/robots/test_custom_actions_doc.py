"""docs/custom-actions.md's example action and its tests, run as the page prints them, with
the authors' test helper (`robots.testing`): the page cannot show code that does not work."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from robots.actions import registry
from robots.testing import action_sandbox  # noqa: F401  (the fixture, as `pytest_plugins` would give it)

PAGE = Path(__file__).resolve().parents[2] / "docs" / "custom-actions.md"


def code_block(first_line: str) -> str:
    """The page's ```python block that starts with `first_line`."""
    for block in re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.DOTALL):
        if block.startswith(first_line + "\n"):
            return block
    raise AssertionError(f"docs/custom-actions.md has no python block starting {first_line!r}")


def doc_tests() -> dict[str, Callable[..., Any]]:
    namespace: dict[str, Any] = {}
    exec(compile(code_block("# tests/test_warehouse.py"), f"{PAGE}:tests/test_warehouse.py", "exec"), namespace)
    return {name: value for name, value in namespace.items() if name.startswith("test_") and callable(value)}


@pytest.fixture
def acme(tmp_path, monkeypatch) -> Iterator[None]:
    """The page's acme/warehouse.py on sys.path; forgotten afterwards, with its action."""
    package = tmp_path / "src" / "acme"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "warehouse.py").write_text(code_block("# acme/warehouse.py"))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    original = dict(registry._actions)
    yield
    registry._actions.clear()
    registry._actions.update(original)
    for name in [name for name in sys.modules if name == "acme" or name.startswith("acme.")]:
        del sys.modules[name]


def test_the_page_shows_an_action_and_two_tests_of_it():
    assert sorted(doc_tests()) == [
        "test_reserve_stock_queues_one_reservation_and_one_picking_task",
        "test_reserve_stock_refuses_a_quantity_below_one",
    ]


@pytest.mark.parametrize("name", sorted(doc_tests()))
def test_the_pages_own_tests_pass_against_its_action(name, acme, action_sandbox):  # noqa: F811
    doc_tests()[name](action_sandbox)


def test_a_sandbox_loads_modules_into_a_registry_of_its_own_and_reads_back_what_was_made(acme, tmp_path):
    from robots.testing import ActionSandbox

    sandbox = ActionSandbox(tmp_path / "other", ["acme.warehouse"])
    try:
        assert sandbox.registry.knows("reserve_stock") and sandbox.registry is not registry
        run = sandbox.run("reserve_stock", product="Dyson V15")
        assert run.result["queued"] is True and run.stage == "main.new"
        assert run.tasks == [{"title": "Pick 1 x Dyson V15", "assignee": None, "group": "warehouse",
                              "column": "new", "deadline": None}]
        with sandbox.reading() as crm:
            [task] = [entry for entry in crm.timeline(crm.deal(sandbox.deal_id)) if entry.kind == "webhook_queued"]
            assert task.text == "Stock reservation queued: 1 x Dyson V15"
    finally:
        sandbox.close()
