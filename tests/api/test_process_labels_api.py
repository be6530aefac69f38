"""The shipped processes' labels in Ukrainian and Russian (bpmn/<key>.labels.json), served to the
screens, and held to their diagrams: the English they translate is the diagram's own text."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from engine.labels import SECTIONS, read_labels

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "dealflow": "https://dealflow.dev/schema/bpmn",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
HOLE = re.compile(r"\{[^{}]+\}")


def _diagram_texts(path: Path) -> dict[str, dict[str, str]]:
    """What the diagram itself says, in the sections a labels file translates."""
    process = ElementTree.parse(path).getroot().find("bpmn:process", NS)
    assert process is not None
    texts: dict[str, dict[str, str]] = {"name": {"": process.get("name", "")}, "elements": {}, "parameters": {},
                                        "forms": {}, "titles": {}}
    for element in process.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if element.get("id") and element.get("name") and tag not in ("process",):
            texts["elements"][element.get("id")] = element.get("name")
        if tag == "parameter" and element.get("label"):
            texts["parameters"][element.get("name")] = element.get("label")
        for field in element.findall("bpmn:extensionElements/dealflow:formField", NS):
            texts["forms"][f"{element.get('id')}.{field.get('name')}"] = field.get("label")
        for prop in element.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
            if prop.get("name") == "title":
                texts["titles"][element.get("id")] = prop.get("value")
        for param in element.findall(".//spiffworkflow:parameter", NS):
            if param.get("id") == "title" and tag == "serviceTask":
                texts["titles"][element.get("id")] = param.get("value", "").strip('"')
    return texts


@pytest.mark.parametrize("key", sorted(read_labels(BPMN)))
def test_each_labels_file_translates_its_diagrams_own_english_into_every_language(key):
    labels = read_labels(BPMN)[key]
    diagram = _diagram_texts(BPMN / f"{key}.bpmn")
    assert labels["en"]["name"] == diagram["name"][""]
    for section in SECTIONS:
        for ref, english in labels["en"].get(section, {}).items():
            assert diagram[section].get(ref) == english, (section, ref)
    for lang in ("uk", "ru"):
        assert labels[lang]["name"]
        for section in SECTIONS:
            english, translated = labels["en"].get(section, {}), labels[lang].get(section, {})
            assert set(translated) == set(english), (lang, section)
            for ref, text in translated.items():
                assert text and sorted(HOLE.findall(text)) == sorted(HOLE.findall(english[ref])), (lang, ref)


def test_every_shipped_process_has_its_labels_and_every_user_task_title_and_start_parameter_is_there():
    labels = read_labels(BPMN)
    assert set(labels) == {path.stem for path in BPMN.glob("*.bpmn")}
    for key, translated in labels.items():
        diagram = _diagram_texts(BPMN / f"{key}.bpmn")
        for section in ("parameters", "forms", "titles"):
            assert set(translated["en"].get(section, {})) == set(diagram[section]), (key, section)


def test_the_labels_are_served_to_anyone_signed_in(client_as, anonymous):
    served = client_as("manager.north1").get("/api/v1/process-labels")
    assert served.status_code == 200
    assert served.json["send_to_bank"]["uk"]["name"] == "Відправити в банк"
    assert served.json["warehouse_buffer"]["ru"]["parameters"]["return_date"] == "Вернуть товар"
    assert anonymous.get("/api/v1/process-labels").status_code == 401
