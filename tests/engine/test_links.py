"""Link events: a link throw goes on at the link catch of its name; a link nothing catches is
refused at deploy naming the element (before, the path ended silently at the throw)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import InvalidProcess
from engine.models import HistoryEntry
from tests.support.world import TEST_CAUSE, make_deal

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'id="defs" targetNamespace="https://dealflow.dev/tests">\n')


def linked(throw_name: str = "ToBilling", catch_name: str = "ToBilling", *, inside_subprocess: bool = False,
           extra: str = "") -> str:
    flow = (
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:scriptTask id="first"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
        '<bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>'
        '<bpmn:intermediateThrowEvent id="go" name="Go to billing"><bpmn:incoming>f2</bpmn:incoming>'
        f'<bpmn:linkEventDefinition id="ld1" name="{throw_name}"/></bpmn:intermediateThrowEvent>'
        '<bpmn:intermediateCatchEvent id="arrive" name="Billing"><bpmn:outgoing>f3</bpmn:outgoing>'
        f'<bpmn:linkEventDefinition id="ld2" name="{catch_name}"/></bpmn:intermediateCatchEvent>'
        '<bpmn:scriptTask id="bill"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>'
        '<bpmn:script>billed = a + 1</bpmn:script></bpmn:scriptTask>'
        f'<bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>{extra}'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="go"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="arrive" targetRef="bill"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="bill" targetRef="end"/>'
    )
    if inside_subprocess:
        flow = ('<bpmn:startEvent id="outer_start"><bpmn:outgoing>o1</bpmn:outgoing></bpmn:startEvent>'
                f'<bpmn:subProcess id="sub"><bpmn:incoming>o1</bpmn:incoming><bpmn:outgoing>o2</bpmn:outgoing>{flow}'
                '</bpmn:subProcess><bpmn:endEvent id="outer_end"><bpmn:incoming>o2</bpmn:incoming></bpmn:endEvent>'
                '<bpmn:sequenceFlow id="o1" sourceRef="outer_start" targetRef="sub"/>'
                '<bpmn:sequenceFlow id="o2" sourceRef="sub" targetRef="outer_end"/>')
    return HEAD + f'<bpmn:process id="links" isExecutable="true">{flow}</bpmn:process></bpmn:definitions>'


def path_of(engine, instance_id: int) -> list[str]:
    with engine.unit() as rt:
        return [h.element_id for h in rt.session.scalars(select(HistoryEntry).where(
            HistoryEntry.instance_id == instance_id, HistoryEntry.outcome == "completed").order_by(HistoryEntry.id))]


@pytest.mark.parametrize("inside_subprocess", [False, True])
def test_a_link_throw_goes_on_at_its_catch(engine, inside_subprocess):
    engine.deploy(linked(inside_subprocess=inside_subprocess))
    instance = engine.start("links", make_deal(engine), cause=TEST_CAUSE)
    with engine.unit() as rt:
        assert rt.instance(instance.id).status == "completed"
        assert rt.inspect(rt.instance(instance.id))[1]["billed"] == 2
    path = path_of(engine, instance.id)
    assert path.index("go") < path.index("arrive") < path.index("bill") < path.index("end")


def test_a_link_throw_nothing_catches_is_refused_naming_it(engine):
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(linked(throw_name="ToBiling"))
    [problem] = refused.value.details
    assert problem["element"] == "go" and problem["line"] == 3
    assert "no link catch event named 'ToBiling'" in problem["message"]
    assert "'ToBilling'" in problem["message"]  # the catches there are listed


def test_a_link_catch_in_another_level_does_not_match(engine):
    """Links join elements of one process level: a throw in a subprocess never reaches a
    catch outside it."""
    xml = linked(inside_subprocess=True).replace(
        '<bpmn:endEvent id="outer_end">',
        '<bpmn:intermediateCatchEvent id="outside"><bpmn:linkEventDefinition id="ld3" name="Elsewhere"/>'
        '</bpmn:intermediateCatchEvent><bpmn:endEvent id="outer_end">').replace('name="ToBilling"/></bpmn:inter'
                                                                                 'mediateThrowEvent>',
                                                                                 'name="Elsewhere"/></bpmn:intermed'
                                                                                 'iateThrowEvent>', 1)
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(xml)
    assert [d["element"] for d in refused.value.details] == ["go"]


def test_two_catches_of_one_name_are_refused(engine):
    extra = ('<bpmn:intermediateCatchEvent id="arrive_again"><bpmn:linkEventDefinition id="ld9" name="ToBilling"/>'
             '</bpmn:intermediateCatchEvent>')
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(linked(extra=extra))
    assert [d["element"] for d in refused.value.details] == ["arrive_again"]
    assert "two link catch events are named 'ToBilling'" in refused.value.details[0]["message"]
