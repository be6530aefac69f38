"""Link events: a link throw goes on at the link catch of the same name, as an off-page connector.

SpiffWorkflow reads a link throw as an end of the path and never starts the catch, so a
diagram drawn with links stopped at the first one. A link is only a drawn shortcut for a
sequence flow (BPMN 2.0, 10.5.6): here each throw is joined to its catch by a sequence flow
before Spiff reads the diagram, and both become plain pass-through events that keep their id
and name, so the history shows the path as drawn.

A throw whose name no catch of the same process level has, a catch whose name two catches
share, or a link without a name, is refused at deploy naming the element: a link that could
not be followed would end the path silently.
"""

from __future__ import annotations

from collections import defaultdict

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS}
#: The elements whose direct children are one level of flow (where a link is looked for).
SCOPES = ("process", "subProcess", "transaction", "adHocSubProcess")


def _link_name(event: etree._Element) -> str:
    definition = event.find("bpmn:linkEventDefinition", NS)
    name = (definition.get("name") if definition is not None else None) or event.get("name") or ""
    return name.strip()


def join_links(root: etree._Element) -> list[tuple[etree._Element, str]]:
    """Join every link throw to its catch in the tree Spiff will read; the problems, by element."""
    problems: list[tuple[etree._Element, str]] = []
    for tag in SCOPES:
        for scope in root.iter(f"{{{BPMN_NS}}}{tag}"):
            problems += _join_scope(scope)
    return problems


def _join_scope(scope: etree._Element) -> list[tuple[etree._Element, str]]:
    throws = [e for e in scope.iterfind("bpmn:intermediateThrowEvent", NS)
              if e.find("bpmn:linkEventDefinition", NS) is not None]
    catches = [e for e in scope.iterfind("bpmn:intermediateCatchEvent", NS)
               if e.find("bpmn:linkEventDefinition", NS) is not None]
    if not throws and not catches:
        return []
    problems: list[tuple[etree._Element, str]] = []
    by_name: dict[str, list[etree._Element]] = defaultdict(list)
    for catch in catches:
        name = _link_name(catch)
        if not name:
            problems.append((catch, "a link catch event needs a name (its linkEventDefinition's name) "
                                    "for link throws to go to"))
            continue
        by_name[name].append(catch)
    for name, same in by_name.items():
        for catch in same[1:]:
            problems.append((catch, f"two link catch events are named {name!r} on this level; "
                                    "a link throw of that name could go to either: rename one"))
    for throw in throws:
        name = _link_name(throw)
        if not name:
            problems.append((throw, "a link throw event needs a name (its linkEventDefinition's name) "
                                    "naming the link catch event to go on at"))
        elif name not in by_name:
            known = ", ".join(repr(n) for n in sorted(by_name)) or "none"
            problems.append((throw, f"no link catch event named {name!r} on the same level of the process "
                                    f"(link catches here: {known}); the path would end at this throw"))
    if problems:
        return problems
    for throw in throws:
        catch = by_name[_link_name(throw)][0]
        flow_id = f"{throw.get('id')}__link__{catch.get('id')}"
        flow = etree.SubElement(scope, f"{{{BPMN_NS}}}sequenceFlow")
        flow.set("id", flow_id)
        flow.set("sourceRef", throw.get("id") or "")
        flow.set("targetRef", catch.get("id") or "")
        _plain_event(throw, outgoing=flow_id)
        _plain_event(catch, incoming=flow_id)
    for catch in catches:  # a catch no throw reaches stays a plain event nothing starts
        if catch.find("bpmn:linkEventDefinition", NS) is not None:
            _plain_event(catch)
    return []


def _plain_event(event: etree._Element, *, incoming: str | None = None, outgoing: str | None = None) -> None:
    """The event as a none intermediate throw event (Spiff passes straight through one)."""
    for definition in event.findall("bpmn:linkEventDefinition", NS):
        event.remove(definition)
    event.tag = f"{{{BPMN_NS}}}intermediateThrowEvent"
    for tag, ref in (("incoming", incoming), ("outgoing", outgoing)):
        if ref is not None:
            el = etree.SubElement(event, f"{{{BPMN_NS}}}{tag}")
            el.text = ref
