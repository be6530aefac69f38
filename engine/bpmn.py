"""Reading a BPMN file safely and turning it into a deployable Spiff spec.

The XML is untrusted: a DTD (and with it XXE and entity-expansion bombs) is refused before
lxml sees the text, and lxml then parses with entity resolution and network access off.
dealflow's own attributes (start parameters, required deal fields, user-task form fields)
sit in extension elements of the `dealflow` namespace; service tasks, user-task properties and scripts use
SpiffWorkflow's extension format so diagrams stay compatible with Spiff tooling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.event_parsers import (  # the xpaths of Spiff's end event parser, and a signal's
    CANCEL_EVENT_XPATH,
    ERROR_EVENT_XPATH,
    ESCALATION_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TERMINATION_EVENT_XPATH,
    EventDefinitionParser,
)
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, SpiffProcessParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessageEventDefinition

from dsl import DslError, compile_expression, compile_script, compile_template
from engine import compensation, event_subprocesses, links, multi_instance
from engine.bpmn_texts import translate_texts
from engine.calls import CallActivity, attach_mappings, read_mappings
from engine.data_objects import DataObject
from engine.errors import InvalidProcess
from engine.message_events import MessageEventDefinition
from engine.timers import TIMER_CLASSES

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DEALFLOW_NS = "https://dealflow.dev/schema/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS, "dealflow": DEALFLOW_NS, "spiffworkflow": SPIFF_NS, "camunda": CAMUNDA_NS}

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
USER_TASK_TEMPLATES = {"title", "description"}
USER_TASK_EXPRESSIONS = {"assignee", "deadline"}
PARAMETER_TYPES = {"string", "number", "money", "date", "datetime", "bool", "duration"}
#: What a user task's form may ask for: the deal field types plus long text (crm.work checks values).
FORM_FIELD_TYPES = ("string", "text", "number", "money", "date", "datetime", "bool", "enum", "user")
#: Variables completing a task sets anyway; a form field of that name would be overwritten.
RESERVED_FORM_NAMES = {"task_result", "completed_task_id", "event", "deal"}
#: Elements a person completes (a plain `task` too); their forms are read from these.
USER_TASK_TAGS = ("userTask", "manualTask", "task")


@dataclass
class Parameter:
    name: str
    type: str = "string"
    label: str | None = None
    required: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "label": self.label, "required": self.required}


@dataclass
class ParsedProcess:
    key: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    parameters: list[Parameter] = field(default_factory=list)
    required_fields: list[dict[str, str | None]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    start_messages: list[str] = field(default_factory=list)
    forms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Keys of the processes its call activities call that are not in its own file: deployed
    #: ones, resolved at call time (engine/calls.py).
    called: list[str] = field(default_factory=list)


if TYPE_CHECKING:
    # Spiff ships no types, so its parsers are Any to mypy: this tells it what super() reaches.
    _EventParser = EventDefinitionParser
else:
    _EventParser = object


class _DealflowEvents(_EventParser):  # type: ignore[misc,valid-type]  # Spiff ships no types
    """Mixed into Spiff's event parsers: clocked timers, and message payloads kept as `event`."""

    def parse_timer_event(self, event: Any) -> Any:
        definition = super().parse_timer_event(event)
        ours = TIMER_CLASSES[type(definition)]
        return ours(definition.name, definition.expression, description=definition.description)

    def parse_message_event(self, message_event: Any) -> Any:
        definition = super().parse_message_event(message_event)
        if type(definition) is SpiffMessageEventDefinition:
            definition.__class__ = MessageEventDefinition  # engine/message_events.py: the payload thrown
        if getattr(definition, "message_var", None) is None:
            definition.message_var = "event"
        if not definition.name:
            # `name` is optional on bpmn:message (modelers often leave it out): the message is
            # then known by its id, as `_message_names` records it on the version.
            ref = message_event.get("messageRef")
            if not ref:
                self.raise_validation_exception(
                    "a message event needs a messageRef to a bpmn:message, or a name of its own", node=message_event)
            definition.name = ref
        return definition


