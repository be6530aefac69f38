"""Saving automation texts in tests the way the API does: checked against the real catalog."""

from __future__ import annotations

from typing import Any

from robots.catalog import build_catalog
from robots.sources import save_automation


def save(engine: Any, scope: str, text: str) -> None:
    with engine.unit() as rt:
        events = _event_fields()
        save_automation(rt.session, rt.clock, scope, text, build_catalog(rt.crm, engine.actions, events), "test")


def log_of(engine: Any, deal_id: int) -> list[tuple[str, str, str]]:
    from robots.log import for_deal

    with engine.unit() as rt:
        return [(e.key, e.outcome, e.reason) for e in for_deal(rt.session, deal_id)]


def _event_fields() -> dict[str, dict[str, str]]:
    try:
        from triggers.schemas import EVENT_FIELDS
    except ImportError:
        return {}
    return EVENT_FIELDS
