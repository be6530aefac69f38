"""Hostile BPMN uploads: entities, DTDs, XInclude, huge, wide and deep documents, and random
damage to a valid file are all answered with InvalidProcess — never another exception — and
no version is written for them. (test_deploy has the first XXE and billion-laughs cases.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from sqlalchemy import func, select

from engine.bpmn import MAX_BYTES, MAX_DEPTH, load_xml
from engine.errors import InvalidProcess
from engine.models import ProcessVersion

VALID = (Path(__file__).resolve().parents[2] / "bpmn" / "send_to_bank.bpmn").read_bytes()
HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'
DEFINITIONS = b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'


def versions(engine) -> int:
    with engine.unit() as rt:
        return rt.session.scalar(select(func.count()).select_from(ProcessVersion))


def refused(engine, xml: str | bytes, match: str | None = None) -> None:
    with pytest.raises(InvalidProcess, match=match):
        engine.deploy(xml)
    assert versions(engine) == 0


def with_doctype(doctype: bytes, body: bytes = b"") -> bytes:
    return HEAD + doctype + b"\n" + DEFINITIONS + body + b'<bpmn:process id="p"/></bpmn:definitions>'


@pytest.mark.parametrize("doctype", [
    b'<!DOCTYPE d SYSTEM "http://127.0.0.1:1/evil.dtd">',  # external DTD fetched over the network
    b'<!DOCTYPE d [<!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote;]>',  # parameter entity
    b'<!DOCTYPE d [<!ENTITY big "' + b"x" * 100_000 + b'">]>',  # quadratic blow-up seed
    b"<!DOCTYPE d []>",  # even an empty one: no DTD is needed for BPMN
], ids=["external-dtd", "parameter-entity", "quadratic", "empty-dtd"])
def test_any_dtd_is_refused(engine, doctype):
    refused(engine, with_doctype(doctype, b"&big;" * 3 if b"big" in doctype else b""), "DTD")


def test_xinclude_is_left_as_an_element_not_followed():
    include = b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'
    root = load_xml(VALID.replace(b"</bpmn:definitions>", include + b"</bpmn:definitions>"))
    assert root.find(".//{http://www.w3.org/2001/XInclude}include") is not None
    assert b"root:" not in etree.tostring(root)


def test_a_file_over_the_size_limit_is_refused_before_parsing(engine):
    refused(engine, VALID + b" " * (MAX_BYTES - len(VALID) + 1), "larger than")


def test_a_wide_file_under_the_size_limit_is_refused_with_a_reason(engine):
    many = b"<bpmn:extensionElements/>" * ((MAX_BYTES - 1024) // 25)
    refused(engine, HEAD + DEFINITIONS + b'<bpmn:process id="p">' + many + b"</bpmn:process></bpmn:definitions>")


def test_nesting_just_past_the_limit_is_refused(engine):
    depth = MAX_DEPTH  # the definitions element is one level already
    refused(engine, DEFINITIONS + b"<a>" * depth + b"</a>" * depth + b"</bpmn:definitions>", "nested deeper")


@pytest.mark.parametrize("xml", [
    "<a>\ud800</a>",  # a lone surrogate, as JSON's "\ud800" delivers it
    b"\xff\xfe<\x00a\x00/\x00>\x00",  # UTF-16 without a declaration
    HEAD.replace(b"UTF-8", b"UTF-7") + b"<a/>",
    b"<a>&#0;</a>",
    b"\x00" * 1000,
])
def test_odd_encodings_and_characters_are_refused(engine, xml):
    refused(engine, xml)


SNIPPETS = [b"<", b">", b"&", b"&amp;", b"&xxe;", b"<!DOCTYPE d []>", b'<!ENTITY e "x">', b"<![CDATA[", b"]]>",
            b"<?pi x?>", b"<!--", b"-->", b'"', b"'", b"\x00", b"\xff", b"</bpmn:process>", b"<bpmn:process>",
            b'id="dup"', b"xmlns:bpmn=\"urn:other\"", b"{", b"}", b"${x}", b"deal.__class__", b"\n" * 3]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """The valid file with a few random cuts, duplicated slices, flipped bytes and hostile snippets."""
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["cut", "copy", "flip", "insert"]))
        length = draw(st.integers(1, 200))
        if kind == "cut":
            del data[at:at + length]
        elif kind == "copy":
            data[at:at] = data[at:at + length]
        elif kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        else:
            data[at:at] = draw(st.sampled_from(SNIPPETS))
    return bytes(data)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(xml=damaged())
def test_random_damage_to_a_valid_file_is_invalid_process_or_a_version_never_anything_else(engine, xml):
    before = versions(engine)
    try:
        engine.deploy(xml)
    except InvalidProcess:
        assert versions(engine) == before
        return
    assert versions(engine) in (before, before + 1)