class _SignalEnds(_EventParser):  # type: ignore[misc,valid-type]  # Spiff ships no types
    """Spiff 3.2 reads an end event's signal definition as a plain end (its end event parser
    lists message, cancel, error, escalation and terminate only): the signal is read too, so a
    signal end event throws it, as BPMN and Camunda mean."""

    def create_task(self) -> Any:
        definition = self.get_event_definition([MESSAGE_EVENT_XPATH, CANCEL_EVENT_XPATH, ERROR_EVENT_XPATH,
                                                ESCALATION_EVENT_XPATH, TERMINATION_EVENT_XPATH, SIGNAL_EVENT_XPATH])
        task = self._create_task(definition)
        task.connect(self.spec.end)
        return task


def _with_dealflow_events(classes: dict[str, tuple[type, type]]) -> dict[str, tuple[type, type]]:
    out = {}
    for tag, (parser_cls, spec_cls) in classes.items():
        if issubclass(parser_cls, EventDefinitionParser):
            mixins = (_SignalEnds, _DealflowEvents) if tag == f"{{{BPMN_NS}}}endEvent" else (_DealflowEvents,)
            parser_cls = type(f"Dealflow{parser_cls.__name__}", (*mixins, parser_cls), {})
        out[tag] = (parser_cls, spec_cls)
    return out


def _with_dealflow_calls(classes: dict[str, tuple[type, type]]) -> dict[str, tuple[type, type]]:
    """Call activities as engine/calls.py runs them (variable mappings evaluated by the dsl)."""
    tag = f"{{{BPMN_NS}}}callActivity"
    return {**classes, tag: (classes[tag][0], CallActivity)}


def _parser_classes() -> dict[str, tuple[type, type]]:
    """Spiff's parsers with ours for events, call activities, multi-instance and business rule
    tasks (engine.dmn.task: the decision is called by key at run time and evaluated with the dsl,
    not by Spiff's DMN engine)."""
    from engine.dmn.task import DecisionTask, DecisionTaskParser  # engine.dmn reads files with this module

    classes = _with_dealflow_calls(_with_dealflow_events(SpiffBpmnParser.OVERRIDE_PARSER_CLASSES))
    classes[f"{{{BPMN_NS}}}businessRuleTask"] = (DecisionTaskParser, DecisionTask)
    return multi_instance.parser_classes(classes)


class DealflowProcessParser(SpiffProcessParser):  # type: ignore[misc]  # Spiff ships no types
    """Data objects as engine/data_objects.py keeps them (a value not produced is not an error)."""

    def parse_data_object(self, obj: Any) -> DataObject:
        spiffs = super().parse_data_object(obj)
        return DataObject(spiffs.category, spiffs.bpmn_id, spiffs.bpmn_name)


class DealflowParser(SpiffBpmnParser):  # type: ignore[misc]  # Spiff ships no types
    OVERRIDE_PARSER_CLASSES = _parser_classes()
    PROCESS_PARSER_CLASS = DealflowProcessParser


_VALIDATOR: BpmnValidator | None = None


def _validator() -> BpmnValidator:
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = BpmnValidator()
    return _VALIDATOR


_DECLARED_ENCODING = re.compile(r"""^(<\?xml\s[^>]*?\bencoding\s*=\s*)(["'])([^"']*)\2""")


def xml_text(xml: str | bytes) -> str:
    """The BPMN file as text: bytes are decoded by the encoding the file itself declares (its
    byte-order mark, else its XML declaration, else UTF-8 as XML says), and the declaration is
    rewritten to say UTF-8, so the stored text parses the same wherever it is encoded again
    (the database, `GET .../xml`, a test case file). A str (JSON's {"xml": ...}) is already
    decoded, so a declared encoding in it says nothing and is rewritten the same way."""
    if isinstance(xml, bytes):
        encoding = load_xml(xml).getroottree().docinfo.encoding or "utf-8"
        try:
            text = xml.decode(encoding)
        except (LookupError, UnicodeDecodeError) as err:
            raise InvalidProcess(f"the BPMN file is not valid {encoding}: {err}") from err
    else:
        text = xml
    text = text.removeprefix("\ufeff")
    declared = _DECLARED_ENCODING.match(text)
    if declared and declared.group(3).lower().replace("_", "-") not in ("utf-8", "utf8"):
        text = f"{declared.group(1)}{declared.group(2)}UTF-8{declared.group(2)}" + text[declared.end():]
    return text


