"""Compensation is refused at deploy naming each element: Spiff would pass a compensation throw
as a plain event (the handlers never ran) and said "needs an event definition" of a compensation
boundary event."""

from __future__ import annotations

import pytest

from engine.errors import InvalidProcess

XML = ('<?xml version="1.0" encoding="UTF-8"?>\n'
       '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="x">\n'
       '<bpmn:process id="comp" isExecutable="true">'
       '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
       '<bpmn:scriptTask id="book" name="Book"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
       '<bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>'
       '<bpmn:boundaryEvent id="undo" attachedToRef="book"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>'
       '<bpmn:scriptTask id="cancel_booking" isForCompensation="true"><bpmn:script>a = 0</bpmn:script>'
       '</bpmn:scriptTask>'
       '<bpmn:intermediateThrowEvent id="compensate" name="Undo"><bpmn:incoming>f2</bpmn:incoming>'
       '<bpmn:outgoing>f3</bpmn:outgoing><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>'
       '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
       '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="book"/>'
       '<bpmn:sequenceFlow id="f2" sourceRef="book" targetRef="compensate"/>'
       '<bpmn:sequenceFlow id="f3" sourceRef="compensate" targetRef="end"/>'
       '<bpmn:association id="a1" associationDirection="One" sourceRef="undo" targetRef="cancel_booking"/>'
       '</bpmn:process></bpmn:definitions>')


def test_every_compensation_element_is_refused_by_name(engine):
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(XML)
    details = {d["element"]: d["message"] for d in refused.value.details}
    assert set(details) == {"undo", "compensate", "cancel_booking"}
    assert details["undo"].startswith("a compensation boundary event is not supported")
    assert details["compensate"].startswith("a compensation throw event is not supported")
    assert details["cancel_booking"].startswith("a compensation handler (isForCompensation) is not supported")
    assert all(d.get("line") == 3 and d.get("column") for d in refused.value.details)
    assert str(refused.value).startswith("compensation is not supported: bpmn:boundaryEvent (id undo), line 3")
