"""The shipped processes' labels in the store's languages: `<key>.labels.json` beside `<key>.bpmn`.

A diagram is written in one language (the shipped ones in English) and its names, start
parameters, form fields and task titles reach people as written. The store's staff read
Ukrainian and Russian, so each shipped process carries its translations in a file of its own,
keyed by what the diagram names (element ids, parameter names, `<user task>.<form field>`), with
the English text it translates beside them. A screen shows a translation only while the text it
would show is still that English: a designer's own process, or a label a designer changed in the
modeler, is shown as written.

File shape: ``{"<lang>": {"name": ..., "elements": {id: name}, "parameters": {name: label},
"forms": {"task.field": label}, "titles": {element id: title template}}}``; a title template
keeps the diagram's ``{...}`` holes, which the screen fills from the English title it matches.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SUFFIX = ".labels.json"
SECTIONS = ("elements", "parameters", "forms", "titles")


def read_labels(templates_dir: Path | None) -> dict[str, dict[str, Any]]:
    """Every shipped process's labels by process key; a file that cannot be read is left out
    (a missing translation shows the diagram's own text, it never stops a screen)."""
    if templates_dir is None or not templates_dir.is_dir():
        return {}
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(templates_dir.glob(f"*{SUFFIX}")):
        try:
            labels = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(labels, dict):
            out[path.name[: -len(SUFFIX)]] = labels
    return out
