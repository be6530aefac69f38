"""What people are asked to do and told: tasks (with kanban columns per group), the
notification feed, and comments on a deal's timeline.

A task may stand for a BPMN user task (process_instance_id + element_id): completing it is
what resumes the process, through the TaskCompleted event the engine listens to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import CursorResult, func, select, update

from crm import values
from crm.base import ServiceBase, column_length, jsonable, require_text, resolve_or_error, shortened
from crm.errors import Conflict, InvalidInput, NotFound
from crm.events import (
    Cause,
    NotificationCreated,
    TaskArchived,
    TaskAssigned,
    TaskCompleted,
    TaskCreated,
    TaskMoved,
)
from crm.models import Deal, Notification, Task, TimelineEntry, User

NOTE_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
#: Timeline kinds only the CRM's own methods write.
RESERVED_KINDS = frozenset({
    "created", "stage_moved", "field_changed", "task_created", "task_assigned", "task_moved", "task_completed",
    "task_archived", "task_scheduled", "notified", "comment", "copied_to", "copied_from",
})
#: The kanban group whose tasks are deliveries (S3): load sheets and delivery counts read it.
DELIVERY_GROUP = "logistics"
#: The kanban columns of each task group's board, in order (S3, S4). `problem` is the column
#: the courier and purchase processes watch; a card of one of these groups may only be moved to
#: one of its own columns, so a typo on the board cannot hide a task. Done tasks leave the
#: columns by being completed, not moved. Groups not listed here keep free-form columns.
TASK_BOARDS: dict[str, tuple[str, ...]] = {
    DELIVERY_GROUP: ("new", "in_progress", "problem"),
    "purchasing": ("new", "in_progress", "problem"),
}


class WorkMixin(ServiceBase):
    # --- tasks ---------------------------------------------------------------------------

    def tasks_for_element(self, process_instance_id: int, element_id: str) -> list[Task]:
        """The tasks standing for one BPMN user task, oldest first."""
        query = (
            select(Task)
            .where(Task.process_instance_id == process_instance_id, Task.element_id == element_id)
            .order_by(Task.id)
        )
        return list(self.session.scalars(query))

    def create_task(
        self,
        *,
        title: str,
        description: str = "",
        deal: Deal | int | None = None,
        assignee: User | int | str | None = None,
        group: str | None = None,
        column: str = "new",
        deadline: datetime | str | None = None,
        data: Mapping[str, Any] | None = None,
        process_instance_id: int | None = None,
        element_id: str | None = None,
        cause: Cause,
    ) -> Task:
        errors: dict[str, str] = {}
        clean_title = shortened(require_text(errors, "title", title), column_length(Task.title))
        target = None if deal is None else resolve_or_error(errors, "deal", lambda: self._deal_of(deal))
        owner = None if assignee is None else resolve_or_error(errors, "assignee", lambda: self.user(assignee))
        due = (
            None if deadline is None else resolve_or_error(errors, "deadline", lambda: values.parse_datetime(deadline))
        )
        if not isinstance(column, str) or not column.strip():
            errors["column"] = "is required"
        if errors:
            raise InvalidInput(fields=errors, code="invalid_task")
        task = Task(
            title=clean_title,
            description=description or "",
            deal=target,
            assignee=owner,
            group=group,
            column=column.strip(),
            deadline=due,
            status="open",
            data=jsonable(dict(data or {})),
            process_instance_id=process_instance_id,
            element_id=element_id,
            created_at=self.now(),
            created_by_kind=cause.kind,
            created_by_ref=cause.ref,
        )
        self.session.add(task)
        self.session.flush()
        if target is not None:
            who = f" for {owner.name}" if owner else (f" in {group}" if group else "")
            self._timeline(
                target,
                "task_created",
                f"Task created{who}: {clean_title}",
                cause,
                {
                    "task_id": task.id,
                    "assignee_id": owner.id if owner else None,
                    "group": group,
                    "deadline": jsonable(due),
                },
            )
        self._publish(TaskCreated(task_id=task.id, deal_id=task.deal_id, cause=cause))
        return task

    def assign_task(self, task: Task, user: User | int | str | None, *, cause: Cause) -> Task:
        """Give the task to someone (None: back to the group); no-op if they already have it."""
        owner = None if user is None else self.user(user)
        previous = task.assignee
        if (previous.id if previous else None) == (owner.id if owner else None):
            return task
        task.assignee = owner
        if task.deal is not None:
            text = f"Task '{task.title}' assigned to {owner.name}" if owner else f"Task '{task.title}' unassigned"
            self._timeline(
                task.deal,
                "task_assigned",
                text,
                cause,
                {
                    "task_id": task.id,
                    "from_user_id": previous.id if previous else None,
                    "to_user_id": owner.id if owner else None,
                },
            )
        self._publish(
            TaskAssigned(
                task_id=task.id,
                deal_id=task.deal_id,
                from_user_id=previous.id if previous else None,
                to_user_id=owner.id if owner else None,
                cause=cause,
            )
        )
        return task

    def plan_task(self, task: Task, assignee: User | int | str | None, *, deadline: datetime | str | None = None,
                  cause: Cause) -> Task:
        """Give an open task to someone (None: back to the group) and, if given, say when it is
        due: the logistician putting a delivery on a driver's day. Every bad value is reported
        at once and nothing changes then; the deadline is kept if none is given."""
        errors: dict[str, str] = {}
        owner = None if assignee is None else resolve_or_error(errors, "assignee_id", lambda: self.user(assignee))
        due = (
            None if deadline is None else resolve_or_error(errors, "deadline", lambda: values.parse_datetime(deadline))
        )
        if errors:
            raise InvalidInput(fields=errors, code="invalid_task")
        if task.status != "open":
            raise Conflict(f"Task {task.id} is already {task.status}", code="task_not_open")
        self.assign_task(task, owner, cause=cause)
        if due is not None and due != task.deadline:
            previous, task.deadline = task.deadline, due
            if task.deal is not None:
                self._timeline(task.deal, "task_scheduled", f"Task '{task.title}' due {due:%Y-%m-%d %H:%M} UTC",
                               cause, {"task_id": task.id, "from": jsonable(previous), "to": jsonable(due)})
        self.session.flush()
        return task

    def load_sheet(self, driver: User | int | str, day: date) -> list[Task]:
        """The deliveries given to `driver` that are due on `day` in the driver's own timezone,
        in the order they are due: what the driver takes on the road that day (done ones stay
        on the sheet so the day can be read back)."""
        user = self.user(driver)
        zone = _zone_of(user)
        start = datetime.combine(day, time(), zone)
        end = datetime.combine(day + timedelta(days=1), time(), zone)
        query = (
            select(Task)
            .where(Task.group == DELIVERY_GROUP, Task.assignee_id == user.id, Task.deadline >= start,
                   Task.deadline < end)
            .order_by(Task.deadline, Task.id)
        )
        return list(self.session.scalars(query))

    def delivery_counts(self, since: datetime, until: datetime) -> list[tuple[User, int]]:
        """Deliveries completed in [since, until) per driver they were given to (for bonuses),
        by login; drivers with none are left out."""
        query = (
            select(Task.assignee_id, func.count())
            .where(Task.group == DELIVERY_GROUP, Task.assignee_id.is_not(None), Task.completed_at >= since,
                   Task.completed_at < until, Task.status.in_(("done", "archived")))
            .group_by(Task.assignee_id)
        )
        rows = self.session.execute(query)
        counts = [(self.user(user_id), count) for user_id, count in rows if user_id is not None]
        return sorted(counts, key=lambda row: row[0].login)

    def move_task(self, task: Task, column: str, *, note: str | None = None, cause: Cause) -> Task:
        """Drag a card to another kanban column of its group; no-op if it is already there.

        `note` says why (the driver's "Problem: nobody home"): kept on the task as `data.note`
        and written on the deal's timeline, so the manager who is notified can read it."""
        if not isinstance(column, str) or not column.strip():
            raise InvalidInput(fields={"column": "is required"})
        column = column.strip()
        clean_note = note.strip() if isinstance(note, str) and note.strip() else None
        if task.column == column and clean_note is None:
            return task
        if task.status == "archived":
            raise Conflict(f"Task {task.id} is archived", code="task_archived")
        board = TASK_BOARDS.get(task.group or "")
        if board is not None and column not in board:
            raise InvalidInput(fields={"column": f"must be one of {', '.join(board)}"}, code="invalid_column")
        previous = task.column
        if clean_note is not None:
            task.data = {**task.data, "note": clean_note}
        if previous == column:
            if task.deal is not None:
                self._timeline(task.deal, "task_moved", f"Task '{task.title}' ({column}): {clean_note}", cause,
                               {"task_id": task.id, "from_column": previous, "to_column": column,
                                "note": clean_note})
            self.session.flush()
            return task
        task.column = column
        if task.deal is not None:
            text = f"Task '{task.title}': {previous} → {column}" + (f": {clean_note}" if clean_note else "")
            self._timeline(
                task.deal,
                "task_moved",
                text,
                cause,
                {
                    "task_id": task.id,
                    "from_column": previous,
                    "to_column": column,
                    **({"note": clean_note} if clean_note else {}),
                },
            )
        self._publish(
            TaskMoved(task_id=task.id, deal_id=task.deal_id, from_column=previous, to_column=column, cause=cause)
        )
        return task

    def complete_task(self, task: Task, *, cause: Cause, result: Mapping[str, Any] | None = None) -> Task:
        """Done, once: a second completion is a Conflict, so a process never resumes twice."""
        if task.status != "open":
            raise Conflict(f"Task {task.id} is already {task.status}", code="task_not_open")
        form = (task.data or {}).get("form") or []
        if form:
            result = self._form_answers(form, result or {})
        task.status = "done"
        task.completed_at = self.now()
        task.completed_by_id = self._acting_user_id(cause)
        if result:
            task.data = {**task.data, "result": jsonable(dict(result))}
        if task.deal is not None:
            self._timeline(
                task.deal,
                "task_completed",
                f"Task completed: {task.title}",
                cause,
                {
                    "task_id": task.id,
                    "result": jsonable(dict(result or {})),
                },
            )
        self._publish(TaskCompleted(task_id=task.id, deal_id=task.deal_id, cause=cause))
        return task

    def _form_answers(self, form: list[Mapping[str, Any]], given: Mapping[str, Any]) -> dict[str, Any]:
        """The answers to a task's form in storage form, or InvalidInput naming every bad field:
        a process reads them as variables, so what it gets must be what the form promised."""
        errors: dict[str, str] = {}
        answers: dict[str, Any] = {}
        names = {f["name"] for f in form}
        for unknown in sorted(set(given) - names):
            errors[unknown] = "is not a field of this task's form"
        for spec in form:
            name, ftype = spec["name"], spec.get("type", "string")
            raw: Any = given.get(name)  # any JSON value: each type's parser below says what is wrong with it
            if values.is_empty(raw) and not (ftype == "bool" and raw is False):
                if spec.get("required", True) and ftype != "bool":
                    errors[name] = "is required"
                answers[name] = False if ftype == "bool" else None
                continue
            try:
                if ftype == "user":
                    ref = int(raw) if isinstance(raw, str) and raw.strip().isdigit() else raw
                    answers[name] = self.user(ref).id
                elif ftype == "text":
                    answers[name] = values.parse_string(raw)
                else:
                    parsed = values.parse_field(ftype, raw, spec.get("options") or ())
                    answers[name] = values.to_json(ftype, parsed)
            except (ValueError, NotFound) as error:
                errors[name] = str(error) if isinstance(error, ValueError) else "is not a known user"
        if errors:
            raise InvalidInput(fields=errors, code="invalid_task_result")
        return answers

    def archive_task(self, task: Task, *, cause: Cause) -> Task:
        """Off the board, done or not; archiving again changes nothing."""
        if task.status == "archived":
            return task
        task.status = "archived"
        if task.deal is not None:
            self._timeline(
                task.deal,
                "task_archived",
                f"Task archived: {task.title}",
                cause,
                {
                    "task_id": task.id,
                },
            )
        self._publish(TaskArchived(task_id=task.id, deal_id=task.deal_id, cause=cause))
        return task

    # --- the feed and comments -----------------------------------------------------------

    def notify(
        self,
        user: User | int | str,
        text: str,
        *,
        deal: Deal | int | None = None,
        kind: str = "info",
        cause: Cause,
    ) -> Notification:
        errors: dict[str, str] = {}
        recipient = resolve_or_error(errors, "user", lambda: self.user(user))
        message = require_text(errors, "text", text)
        target = None if deal is None else resolve_or_error(errors, "deal", lambda: self._deal_of(deal))
        if errors:
            raise InvalidInput(fields=errors, code="invalid_notification")
        assert recipient is not None
        notification = Notification(
            user=recipient, text=message, deal=target, kind=kind or "info", created_at=self.now()
        )
        self.session.add(notification)
        self.session.flush()
        if target is not None:
            self._timeline(
                target,
                "notified",
                f"Notified {recipient.name}: {message}",
                cause,
                {
                    "notification_id": notification.id,
                    "user_id": recipient.id,
                    "kind": notification.kind,
                },
            )
        self._publish(
            NotificationCreated(
                notification_id=notification.id,
                user_id=recipient.id,
                deal_id=notification.deal_id,
                cause=cause,
            )
        )
        return notification

    def notifications(self, user: User | int | str, *, unread_only: bool = False) -> list[Notification]:
        """A user's feed, newest first."""
        recipient = self.user(user)
        query = select(Notification).where(Notification.user_id == recipient.id)
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        return list(self.session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())))

    def mark_read(self, notification: Notification, *, cause: Cause) -> Notification:
        if notification.read_at is None:
            notification.read_at = self.now()
            self.session.flush()
        return notification

    def mark_all_read(self, user: User | int | str, *, cause: Cause) -> int:
        """Empties the unread part of a feed in one statement; the count says how many were unread."""
        recipient = self.user(user)
        # An UPDATE's result is a CursorResult at run time; Session.execute is typed as returning Result.
        result: CursorResult[Any] = self.session.execute(  # type: ignore[assignment]
            update(Notification)
            .where(Notification.user_id == recipient.id, Notification.read_at.is_(None))
            .values(read_at=self.now())
            .execution_options(synchronize_session="fetch")
        )
        self.session.flush()
        return int(result.rowcount or 0)

    def add_comment(self, deal: Deal, text: str, *, cause: Cause) -> TimelineEntry:
        errors: dict[str, str] = {}
        message = require_text(errors, "text", text)
        if errors:
            raise InvalidInput(fields=errors, code="invalid_comment")
        entry = self._timeline(deal, "comment", message, cause)
        self.session.flush()
        return entry

    def add_note(
        self, deal: Deal, kind: str, text: str, *, data: Mapping[str, Any] | None = None, cause: Cause
    ) -> TimelineEntry:
        """An automation's remark on the deal's history that is not a change of the deal itself:
        a message queued or failed, a suspected duplicate. The CRM's own kinds are refused so
        that a history line always means what its kind says."""
        errors: dict[str, str] = {}
        message = require_text(errors, "text", text)
        if not isinstance(kind, str) or not NOTE_KIND.match(kind):
            errors["kind"] = "must be lower-case letters, digits and _"
        elif kind in RESERVED_KINDS:
            errors["kind"] = f"'{kind}' is written by the CRM itself"
        if errors:
            raise InvalidInput(fields=errors, code="invalid_note")
        entry = self._timeline(deal, kind, message, cause, jsonable(dict(data or {})))
        self.session.flush()
        return entry

    def _acting_user_id(self, cause: Cause) -> int | None:
        if cause.kind != "user" or not cause.ref or not cause.ref.isdigit():
            return None
        user = self.session.get(User, int(cause.ref))
        return user.id if user else None


def _zone_of(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
