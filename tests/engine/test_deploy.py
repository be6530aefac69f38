"""Deploying BPMN: versions are immutable, hostile or broken files are refused with reasons."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.bpmn import parse_process
from engine.errors import InvalidProcess
from engine.models import ProcessVersion
from tests.support.bpmn import Bpmn


def simple(process_id: str = "simple", script: str = "x = 1") -> str:
    return Bpmn(process_id).start().script("calc", script).end().chain("start", "calc", "end").xml()


def versions(engine) -> int:
    with engine.unit() as rt:
        return rt.session.scalar(select(func.count()).select_from(ProcessVersion))


def test_each_changed_deploy_is_a_new_version_and_the_same_text_is_not(engine):
    first = engine.deploy(simple())
    again = engine.deploy(simple())
    changed = engine.deploy(simple(script="x = 2"))
    assert (first.version, again.version, changed.version) == (1, 1, 2)
    assert again.id == first.id
    assert versions(engine) == 2


def test_declared_parameters_fields_and_messages_are_recorded(engine):
    xml = (Bpmn("p").parameter("ready_date", "datetime").required_field("bank", "Bank")
           .start().message_catch("wait", "bank.decision").end().chain("start", "wait", "end").xml())
    version = engine.deploy(xml)
    assert version.parameters == [{"name": "ready_date", "type": "datetime", "label": None, "required": True}]
    assert version.required_fields == [{"name": "bank", "label": "Bank"}]
    assert version.messages == ["bank.decision"]


XXE = """<?xml version="1.0"?>
<!DOCTYPE bpmn [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
<bpmn:process id="p" name="&xxe;"/></bpmn:definitions>"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
<bpmn:process id="p" name="&lol3;"/></bpmn:definitions>"""


@pytest.mark.parametrize("xml", [XXE, LAUGHS], ids=["external-entity", "billion-laughs"])
def test_files_with_a_dtd_are_refused_before_parsing(engine, xml):
    with pytest.raises(InvalidProcess, match="DTD"):
        engine.deploy(xml)
    assert versions(engine) == 0


def test_deeply_nested_documents_are_refused(engine):
    xml = '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">' + "<a>" * 200 + \
        "</a>" * 200 + "</bpmn:definitions>"
    with pytest.raises(InvalidProcess, match="nested deeper"):
        engine.deploy(xml)


@pytest.mark.parametrize("xml", ["", "not xml", "<bpmn:definitions", simple().replace("</bpmn:process>", "")])
def test_malformed_files_get_a_clear_error(engine, xml):
    with pytest.raises(InvalidProcess):
        engine.deploy(xml)
    assert versions(engine) == 0


def test_a_process_without_an_id_is_refused_with_a_reason(engine):
    """The id is the process key every start names; without one there is nothing to deploy."""
    xml = simple().replace('<bpmn:process id="simple"', "<bpmn:process", 1)
    assert 'id="simple"' not in xml
    with pytest.raises(InvalidProcess, match="needs an id"):
        engine.deploy(xml)
    assert versions(engine) == 0


def test_every_bad_expression_and_unknown_action_is_reported_with_its_element(engine):
    xml = (Bpmn("p").start().script("calc", "x = (1 +").service("act", "launch_rockets", to='"moon"')
           .xor("gw").end("a").end("b")
           .chain("start", "calc", "act", "gw").flow("gw", "a", "deal.amount >").flow("gw", "b", "true").xml())
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(xml)
    elements = sorted(p["element"] for p in refused.value.details)
    assert elements == ["act", "calc", "flow_gw_a"]
    assert any("unknown action 'launch_rockets'" in p["message"] for p in refused.value.details)
    assert versions(engine) == 0


def test_python_in_a_script_task_is_not_accepted(engine):
    xml = simple(script="import os\nos.system('echo pwned')")
    with pytest.raises(InvalidProcess):
        engine.deploy(xml)


def test_an_element_named_like_the_action_it_calls_is_refused_with_a_reason(engine):
    xml = Bpmn("p").start().service("notify", "notify", text='"hi"').end().chain("start", "notify", "end").xml()
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(xml)
    assert refused.value.details == [
        {"element": "notify", "message": "rename element 'notify': it is also the name of an action"}
    ]


def test_an_action_call_without_a_name_is_refused_at_its_task_not_as_an_id_clash(engine):
    """An operator with no id used to match every id-less element as a clash named None, and
    sorting those Nones was a TypeError (a 500 at the API)."""
    xml = Bpmn("p").start().service("call", "notify").end().chain("start", "call", "end").xml()
    xml = xml.replace('serviceTaskOperator id="notify" ', "serviceTaskOperator ", 1)
    with pytest.raises(InvalidProcess) as refused:
        engine.deploy(xml)
    assert [d["element"] for d in refused.value.details] == ["call"]
    assert "rename element" not in str(refused.value.details)
    assert versions(engine) == 0


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "UTF-16", "windows-1251", "UTF-8"])
def test_a_file_is_read_in_the_encoding_it_declares(engine, encoding):
    """Modelers save in the encoding of the machine; the file says which in its declaration."""
    name = "Доставка" if encoding == "windows-1251" else "Livraison à domicile"
    text = simple().replace('name="simple"', f'name="{name}"', 1).replace('encoding="UTF-8"', f'encoding="{encoding}"')
    version = engine.deploy(text.encode(encoding))
    assert version.name == name
    assert f'encoding="{encoding}"' not in version.xml or encoding == "UTF-8"
    # the stored text is whole and says what it is once encoded as UTF-8 again
    assert parse_process(version.xml.encode("utf-8"))[0].name == name
    assert engine.deploy(text.encode(encoding)).id == version.id