def load_xml(xml: str | bytes) -> etree._Element:
    """Parse untrusted BPMN XML, refusing DTDs, entities, oversize and over-deep documents."""
    try:
        data = xml.encode("utf-8") if isinstance(xml, str) else xml
    except UnicodeEncodeError as err:  # a lone surrogate, which JSON's \ud800 lets through
        raise InvalidProcess(f"the BPMN text is not valid Unicode: {err.reason} at character {err.start}") from err
    if len(data) > MAX_BYTES:
        raise InvalidProcess(f"the BPMN file is larger than {MAX_BYTES // 1024} KiB")
    try:
        safe_et.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        raise InvalidProcess("BPMN files may not contain a DTD or entity declarations") from err
    except (safe_et.ParseError, ValueError, LookupError) as err:  # expat: "multi-byte encodings are not supported"
        raise InvalidProcess(f"not well-formed XML: {err}") from err
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        raise InvalidProcess(f"not well-formed XML: {err}") from err
    if _depth(root) > MAX_DEPTH:
        raise InvalidProcess(f"the BPMN document is nested deeper than {MAX_DEPTH} levels")
    return root


def _depth(root: etree._Element) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in node)
    return deepest


def parse_process(xml: str | bytes) -> tuple[ParsedProcess, etree._Element]:
    """The first executable process of a file (see `parse_processes` for all of them)."""
    parsed, root = parse_processes(xml)
    return parsed[0], root


def parse_processes(xml: str | bytes) -> tuple[list[ParsedProcess], etree._Element]:
    """Parse and check a BPMN file; raise InvalidProcess listing every problem found.

    A collaboration's every executable pool is a process of its own, each with its own key
    (the process id), so message flows between them correlate like messages between separate
    files; the non-executable pools (a customer drawn as a black box) are not deployed. The
    first in the list is the pool a plain start runs: the first one with a start event that
    waits for nothing, and of those one that waits for no message on its way (the initiator of
    the conversation, not its responder), as a designer would start the collaboration."""
    root = load_xml(xml)
    processes = root.findall("bpmn:process", NS)
    executable = [p for p in processes if p.get("isExecutable", "true").lower() == "true"] or processes
    if not executable:
        raise InvalidProcess("the file has no bpmn:process")
    for process_el in executable:
        if not process_el.get("id"):  # starts name a process by it; the database would refuse a version without one
            raise InvalidProcess("the bpmn:process needs an id: it is the key processes are started by",
                                 [{"element": "", "message": "give the bpmn:process an id"}])
    _refuse_ids_shadowed_by_actions(root)
    forms = _user_task_forms(root)
    text = xml if isinstance(xml, str) else xml_text(xml)
    timer_problems = translate_texts(root)
    if timer_problems:
        raise InvalidProcess("timers that cannot be read", [
            {**located(el, text), "element": _owner(el), "message": message} for el, message in timer_problems])
    restore_loops = multi_instance.prepare(root)
    _check_schema(root, text)
    restore_loops()
    for rewrite, what in ((compensation.rewrite, "compensation that cannot run"),
                          (links.join_links, "link events that cannot be followed"),
                          (event_subprocesses.wrap, "event subprocesses that cannot run")):
        # Only the processes being deployed: one not executable is refused as such by Spiff below.
        rewrite_problems = [problem for process_el in executable
                            if process_el.get("isExecutable", "true").lower() == "true"
                            for problem in rewrite(process_el)]
        if rewrite_problems:
            first, first_message = rewrite_problems[0]
            raise InvalidProcess(f"{what}: {describe(first, text)}: {first_message}", [
                {**located(el, text), "element": el.get("id") or "?", "message": message}
                for el, message in rewrite_problems])
    parser = DealflowParser(validator=None)
    pools = {p.get("processRef"): p.get("name") for p in root.iter(f"{{{BPMN_NS}}}participant")}
    parsed_all = []
    mappings = read_mappings(root)
    try:
        parser.add_bpmn_xml(etree.ElementTree(root), filename="diagram.bpmn")
        for process_el in executable:
            key = str(process_el.get("id"))
            spec = parser.get_spec(key)
            subprocess_specs = parser.get_subprocess_specs(key, require_call_activity_specs=False)
            called = sorted(name for name, sub in subprocess_specs.items() if sub is None)
            subprocess_specs = {name: sub for name, sub in subprocess_specs.items() if sub is not None}
            _attach_forms([spec, *subprocess_specs.values()], forms)
            attach_mappings([spec, *subprocess_specs.values()], mappings)
            parsed_all.append(ParsedProcess(
                key=key,
                name=process_el.get("name") or pools.get(key) or key,
                spec=spec,
                subprocess_specs=subprocess_specs,
                parameters=_parameters(process_el),
                required_fields=_required_fields(process_el),
                messages=_message_names(root, process_el, start=False),
                start_messages=_message_names(root, process_el, start=True),
                forms=forms,
                called=called,
            ))
    except ValidationException as err:
        raise _deploy_error(err, root, text) from err
    except InvalidProcess:
        raise
    except Exception as err:  # Spiff raises assorted errors on malformed diagrams
        raise InvalidProcess(f"the diagram cannot be executed: {_plain(str(err))}") from err
    waits = {str(p.get("id")): _waits_for_messages(p) for p in executable}
    parsed_all.sort(key=lambda p: (not starts_plainly(p.spec), waits.get(p.key, False)))
    return parsed_all, root


