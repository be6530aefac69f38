"""Saved automation texts are parsed once per version, in a cache of bounded size."""

from __future__ import annotations

import pytest

from robots import sources
from robots.sources import load_automation
from tests.support.automation import save

TEXT = '''pipeline main "Sales"

stage in_processing:
  robot "welcome" immediately:
    notify(text: "Version {version}")
'''


@pytest.fixture
def small_cache(monkeypatch):
    monkeypatch.setattr(sources, "CACHE_SIZE", 2)
    monkeypatch.setattr(sources, "_cache", type(sources._cache)())
    return sources._cache


def test_the_parse_cache_keeps_only_the_most_recently_used_versions(engine, small_cache):
    for version in range(1, 5):
        save(engine, "main", TEXT.replace("{version}", str(version)))
    assert len(small_cache) == 2
    with engine.unit() as rt:
        latest = load_automation(rt.session, "main")
    assert latest is not None and "Version 4" in str(latest.stage("in_processing"))
    assert next(reversed(small_cache.values())) is latest


def test_a_version_dropped_from_the_cache_is_parsed_again_when_read(engine, small_cache):
    save(engine, "main", TEXT.replace("{version}", "1"))
    small_cache.clear()
    with engine.unit() as rt:
        parsed = load_automation(rt.session, "main")
    assert parsed is not None and list(small_cache.values()) == [parsed]
