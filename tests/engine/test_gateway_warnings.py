"""Deploy warns about an exclusive or inclusive gateway with no default flow whose every flow
has a condition (issue 13): when none holds the instance stops with an incident, which the
designer is told at deploy, by the gateway's name, id and line. The diagram still deploys (the
conditions may cover every case); a default flow, a flow without a condition or a literal
`true` condition leaves a path, so none of them is warned about."""

from __future__ import annotations

from sqlalchemy import select

from engine.gateways import gateway_warnings
from engine.models import Incident
from engine.virtual_time import advance_to_next_job
from tests.support.bpmn import Bpmn
from tests.support.world import make_deal


def routed(default: str | None = None, small: str | None = "deal.amount < 1000",
           large: str | None = "deal.amount > 5000") -> str:
    xml = (Bpmn("routing").start().xor("size", default=default)
           .service("small", "move_to", stage='"in_processing"').end("end_small").end("end_large")
           .flow("start", "size").flow("size", "small", small, flow_id="to_small")
           .flow("size", "end_large", large, flow_id="to_large").chain("small", "end_small").xml())
    return xml.replace('id="size" name="size"', 'id="size" name="Order size"')


def test_a_gateway_whose_conditions_can_all_be_false_is_warned_about_and_still_deploys(engine, clock):
    [warning] = gateway_warnings(routed())
    assert (warning["element"], warning["process"]) == ("size", "routing")
    assert warning["warning"].startswith('bpmn:exclusiveGateway "Order size" (id size), line ')
    assert "no default flow" in warning["warning"] and "2 conditions" in warning["warning"]

    engine.deploy(routed())  # a warning, not a refusal
    deal_id = make_deal(engine, amount=3000)
    instance = engine.start("routing", deal_id)
    for _ in range(10):  # the step's retries, on the virtual clock
        if advance_to_next_job(engine, clock) is None:
            break
    with engine.unit() as rt:  # what the warning said: neither condition holds for 3000
        assert rt.instance(instance.id).status == "incident"
        assert rt.session.scalars(select(Incident)).one().element_id == "size"


def test_a_default_flow_an_unconditional_flow_or_a_true_condition_is_not_warned_about(engine):
    assert gateway_warnings(routed(default="to_large")) == []
    assert gateway_warnings(routed(large=None)) == []
    assert gateway_warnings(routed(large="True")) == []

    engine.deploy(routed(default="to_large"))
    deal_id = make_deal(engine, amount=3000)
    instance = engine.start("routing", deal_id)
    with engine.unit() as rt:
        assert rt.instance(instance.id).status == "completed"


def test_inclusive_gateways_too_and_only_in_executable_processes():
    inclusive = routed().replace("bpmn:exclusiveGateway", "bpmn:inclusiveGateway")
    assert [w["element"] for w in gateway_warnings(inclusive)] == ["size"]
    drawn_only = routed().replace('isExecutable="true"', 'isExecutable="false"')
    assert gateway_warnings(drawn_only) == []


def test_every_corpus_file_stopping_at_a_gateway_with_no_path_was_warned_about_at_deploy():
    from tests.support.interop import FILES, load_manifest

    stopped = [(e["file"], str(e["outcome"]).split(":")[1].strip()) for e in load_manifest()
               if "No conditions satisfied" in str(e.get("outcome", ""))]
    assert len(stopped) >= 2
    for file, element in stopped:
        assert element in [w["element"] for w in gateway_warnings((FILES / str(file)).read_bytes())], file
