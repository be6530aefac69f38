"""The registry: one vocabulary for the dsl and BPMN, positional order, signatures, custom actions."""

from __future__ import annotations

import sys
import textwrap

import pytest
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy import select

from crm.models import Notification
from dsl.automation import ActionSignature, ParamInfo
from engine.actions import ActionContext, ActionInputError
from robots.actions import ActionLoadError, ActionRegistry, load_custom_actions, registry
from robots.actions.fields import DSL_TYPES, Text, UserRef
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, demo_engine, make_deal

BUILT_INS = {
    "add_comment": ("text",),
    "archive_task": ("task",),
    "assign_responsible": ("department",),
    "change_pipeline": ("pipeline", "stage"),
    "complete_stage_tasks": ("group",),
    "copy_deal": ("stage", "title"),
    "create_deal": ("pipeline", "stage", "title"),
    "create_lead": ("title",),
    "create_task": ("title", "to", "due"),
    "flag_duplicates": ("window", "channel"),
    "move_to": ("stage",),
    "notify": ("to", "text"),
    "notify_supervisor": ("text", "of"),
    "send_email": ("to", "subject", "body"),
    "send_sms": ("to", "text"),
    "set_field": ("field", "value"),
    "start_process": ("process", "params"),
    "webhook": ("url", "payload"),
}


def test_the_built_in_vocabulary_with_its_positional_order():
    signatures = registry.catalog_signatures()
    assert {name: signatures[name].positional for name in BUILT_INS if name in signatures} == BUILT_INS


def test_create_task_speaks_the_dsls_words():
    signature = registry.signature("create_task")
    assert list(signature.params) == ["title", "to", "due", "description", "group", "column", "data"]
    assert signature.params["title"] == ParamInfo("text", True)
    assert signature.params["to"] == ParamInfo("user", False)
    assert signature.params["due"].type == "datetime"
    assert signature.params["data"].type == "dict"


def test_every_parameter_has_a_dsl_type():
    for signature in registry.catalog_signatures().values():
        for name, param in signature.params.items():
            assert param.type in DSL_TYPES, (signature.name, name, param.type)


def test_set_field_accepts_any_field_name():
    assert registry.signature("set_field").accepts_extra
    assert not registry.signature("notify").accepts_extra
    assert registry.bind_args("set_field", [], {"bank_status": "escalated"}) == {"bank_status": "escalated"}


def test_positional_arguments_are_named_by_the_actions_order():
    assert registry.bind_args("notify", ["anna", "Credit is stuck"], {}) == {"to": "anna", "text": "Credit is stuck"}
    assert registry.bind_args("create_task", ["Call"], {"due": "1d"}) == {"title": "Call", "due": "1d"}


@pytest.mark.parametrize(("positional", "named", "message"), [
    (["anna", "text", "extra"], {}, "at most 2 positional"),
    (["anna"], {"to": "boris", "text": "x"}, "to: given both by position and by name"),
    ([], {"txt": "typo"}, "txt: not a parameter of this action"),
])
def test_binding_refuses_what_the_action_cannot_take(positional, named, message):
    with pytest.raises(ActionInputError, match=message):
        registry.bind_args("notify", positional, named)


def test_an_unknown_action_is_an_input_error():
    with pytest.raises(ActionInputError, match="unknown action 'teleport'"):
        registry.bind_args("teleport", [], {})
    assert not registry.knows("teleport")


def test_the_catalog_lists_parameters_positional_order_and_categories():
    entry = next(e for e in registry.catalog() if e["name"] == "notify")
    assert entry["positional"] == ["to", "text"]
    assert entry["category"] == "notifications"
    assert entry["parameters"]["text"] == {"type": "text", "required": True, "description": ""}


def test_positional_names_must_be_parameters():
    local = ActionRegistry()

    class Params(Schema):
        text = Text(required=True)

    with pytest.raises(ValueError, match="positional"):
        local.register("shout", lambda ctx, text: text, Params, positional=("txt",))


def test_plain_marshmallow_fields_get_dsl_types():
    local = ActionRegistry()

    class Params(Schema):
        class Meta:
            unknown = INCLUDE

        count = fields.Integer()
        ratio = fields.Decimal()
        flag = fields.Boolean()
        day = fields.Date()
        at = fields.AwareDateTime()
        span = fields.TimeDelta()
        items = fields.List(fields.String())
        extra = fields.Dict()
        blob = fields.Raw()
        who = UserRef()

    local.register("typed", lambda ctx, **kw: kw, Params)
    assert local.signature("typed") == ActionSignature("typed", {
        "count": ParamInfo("number"), "ratio": ParamInfo("number"), "flag": ParamInfo("bool"),
        "day": ParamInfo("date"), "at": ParamInfo("datetime"), "span": ParamInfo("duration"),
        "items": ParamInfo("list"), "extra": ParamInfo("dict"), "blob": ParamInfo("any"), "who": ParamInfo("user"),
    }, (), True)


