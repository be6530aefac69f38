"""Each engine is built from its settings with its own copy of the action library."""

from __future__ import annotations

import sys
import textwrap
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from api.settings import Settings
from api.wiring import build_engine
from crm.demo import load_demo
from engine.actions import ActionContext, ActionInputError
from engine.models import Job
from engine.retry import RetryPolicy
from robots.actions import registry
from tests.support.automation import save
from tests.support.world import TEST_CAUSE, make_deal

HOOKED = '''
from marshmallow import Schema


def hello(ctx):
    return {"hello": "world"}


def register_actions(registry):
    registry.register("hello_wiring", hello, Schema, category="custom")
'''


@pytest.fixture
def hooked_module(tmp_path, monkeypatch):
    (tmp_path / "acme_wiring_actions.py").write_text(textwrap.dedent(HOOKED))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "acme_wiring_actions"
    sys.modules.pop("acme_wiring_actions", None)


def test_an_engine_loads_its_configured_actions_into_its_own_library(database, clock, hooked_module):
    before = registry.names()
    custom = build_engine(database, clock, settings=Settings(action_modules=(hooked_module,)))
    plain = build_engine(database.reopen(), clock, settings=Settings())
    assert custom.actions.knows("hello_wiring")
    assert not plain.actions.knows("hello_wiring")
    assert registry.names() == before
    assert custom.actions is not registry and plain.actions is not custom.actions


def test_an_engine_takes_its_retries_and_calendar_from_the_settings(database, clock):
    retry = RetryPolicy(attempts=7, base_delay=timedelta(seconds=5))
    engine = build_engine(database, clock, settings=Settings(job_retry=retry, timezone="Europe/Moscow"))
    assert (engine.retry, engine.timezone) == (retry, ZoneInfo("Europe/Moscow"))


def test_the_webhook_allow_list_is_the_engines_own(database, clock):
    allowing = build_engine(database, clock, settings=Settings(webhook_allow="10.0.0.0/8"))
    strict = build_engine(database.reopen(), clock, settings=Settings())
    params = {"url": "http://10.1.2.3/orders", "payload": {"order": "SO-1"}}
    with allowing.unit() as rt:
        assert allowing.actions.call("webhook", ActionContext(rt.crm, None, TEST_CAUSE), params)["queued"]
    with strict.unit() as rt, pytest.raises(ActionInputError, match="private"):
        strict.actions.call("webhook", ActionContext(rt.crm, None, TEST_CAUSE), params)


def test_robots_keep_the_company_calendar_of_the_engines_settings(database, clock):
    engine = build_engine(database, clock, settings=Settings(timezone="Europe/Moscow"))
    with engine.unit() as rt:
        load_demo(rt.crm)
    save(engine, "main", '''pipeline main "Sales"

stage in_processing:
  robot "morning" after 1d at 10:00:
    notify(text: "morning")
''')
    deal_id = make_deal(engine)
    with engine.unit() as rt:
        rt.crm.move_deal(rt.crm.deal(deal_id), "in_processing", cause=TEST_CAUSE)  # Monday 09:00 UTC
    with engine.unit() as rt:
        [job] = rt.session.scalars(select(Job).where(Job.deal_id == deal_id, Job.element_id == "morning"))
    # A day later is Tuesday 12:00 in Moscow, past 10:00 there: Wednesday 10:00 Moscow time.
    assert job.due_at == datetime(2026, 1, 7, 7, 0, tzinfo=UTC)
