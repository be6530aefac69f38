"""Deploy errors a designer can act on: each names the element by its kind, name and id with its
line and column in the file, says what is wrong in BPMN terms, and never shows a Python repr
(`<Element ... at 0x7f...>`, `NotImplementedError('...', b'...')`) or a sentence cut short."""

from __future__ import annotations

import re

import pytest

from engine.bpmn import _plain, parse_process
from engine.errors import InvalidProcess

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="https://dealflow.dev/t">\n'
        '  <bpmn:process id="p" isExecutable="true">\n')
TAIL = "  </bpmn:process>\n</bpmn:definitions>\n"
START = '    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'

BOUNDARY_WITHOUT_DEFINITION = HEAD + START + (
    '    <bpmn:userTask id="call" name="Call"><bpmn:incoming>f1</bpmn:incoming>'
    '<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>\n'
    '    <bpmn:boundaryEvent id="late" name="Too late" attachedToRef="call"/>\n'
    '    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>\n'
    '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>\n'
    '    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end"/>\n') + TAIL

TWO_WAYS_OUT_OF_A_TASK = HEAD + START + (
    '    <bpmn:scriptTask id="calc" name="Work it out"><bpmn:incoming>f1</bpmn:incoming>'
    '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing><bpmn:script>x = 1</bpmn:script>'
    '</bpmn:scriptTask>\n'
    '    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>\n'
    '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calc"/>\n'
    '    <bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="end"/>\n'
    '    <bpmn:sequenceFlow id="f3" sourceRef="calc" targetRef="end"/>\n') + TAIL

FLOW_TO_NOWHERE = HEAD + START + '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="nowhere"/>\n' + TAIL

NOT_IN_THE_SCHEMA = HEAD + START + (
    '    <bpmn:tsk id="oops" name="Typo"/>\n'
    '    <bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>\n'
    '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>\n') + TAIL


def refused(xml: str) -> InvalidProcess:
    with pytest.raises(InvalidProcess) as caught:
        parse_process(xml)
    return caught.value


def assert_plain(error: InvalidProcess) -> None:
    for text in [str(error), *(p["message"] for p in error.details)]:
        assert not re.search(r"0x[0-9a-f]{6,}|<Element|\bb'|Error\(|%r|of type\.", text), text


def test_a_boundary_event_without_a_definition_is_named_with_its_place_and_the_fix():
    error = refused(BOUNDARY_WITHOUT_DEFINITION)
    assert str(error).startswith('bpmn:boundaryEvent "Too late" (id late), line 6, column 5: ')
    assert "needs an event definition" in str(error)
    assert error.details[0] | {"message": ""} == {"element": "late", "message": "", "line": 6, "column": 5}
    assert_plain(error)


def test_a_task_with_two_outgoing_flows_is_told_to_branch_with_a_gateway():
    error = refused(TWO_WAYS_OUT_OF_A_TASK)
    assert str(error).startswith('bpmn:scriptTask "Work it out" (id calc), line 5, column 5: ')
    assert "a bpmn:scriptTask may have only one outgoing sequence flow" in str(error)
    assert_plain(error)


def test_a_flow_to_a_missing_element_says_which():
    error = refused(FLOW_TO_NOWHERE)
    assert "(id start), line 4, column 5" in str(error) and "'nowhere'" in str(error)
    assert_plain(error)


def test_a_schema_error_carries_line_column_and_element():
    error = refused(NOT_IN_THE_SCHEMA)
    assert str(error).startswith('not valid BPMN 2.0: bpmn:tsk "Typo" (id oops), line 5, column 5: ')
    [problem] = error.details
    assert (problem["element"], problem["line"], problem["column"]) == ("oops", 5, 5)
    assert "not expected" in problem["message"] and "{http" not in problem["message"]


@pytest.mark.parametrize(("spiff_text", "plain"), [
    ("NotImplementedError('Unsupported Catch Event: %r', b'<bpmn:boundaryEvent xmlns:bpmn=\"x\"/>')",
     "Unsupported Catch Event"),
    ("Cannot connect <Element {http://www.omg.org/spec/BPMN/20100524/MODEL}task at 0x7f3a2b1c0d40> here",
     "Cannot connect here"),
    ("KeyError('flow_7')", "flow_7"),
])
def test_python_reprs_are_taken_out_of_parser_messages(spiff_text, plain):
    assert _plain(spiff_text) == plain


def test_a_bad_text_is_placed_at_its_line_and_column(engine):
    xml = HEAD + START + (
        '    <bpmn:scriptTask id="calc" name="Work it out"><bpmn:incoming>f1</bpmn:incoming>'
        '<bpmn:outgoing>f2</bpmn:outgoing>\n'
        '      <bpmn:script>x = = 1</bpmn:script></bpmn:scriptTask>\n'
        '    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>\n'
        '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calc"/>\n'
        '    <bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="end"/>\n') + TAIL
    with pytest.raises(InvalidProcess) as caught:
        engine.deploy(xml)
    [problem] = caught.value.details
    assert (problem["element"], problem["line"], problem["column"]) == ("calc", 6, 7)