def _waits_for_messages(process_el: etree._Element) -> bool:
    """Whether a process catches a message on its way (a catch or boundary event, a receive task)."""
    catching = {f"{{{BPMN_NS}}}{tag}" for tag in ("intermediateCatchEvent", "boundaryEvent")}
    parents = [el.getparent() for el in process_el.iter(f"{{{BPMN_NS}}}messageEventDefinition")]
    return any(parent is not None and str(parent.tag) in catching for parent in parents) \
        or next(process_el.iter(f"{{{BPMN_NS}}}receiveTask"), None) is not None


def starts_plainly(spec: Any) -> bool:
    """Whether a process has a start event a plain start runs (one that waits for no message)."""
    starts = [t for t in spec.task_specs.values() if type(t).__name__ == "StartEvent"]
    return not starts or any(
        not getattr(t, "event_definition", None) or type(t.event_definition).__name__ == "NoneEventDefinition"
        for t in starts)


def waiting_starts(spec: Any) -> list[str]:
    """What the process's start events wait for, as a refused plain start tells it:
    `message "order.paid"`, `signal "stock.arrived"` (each of a multiple start event too)."""
    out: list[str] = []
    for task in spec.task_specs.values():
        if type(task).__name__ != "StartEvent":
            continue
        definition = getattr(task, "event_definition", None)
        for one in getattr(definition, "event_definitions", None) or [definition]:
            kind = type(one).__name__.removesuffix("EventDefinition").lower()
            name = getattr(one, "name", None)
            if kind and kind != "none":
                out.append(f'{kind} "{name}"' if name else kind)
    return sorted(set(out))


def _short_tag(tag: str) -> str:
    for prefix, uri in NS.items():
        tag = tag.replace(f"{{{uri}}}", f"{prefix}:")
    return tag


def located(el: etree._Element, text: str) -> dict[str, Any]:
    """Where an element starts in the file: {"line", "column"} (1-based), as far as known.

    lxml records the line a start tag *ends* on and no column, so the start tag is looked for
    in the text up to that line, by its tag name and its id."""
    line = el.sourceline
    if not line or not isinstance(el.tag, str):
        return {}
    local = etree.QName(el).localname
    upto = "\n".join(text.splitlines()[:line])
    found = None
    for match in re.finditer(rf"<(?:[\w.-]+:)?{re.escape(local)}(?=[\s/>])[^>]*", upto):
        element_id = el.get("id")
        if element_id is None or re.search(rf"""\bid\s*=\s*["']{re.escape(element_id)}["']""", match.group(0)):
            found = match
    if found is None:
        return {"line": line}
    start_line = upto.count("\n", 0, found.start()) + 1
    column = found.start() - (upto.rfind("\n", 0, found.start()) + 1) + 1
    return {"line": start_line, "column": column}


