"""What a timeline entry's sentence says, as names and values a screen can put in its own words.

A timeline entry keeps its kind, its data (codes and ids, language-neutral) and an English
sentence for logs and API clients. The deal card says the sentence in the reader's language
(designer/src/locales/*/timeline.json, one sentence per kind): for that it needs what the codes
and ids stand for (a stage's name, a task's title, a person's name), looked up here when the
feed is read. A kind without a sentence of its own (a comment, an automation's note) has no
parameters, and its text is shown as it was written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Contact, Deal, Department, FieldDef, Notification, Pipeline, Stage, Task, TimelineEntry, User
from crm.service import CORE_FIELDS

T = TypeVar("T")


def timeline_params(session: Session, entry: TimelineEntry) -> dict[str, Any] | None:
    """The parameters of `entry`'s sentence, or None when its text is all there is to show."""
    describe = _KINDS.get(entry.kind)
    if describe is None:
        return None
    return describe(_Names(session), dict(entry.data or {}))


class _Names:
    """Looks names up once per feed read: one deal's story names the same few stages and people."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[tuple[str, Any], Any] = {}

    def _get(self, key: tuple[str, Any], load: Callable[[], T]) -> T:
        if key not in self._cache:
            self._cache[key] = load()
        found: T = self._cache[key]
        return found

    def pipeline(self, code: str | None) -> str | None:
        return self._get(("pipeline", code), lambda: self.session.scalar(
            select(Pipeline.name).where(Pipeline.code == code))) or code

    def stage(self, pipeline: str | None, code: str | None) -> str | None:
        return self._get(("stage", (pipeline, code)), lambda: self.session.scalar(
            select(Stage.name).join(Pipeline, Stage.pipeline_id == Pipeline.id)
            .where(Pipeline.code == pipeline, Stage.code == code))) or code

    def user(self, user_id: Any) -> str | None:
        if user_id is None:
            return None
        return self._get(("user", user_id), lambda: self.session.scalar(select(User.name).where(User.id == user_id)))

    def task(self, task_id: Any) -> Task | None:
        return None if task_id is None else self._get(("task", task_id), lambda: self.session.get(Task, task_id))

    def field(self, code: str) -> dict[str, Any]:
        def load() -> dict[str, Any]:
            definition = self.session.scalars(select(FieldDef).where(FieldDef.code == code)).first()
            return {"label": definition.name if definition else code, "type": definition.type if definition else None}
        return self._get(("field", code), load)

    def value(self, field: str, kind: str | None, value: Any) -> Any:
        """A changed value as a person reads it: the name behind an id, the rest as stored."""
        if value is None or value == "":
            return None
        if field == "responsible_id" or kind == "user":
            return self.user(value) or value
        if field == "contact_id":
            return self.session.scalar(select(Contact.name).where(Contact.id == value)) or value
        if field == "department_id":
            return self.session.scalar(select(Department.name).where(Department.id == value)) or value
        return value


def _task_params(names: _Names, data: dict[str, Any]) -> dict[str, Any]:
    task = names.task(data.get("task_id"))
    params: dict[str, Any] = {"task": task.title if task else "", "task_id": data.get("task_id")}
    if task is not None and task.element_id and task.process_instance_id:
        # A title the diagram gave: the card translates it with its process (see bpmn/*.labels.json).
        params.update(element_id=task.element_id, instance_id=task.process_instance_id)
    return params


def _created(names: _Names, data: dict[str, Any]) -> dict[str, Any]:
    return {"pipeline": names.pipeline(data.get("pipeline")),
            "stage": names.stage(data.get("pipeline"), data.get("stage"))}


def _stage_moved(names: _Names, data: dict[str, Any]) -> dict[str, Any]:
    source, target = data.get("from_pipeline"), data.get("to_pipeline")
    return {"from_pipeline": names.pipeline(source), "from_stage": names.stage(source, data.get("from_stage")),
            "to_pipeline": names.pipeline(target), "to_stage": names.stage(target, data.get("to_stage")),
            "same_pipeline": source == target, "loss_reason": data.get("loss_reason")}


def _field_changed(names: _Names, data: dict[str, Any]) -> dict[str, Any]:
    field = str(data.get("field"))
    core = field in CORE_FIELDS
    definition = {"label": None, "type": None} if core else names.field(field)
    return {"field": field, "core": core, "label": definition["label"], "type": definition["type"],
            "old": names.value(field, definition["type"], data.get("old")),
            "new": names.value(field, definition["type"], data.get("new"))}


def _task_created(names: _Names, data: dict[str, Any]) -> dict[str, Any]:
    return {**_task_params(names, data), "assignee": names.user(data.get("assignee_id")), "group": data.get("group")}


def _task_assigned(names: _Names, data: dict[str, Any]) -> dict[str, Any]:
    return {**_task_params(names, data), "assignee": names.user(data.get("to_user_id") or data.get("user_id"))}


def _task_scheduled(names: _Names, data: dict[str, Any]) -> dict[str, Any]:
    return {**_task_params(names, data), "due": data.get("to")}


def _task_moved(names: _Names, data: dict[str, Any]) -> dict[str, Any]:
    return {**_task_params(names, data), "from_column": data.get("from_column"),
            "to_column": data.get("to_column"), "note": data.get("note")}


def _notified(names: _Names, data: dict[str, Any]) -> dict[str, Any]:
    note = names.session.get(Notification, data["notification_id"]) if data.get("notification_id") else None
    return {"user": names.user(data.get("user_id")), "message": note.text if note else ""}


def _copied(names: _Names, data: dict[str, Any]) -> dict[str, Any]:
    other = names.session.get(Deal, data["deal_id"]) if data.get("deal_id") else None
    return {"deal_id": data.get("deal_id"), "title": other.title if other else ""}


_KINDS = {
    "created": _created,
    "stage_moved": _stage_moved,
    "field_changed": _field_changed,
    "task_created": _task_created,
    "task_assigned": _task_assigned,
    "task_scheduled": _task_scheduled,
    "task_moved": _task_moved,
    "task_completed": _task_params,
    "task_archived": _task_params,
    "notified": _notified,
    "copied_to": _copied,
    "copied_from": _copied,
}
