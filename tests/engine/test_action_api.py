"""The author API: `ctx.crm` offers a fixed, documented set of methods; a wrong call is a bug
in the action, reported once with how to call it, never retried as if it might pass."""

from __future__ import annotations

import pytest
from marshmallow import Schema
from sqlalchemy import select

from engine.action_api import ActionApiError, ActionCallError, ActionCrm, UnknownActionApi, surface_names
from engine.actions import ActionContext
from engine.failures import classify
from engine.models import Incident
from robots.actions import registry
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, demo_engine, make_deal


def guessed_set_fields(ctx: ActionContext) -> dict:
    ctx.crm.set_fields(ctx.deal, {"bank": "Sberbank"}, ctx.cause)  # cause is keyword-only
    return {}


def reaches_for_the_session(ctx: ActionContext) -> dict:
    ctx.crm.session.commit()
    return {}


@pytest.fixture
def engine(database, clock):
    engine = demo_engine(database, clock)
    actions = registry.copy()
    actions.register("guessed_set_fields", guessed_set_fields, Schema)
    actions.register("reaches_for_the_session", reaches_for_the_session, Schema)
    engine.actions = actions
    return engine


def test_a_call_with_arguments_the_signature_does_not_take_names_the_method_and_its_signature(engine):
    deal_id = make_deal(engine)
    with engine.unit() as rt:
        ctx = ActionContext(rt.crm, rt.crm.deal(deal_id), TEST_CAUSE)
        with pytest.raises(ActionCallError) as wrong:
            ctx.crm.set_fields(ctx.deal, {"bank": "Sberbank"}, ctx.cause)
        assert str(wrong.value) == (
            "ctx.crm.set_fields(deal: Deal, values: Mapping[str, Any], *, cause: Cause) "
            "-> dict[str, tuple[Any, Any]]: too many positional arguments"
        )
        assert classify(wrong.value) == "deterministic"
        assert isinstance(wrong.value, TypeError)  # what Python would have raised, with a better message
        assert ctx.deal.fields.get("bank") is None


def test_a_method_outside_the_surface_is_refused_listing_what_there_is(engine):
    deal_id = make_deal(engine)
    with engine.unit() as rt:
        ctx = ActionContext(rt.crm, rt.crm.deal(deal_id), TEST_CAUSE)
        offered = r"ctx.crm has no 'session'; the action API offers: now, deal, field_value"
        with pytest.raises(UnknownActionApi, match=offered) as nope:
            ctx.crm.session  # noqa: B018
        assert classify(nope.value) == "deterministic"
        assert not hasattr(ctx.crm, "for_update")  # still an AttributeError to getattr and hasattr


def test_the_surface_is_what_the_docs_list_and_reaches_the_real_service(engine):
    assert surface_names()[:3] == ["now", "deal", "field_value"]
    assert {"set_fields", "move_deal", "create_task", "add_comment", "add_note", "notify"} <= set(surface_names())
    deal_id = make_deal(engine)
    with engine.unit() as rt:
        ctx = ActionContext(rt.crm, rt.crm.deal(deal_id), TEST_CAUSE)
        assert isinstance(ctx.crm, ActionCrm)
        assert ctx.service is rt.crm
        assert ctx.crm.set_fields(ctx.deal, {"bank": "Sberbank"}, cause=ctx.cause) == {"bank": (None, "Sberbank")}
        assert ctx.crm.field_value(ctx.deal, "bank") == "Sberbank"


@pytest.mark.parametrize(("action", "message"), [
    ("guessed_set_fields", "s: ActionCallError: ctx.crm.set_fields("),
    ("reaches_for_the_session", "s: UnknownActionApi: ctx.crm has no 'session'"),
])
def test_a_wrong_call_in_a_service_task_is_an_incident_at_once_not_a_retry(engine, action, message):
    engine.deploy(Bpmn("guess").start().service("s", action).end().chain("start", "s", "end").xml())
    instance = engine.start("guess", make_deal(engine))
    with engine.unit() as rt:
        assert rt.instance(instance.id).status == "incident"
        incident = rt.session.scalars(select(Incident)).one()
    assert incident.attempts == 1
    assert incident.message.startswith(message), incident.message


def test_api_errors_are_one_family():
    assert issubclass(ActionCallError, ActionApiError) and issubclass(UnknownActionApi, ActionApiError)
    assert issubclass(UnknownActionApi, AttributeError)