def describe(el: etree._Element | None, text: str, tag: str = "", name: str = "", element_id: str = "") -> str:
    """`bpmn:task "Call the client" (id call), line 12, column 5`: how a deploy error names an element."""
    if el is not None:
        tag, name, element_id = _short_tag(str(el.tag)), el.get("name") or "", el.get("id") or ""
    where = located(el, text) if el is not None else {}
    words = [w for w in (tag, f'"{name}"' if name else "", f"(id {element_id})" if element_id else "") if w]
    place = ", ".join(f"{k} {v}" for k, v in where.items())
    return " ".join(words) + (f", {place}" if place else "")


#: SpiffWorkflow's parser messages that do not say what is wrong in the designer's terms, as
#: patterns and what dealflow says instead ({tag} is the element's kind, {0} the pattern's group).
_SPIFF_MESSAGES = (
    (r"Unsupported Catch Event",
     "a boundary event needs an event definition to wait for (timer, message, signal, error, escalation, "
     "conditional or cancel); this one has none dealflow can wait on"),
    (r"Multiple outgoing flows are not supported for tasks of type",
     "{tag} may have only one outgoing sequence flow: branch with a gateway after it"),
    (r"There is no support implemented for this task type",
     "{tag} cannot be executed: SpiffWorkflow, which runs dealflow's processes, has no implementation of it"),
    (r"When looking for a task spec, we found two items.*\((.*)\)",
     "a sequence flow from it leads to {0!r}, which is no element of this process"),
)
_REPR = re.compile(r"<(?:Element|_Element)\b[^>]*? at 0x[0-9a-fA-F]+>|\bb'(?:[^'\\]|\\.)*'|\bb\"(?:[^\"\\]|\\.)*\"")


def _plain(message: str) -> str:
    """A parser message without Python reprs: `<Element ... at 0x...>` and byte strings go,
    and a wrapped exception's repr (`NotImplementedError('...', ...)`) becomes its text."""
    wrapped = re.fullmatch(r"\w+(?:Error|Exception)\((['\"])(.*?)\1(?:,.*)?\)\.?\s*", message, re.S)
    if wrapped:
        message = wrapped.group(2)
    message = _REPR.sub("", message).replace("%r", "").replace("%s", "")
    return re.sub(r"\s*[:,]\s*$|\s+(?=[.,:])", "", re.sub(r"\s{2,}", " ", message)).strip()


def _deploy_error(err: ValidationException, root: etree._Element, text: str) -> InvalidProcess:
    """Spiff's ValidationException as the designer should read it: what is wrong, said plainly,
    and the element by its tag, name and id, with its line and column in the file."""
    element_id = getattr(err, "id", "") or ""
    el = next((e for e in root.iter() if isinstance(e.tag, str) and e.get("id") == element_id), None) \
        if element_id else None
    tag = _short_tag(str(getattr(err, "tag", "") or ""))
    message = _plain(str(err.args[0]) if err.args else str(err))
    for pattern, better in _SPIFF_MESSAGES:
        if (match := re.search(pattern, message, re.IGNORECASE)) is not None:
            message = better.format(*match.groups(), tag=f"a {tag}" if tag else "this element")
            break
    if not message:
        message = "SpiffWorkflow cannot execute this element"
    what = describe(el, text, tag, getattr(err, "name", "") or "", element_id)
    problem: dict[str, Any] = {"element": element_id or None, "message": message}
    if el is not None:
        problem.update(located(el, text))
    return InvalidProcess(f"{what}: {message}" if what else message, [problem])


