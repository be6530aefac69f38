"""docs/action-api.md is what `python -m robots.action_reference` writes from the code."""

from __future__ import annotations

from pathlib import Path

from engine.action_api import surface_names
from robots.action_reference import COMMAND, main, render

PAGE = Path(__file__).resolve().parents[2] / "docs" / "action-api.md"


def test_the_committed_page_is_what_the_code_generates():
    assert PAGE.read_text(encoding="utf-8") == render(), f"docs/action-api.md is stale: run `{COMMAND}`"


def test_every_method_of_ctx_crm_is_on_the_page_with_its_signature():
    page = render()
    for name in surface_names():
        assert f"### `ctx.crm.{name}(" in page, name
    assert "### `ctx.crm.set_fields(deal: Deal, values: Mapping[str, Any], *, cause: Cause)" in page


def test_the_command_writes_the_page(tmp_path):
    assert main([str(tmp_path / "page.md")]) == 0
    assert (tmp_path / "page.md").read_text(encoding="utf-8") == render()
    assert main([]) == 2