# ---------------------------------------------------------------- custom actions

RESERVE_STOCK = '''
from marshmallow import Schema, fields

from robots.actions import action
from robots.actions.fields import Text


class ReserveStockSchema(Schema):
    product = Text(required=True)
    qty = fields.Integer(load_default=1)


@action("{name}", ReserveStockSchema, category="warehouse", positional=("product", "qty"),
        description="Reserve goods in the warehouse for the deal")
def reserve_stock(ctx, product, qty):
    ctx.crm.add_comment(ctx.deal, f"Reserved {{qty}} x {{product}}", cause=ctx.cause)
    return {{"reserved": qty}}
'''


@pytest.fixture
def custom_module(tmp_path, monkeypatch):
    """Writes a module with a custom action on sys.path; forgets it (and its action) afterwards."""
    created: list[tuple[str, str]] = []

    def write(module: str, action_name: str, source: str | None = None) -> str:
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source or RESERVE_STOCK.format(name=action_name)))
        created.append((module, action_name))
        return module

    monkeypatch.syspath_prepend(str(tmp_path))
    original = dict(registry._actions)
    yield write
    registry._actions.clear()
    registry._actions.update(original)
    for module, _ in created:
        sys.modules.pop(module, None)


def test_a_custom_module_adds_its_actions_and_they_appear_in_the_catalog(custom_module):
    module = custom_module("acme_stock_actions", "reserve_stock")
    assert load_custom_actions(registry, [module]) == ["reserve_stock"]
    entry = next(e for e in registry.catalog() if e["name"] == "reserve_stock")
    assert (entry["category"], entry["positional"]) == ("warehouse", ["product", "qty"])
    assert registry.signature("reserve_stock").params["qty"] == ParamInfo("number", False)


def test_a_separate_registry_gets_the_custom_actions_copied_in(custom_module):
    module = custom_module("acme_stock_copy", "reserve_copy")
    sandbox = ActionRegistry()
    assert load_custom_actions(sandbox, [module]) == ["reserve_copy"]
    assert sandbox.knows("reserve_copy")


def test_a_module_that_cannot_be_imported_is_named_in_the_error(custom_module):
    broken = custom_module("acme_broken_actions", "x", "import nowhere_to_be_found\n")
    with pytest.raises(ActionLoadError, match=r"acme_broken_actions.*nowhere_to_be_found"):
        load_custom_actions(registry, ["robots.actions.crm_actions", broken])
    with pytest.raises(ActionLoadError, match=r"'acme\.missing'"):
        load_custom_actions(registry, ["acme.missing"])


def test_a_custom_action_runs_from_a_bpmn_service_task_and_from_a_direct_call(custom_module, database, clock):
    load_custom_actions(registry, [custom_module("acme_stock_run", "reserve_run")])
    engine = demo_engine(database, clock)
    engine.deploy(Bpmn("reserve").start().service("reserve_goods", "reserve_run", product='"Bosch WAN28"', qty="2")
                  .end().chain("start", "reserve_goods", "end").xml())
    deal_id = make_deal(engine)
    instance = engine.start("reserve", deal_id)
    with engine.unit() as rt:
        assert rt.instance(instance.id).status == "completed"
        params = registry.bind_args("reserve_run", ["Dyson V15"], {})
        result = registry.call("reserve_run", ActionContext(rt.crm, rt.crm.deal(deal_id), TEST_CAUSE), params)
        assert result == {"reserved": 1}
        comments = [e.text for e in rt.crm.timeline(rt.crm.deal(deal_id)) if e.kind == "comment"]
    assert comments == ["Reserved 2 x Bosch WAN28", "Reserved 1 x Dyson V15"]


def test_crm_refusals_become_input_errors_and_write_nothing(database, clock):
    engine = demo_engine(database, clock)
    deal_id = make_deal(engine)
    with engine.unit() as rt, pytest.raises(ActionInputError, match="User 'nobody' does not exist"):
        registry.call("notify", ActionContext(rt.crm, rt.crm.deal(deal_id), TEST_CAUSE),
                      {"to": "nobody", "text": "hi"})
    with engine.unit() as rt:
        assert rt.session.scalars(select(Notification).where(Notification.deal_id == deal_id)).all() == []