def _check_schema(root: etree._Element, text: str) -> None:
    """Validate against the BPMN 2.0 XSD ourselves, so every schema error is reported with its
    line, column and element (Spiff's validator keeps only the last error's line)."""
    validator = _validator()
    validator.preprocess(root)
    schema = validator.validator
    if schema.validate(root):
        return
    namespaces = {k: v for k, v in root.nsmap.items() if k}
    problems = []
    for entry in list(schema.error_log):
        el: etree._Element | None = None
        try:
            found = root.getroottree().xpath(entry.path, namespaces=namespaces) if entry.path else []
            el = found[0] if found and isinstance(found[0], etree._Element) else None
        except etree.XPathError:
            el = None
        if el is None:
            el = next((e for e in root.iter() if isinstance(e.tag, str) and e.sourceline == entry.line), None)
        element = (el.get("id") or _short_tag(str(el.tag))) if el is not None else None
        where = located(el, text) if el is not None else {}
        line, column = entry.line or where.get("line"), entry.column or where.get("column")
        message = re.sub(r"^Element '[^']*'(?:, attribute '([^']*)')?: ", lambda m: (
            f"attribute {m.group(1)!r}: " if m.group(1) else ""), _short_tag(entry.message))
        problems.append({"element": element, "message": message, "line": line, "column": column,
                         "text": f"{describe(el, text) if el is not None else f'line {line}'}: {message}"})
    raise InvalidProcess(f"not valid BPMN 2.0: {problems[0]['text']}", problems)


#: Camunda 7 Modeler's form field types (`camunda:formField type=`) as dealflow's; a custom type
#: (a plug-in's widget) is read as text.
CAMUNDA_FIELD_TYPES = {"string": "string", "long": "number", "boolean": "bool", "date": "date", "enum": "enum",
                       "textarea": "text"}


def _declared_fields(task_el: etree._Element) -> list[dict[str, Any]]:
    """A task's form fields as written: dealflow's own, and Camunda Modeler's `camunda:formData`
    (id, label, type, `camunda:value` options, a `required` constraint), which most exported
    diagrams with forms carry."""
    fields = []
    for el in task_el.iterfind("bpmn:extensionElements/dealflow:formField", NS):
        fields.append({
            "name": (el.get("name") or "").strip(), "label": el.get("label"),
            "type": (el.get("type") or "string").strip(),
            "required": (el.get("required") or "true").strip().lower() != "false",
            "options": [o.strip() for o in (el.get("options") or "").split(",") if o.strip()],
            "hint": "options=\"Yes,No\"",
        })
    for el in task_el.iterfind("bpmn:extensionElements/camunda:formData/camunda:formField", NS):
        constraints = {(c.get("name") or "").strip().lower()
                       for c in el.iterfind("camunda:validation/camunda:constraint", NS)}
        fields.append({
            "name": (el.get("id") or "").strip(), "label": el.get("label"),
            "type": CAMUNDA_FIELD_TYPES.get((el.get("type") or "string").strip(), "string"),
            "required": "required" in constraints,
            "options": [v.get("id") or v.get("name") or "" for v in el.iterfind("camunda:value", NS)
                        if (v.get("id") or v.get("name"))],
            "hint": "camunda:value children",
        })
    return fields


def _user_task_forms(root: etree._Element) -> dict[str, list[dict[str, Any]]]:
    """The form each user task declares (`<dealflow:formField name label type required options>`
    or Camunda's `camunda:formData` in its extension elements), by element id; every bad field
    is reported with its element.

    The form travels with the task spec into the stored spec (see `_attach_forms`), so a running
    instance keeps the form of the version it started on.
    """
    forms: dict[str, list[dict[str, Any]]] = {}
    errors: list[dict[str, str]] = []
    for tag in USER_TASK_TAGS:
        for task_el in root.iter(f"{{{BPMN_NS}}}{tag}"):
            element = task_el.get("id") or ""
            form: list[dict[str, Any]] = []
            seen: set[str] = set()
            for declared in _declared_fields(task_el):
                name, ftype, options = declared["name"], declared["type"], declared["options"]
                problem = None
                if not name.isidentifier():
                    problem = f"form field name {name!r} must be a word of letters, digits and _"
                elif name in RESERVED_FORM_NAMES:
                    problem = f"form field {name}: the name {name!r} is reserved"
                elif name in seen:
                    problem = f"form field {name} is declared twice"
                elif ftype not in FORM_FIELD_TYPES:
                    problem = f"form field {name}: unknown type {ftype!r} (one of {', '.join(FORM_FIELD_TYPES)})"
                elif ftype == "enum" and not options:
                    problem = f"form field {name}: an enum needs its options ({declared['hint']})"
                if problem:
                    errors.append({"element": element, "message": problem})
                    continue
                seen.add(name)
                form.append({
                    "name": name,
                    "label": (declared["label"] or "").strip() or name,
                    "type": ftype,
                    "required": declared["required"],
                    "options": options,
                })
            if form:
                forms[element] = form
    if errors:
        raise InvalidProcess("invalid user task forms", errors)
    return forms


