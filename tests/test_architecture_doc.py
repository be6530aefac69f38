"""docs/architecture.md tells the truth: its subscription table is the code's, and every file
and function it names exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from api.subscriptions import app_subscriptions
from engine.subscriptions import ENGINE_SUBSCRIPTIONS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
TABLE = re.compile(r"<!-- subscriptions:begin -->\n(.*?)<!-- subscriptions:end -->", re.S)
NAMED = re.compile(r"`([\w/]+\.(?:py|flow))(?:::([\w.]+))?`")


def test_the_subscription_table_on_the_page_is_the_one_the_app_is_built_with():
    shown = TABLE.search(DOC.read_text(encoding="utf-8"))
    assert shown is not None, "docs/architecture.md lost its subscriptions:begin/end markers"
    assert shown.group(1) == app_subscriptions().as_markdown(), "regenerate it: python -m api.subscriptions"


def test_every_file_and_function_the_page_names_exists():
    named = NAMED.findall(DOC.read_text(encoding="utf-8"))
    assert len(named) > 20
    for path, attribute in named:
        assert (ROOT / path).is_file(), f"{path} is named in docs/architecture.md but does not exist"
        if attribute:
            target = importlib.import_module(path.removesuffix(".py").replace("/", "."))
            for part in attribute.split("."):
                assert hasattr(target, part), f"{path}::{attribute} is named in docs/architecture.md but does not exist"
                target = getattr(target, part)


def test_the_engine_alone_reacts_like_the_app_without_robots_and_triggers():
    """Its rows are the app's, in the app's order, minus the robots' and the triggers'."""
    app = app_subscriptions()
    for event in {row.event for row in app.rows}:
        expected = [r.name for r in app.reacting_to(event) if not r.name.startswith(("robots.", "triggers."))]
        assert [r.name for r in ENGINE_SUBSCRIPTIONS.reacting_to(event)] == expected, event.__name__