def _attach_forms(specs: list[Any], forms: dict[str, list[dict[str, Any]]]) -> None:
    """Keep each form in its task spec's extensions, which Spiff's serializer stores and restores."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            form = forms.get(bpmn_id) if bpmn_id is not None else None
            if form is not None:
                task_spec.extensions = {**(getattr(task_spec, "extensions", None) or {}), "dealflow_form": form}


def task_form(task_spec: Any) -> list[dict[str, Any]]:
    """The form a user task's spec declares; [] when none."""
    return list((getattr(task_spec, "extensions", None) or {}).get("dealflow_form", []))


def _refuse_ids_shadowed_by_actions(root: etree._Element) -> None:
    """Spiff finds elements by id anywhere in the file, so an element named like the action it
    calls (`serviceTaskOperator id="notify"` inside `serviceTask id="notify"`) is mistaken for it."""
    operators = {i for op in root.iter(f"{{{SPIFF_NS}}}serviceTaskOperator") if (i := op.get("id"))}
    clashes = sorted(
        i for el in root.iter(f"{{{BPMN_NS}}}*") if (i := el.get("id")) is not None and i in operators
    )
    if clashes:
        raise InvalidProcess(
            "element ids may not equal the name of an action the diagram calls",
            [{"element": c, "message": f"rename element {c!r}: it is also the name of an action"} for c in clashes],
        )


def _parameters(process_el: etree._Element) -> list[Parameter]:
    params = []
    errors = []
    for el in process_el.iterfind("bpmn:extensionElements/dealflow:parameter", NS):
        name, ptype = el.get("name"), el.get("type", "string")
        if not name or not name.isidentifier():
            errors.append({"element": process_el.get("id"), "message": f"bad parameter name {name!r}"})
            continue
        if ptype not in PARAMETER_TYPES:
            errors.append({"element": process_el.get("id"), "message": f"parameter {name}: unknown type {ptype}"})
            continue
        required = el.get("required", "true").lower() != "false"
        params.append(Parameter(name, ptype, el.get("label"), required))
    if errors:
        raise InvalidProcess("invalid process parameters", errors)
    return params


def _required_fields(process_el: etree._Element) -> list[dict[str, str | None]]:
    return [
        {"name": el.get("name"), "label": el.get("label")}
        for el in process_el.iterfind("bpmn:extensionElements/dealflow:requiredField", NS)
        if el.get("name")
    ]


def _message_names(root: etree._Element, process_el: etree._Element, *, start: bool) -> list[str]:
    names = {i: m.get("name") or i for m in root.iterfind("bpmn:message", NS) if (i := m.get("id")) is not None}
    found: set[str] = set()
    for ref_el in process_el.iter(f"{{{BPMN_NS}}}messageEventDefinition"):
        parent = ref_el.getparent()
        is_start = parent is not None and parent.tag == f"{{{BPMN_NS}}}startEvent"
        ref = ref_el.get("messageRef")
        if is_start == start and ref is not None and ref in names:
            found.add(names[ref])
    if not start:
        for task in process_el.iter(f"{{{BPMN_NS}}}receiveTask"):
            ref = task.get("messageRef")
            if ref is not None and ref in names:
                found.add(names[ref])
    return sorted(found)


#: Every element whose text SpiffWorkflow evaluates (docs/processes.md lists where), with the
#: dsl form it must have and whether empty text is an error (Spiff would evaluate "" or None).
EVALUATED_TEXTS: tuple[tuple[str, str, Any, str, bool], ...] = (
    (BPMN_NS, "conditionExpression", compile_expression, "condition", False),
    (BPMN_NS, "timeDate", compile_expression, "timer", False),
    (BPMN_NS, "timeDuration", compile_expression, "timer", False),
    (BPMN_NS, "timeCycle", compile_expression, "timer", False),
    (BPMN_NS, "script", compile_script, "script", False),
    (SPIFF_NS, "preScript", compile_script, "preScript", False),
    (SPIFF_NS, "postScript", compile_script, "postScript", False),
    (BPMN_NS, "condition", compile_expression, "conditional event condition", True),
    (BPMN_NS, "loopCardinality", compile_expression, "loopCardinality", True),
    (BPMN_NS, "completionCondition", compile_expression, "completionCondition", True),
    (BPMN_NS, "loopCondition", compile_expression, "loopCondition", True),
    (BPMN_NS, "messagePath", compile_expression, "correlation retrieval expression", True),
    (BPMN_NS, "formalExpression", compile_expression, "correlation retrieval expression", True),
    (SPIFF_NS, "messagePayload", compile_expression, "message payload", True),
    (SPIFF_NS, "expression", compile_expression, "process variable correlation", True),
    (SPIFF_NS, "payloadExpression", compile_expression, "payload expression", True),
)

#: On an element dealflow made in the parsed tree from one the designer drew: the drawn one's id,
#: which deploy errors name.
OWNER = f"{{{DEALFLOW_NS}}}owner"

#: Elements dealflow refuses at deploy, and why (business rule tasks run: engine.dmn).
REFUSED_ELEMENTS: dict[str, str] = {}


def _owner(el: etree._Element) -> str:
    """The BPMN element (task, flow, event, message, correlation property) a piece of text belongs to."""
    node: etree._Element | None = el
    while node is not None and not (node.get("id") and str(node.tag).startswith(f"{{{BPMN_NS}}}")):
        node = node.getparent()
    if node is not None and node.get(OWNER):  # an element dealflow made from another (event_subprocesses)
        return str(node.get(OWNER))
    return (node.get("id") or "?") if node is not None else "?"


def check_texts(root: etree._Element, knows_action: Any, source: str | None = None) -> list[dict[str, Any]]:
    """Every dsl text, action name and refused element in the diagram, checked now rather than
    at run time; each problem names the element it belongs to and, given the file's `source`,
    the line and column of the text's element."""
    problems: list[dict[str, Any]] = []

    def check(el: etree._Element, text: str | None, compile_fn: Any, what: str, required: bool = False) -> None:
        if text is None or not text.strip():
            if required:
                problems.append({"element": _owner(el), "message": f"{what}: an expression is required",
                                 **located(el, source or "")})
            return
        try:
            compile_fn(text)
        except DslError as err:
            problems.append({"element": _owner(el), "message": f"{what}: {err}", **located(el, source or "")})

    for ns, tag, compile_fn, what, required in EVALUATED_TEXTS:
        for el in root.iter(f"{{{ns}}}{tag}"):
            if el.get(compensation.MADE) is None:  # made by engine.compensation, not dsl
                check(el, el.text, compile_fn, what, required)
    problems += _refused_elements(root)
    problems += multi_instance.problems(root, lambda el: located(el, source or ""))
    for prop in root.iter(f"{{{SPIFF_NS}}}property"):
        name = prop.get("name", "")
        if name in USER_TASK_TEMPLATES:
            check(prop, prop.get("value"), compile_template, name)
        elif name in USER_TASK_EXPRESSIONS or name.startswith("data."):
            check(prop, prop.get("value"), compile_expression, name)
    for op in root.iter(f"{{{SPIFF_NS}}}serviceTaskOperator"):
        action = op.get("id")
        if not knows_action(action):
            problems.append({"element": _owner(op), "message": f"unknown action {action!r}",
                             **located(op, source or "")})
        for param in op.iterfind("spiffworkflow:parameters/spiffworkflow:parameter", NS):
            check(param, param.get("value"), compile_expression, f"parameter {param.get('id')}")
    return problems


def _refused_elements(root: etree._Element) -> list[dict[str, str]]:
    """Elements whose evaluation dealflow does not offer, and ad-hoc subprocesses without the
    completionCondition Spiff evaluates after every task they run."""
    problems = [
        {"element": el.get("id") or "?", "message": why}
        for tag, why in REFUSED_ELEMENTS.items() for el in root.iter(tag)
    ]
    for el in root.iter(f"{{{BPMN_NS}}}adHocSubProcess"):
        if el.find("bpmn:completionCondition", NS) is None:
            problems.append({"element": el.get("id") or "?",
                             "message": "an ad-hoc subprocess needs a completionCondition (a dsl expression)"})
    return problems
