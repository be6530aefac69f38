"""`ActionCrm`: the part of the CRM service an action may use, as `ctx.crm`.

`crm.service.Crm` is dealflow's whole CRM: sessions, locks, process links, helpers that
change with the engine. An action written outside dealflow needs a small part of it that
stays put, so `ctx.crm` is this facade: every method here is stable, typed and documented
(docs/action-api.md is generated from these docstrings), and nothing else is reachable.

A call the surface does not have, or with arguments its signature does not take (the
guessed `ctx.crm.set_fields(deal, fields, cause)`), raises `ActionApiError` before
anything runs. `engine.failures` classifies it as deterministic: the robot is logged as
failed once and a BPMN step becomes an incident at once, with a message that names the
method and its signature, instead of being retried as if the fault were passing.

All writes run in the caller's transaction, are validated before anything is written
(bad input raises `crm.errors.InvalidInput`, which the action registry reports as
`ActionInputError`), get a timeline entry naming `cause`, and commit or roll back with the
robot, trigger or process step that called the action.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from crm.events import Cause

if TYPE_CHECKING:
    from crm.models import Contact, Deal, Department, Lead, Notification, Pipeline, Stage, Task, TimelineEntry, User
    from crm.service import Crm

F = TypeVar("F", bound=Callable[..., Any])


class ActionApiError(Exception):
    """An action used the author API wrongly: a bug in the action, the same on every run."""


class ActionCallError(ActionApiError, TypeError):
    """A method of `ctx.crm` was called with arguments its signature does not take."""


class UnknownActionApi(ActionApiError, AttributeError):
    """`ctx.crm` has no such method: it is not part of the author API."""


def surface(method: F) -> F:
    """Marks a method as part of the author API and checks each call against its signature
    first, so a wrong call names the method and how to call it instead of failing inside."""
    signature = inspect.signature(method)

    @functools.wraps(method)
    def checked(self: ActionCrm, *args: Any, **kwargs: Any) -> Any:
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as err:
            raise ActionCallError(f"ctx.crm.{method.__name__}{_public(signature)}: {err}") from None
        return method(self, *args, **kwargs)

    checked.__action_api__ = True  # type: ignore[attr-defined]
    return checked  # type: ignore[return-value]


def _public(signature: inspect.Signature) -> str:
    return signature_text(signature.replace(parameters=list(signature.parameters.values())[1:]))


class _Written:
    """An annotation shown as written in the source (they are strings here: `from __future__ import annotations`)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def signature_text(signature: inspect.Signature) -> str:
    """`(deal: Deal, *, cause: Cause) -> bool`, annotations as written, without quotes."""

    def written(annotation: Any) -> Any:
        return _Written(annotation) if isinstance(annotation, str) else annotation

    parameters = [p.replace(annotation=written(p.annotation)) for p in signature.parameters.values()]
    return str(signature.replace(parameters=parameters, return_annotation=written(signature.return_annotation)))


class ActionCrm:
    """What an action may read and write in the CRM (`ctx.crm`); see the module docstring."""

    __slots__ = ("_crm",)

    def __init__(self, crm: Crm) -> None:
        self._crm = crm

    if not TYPE_CHECKING:  # a type checker should see only the methods below, and flag any other name

        def __getattr__(self, name: str) -> Any:
            if name.startswith("__"):
                raise AttributeError(name)
            raise UnknownActionApi(f"ctx.crm has no {name!r}; the action API offers: "
                                   f"{', '.join(surface_names())} (docs/action-api.md)")

    def __repr__(self) -> str:
        return "<ActionCrm: the CRM as an action sees it>"

    # --- reads ---------------------------------------------------------------------------

    @surface
    def now(self) -> datetime:
        """The current time of dealflow's clock (virtual in tests and the test bench): use it
        instead of `datetime.now()` so an action behaves the same under a moved clock."""
        return self._crm.now()

    @surface
    def deal(self, deal_id: int) -> Deal:
        """The deal with this id; `crm.errors.NotFound` if there is none."""
        return self._crm.deal(deal_id)

    @surface
    def field_value(self, deal: Deal, code: str) -> Any:
        """A custom field of the deal in its Python form (a date as `date`, money as
        `Decimal`, a user field as the user's id), None when unset; `NotFound` if the deal's
        pipeline has no such field. Core attributes are read from the deal itself
        (`deal.title`, `deal.amount`, `deal.stage.code`, `deal.responsible`)."""
        return self._crm.field_value(deal, code)

    @surface
    def missing_fields(self, deal: Deal, codes: Iterable[str]) -> list[str]:
        """The codes among `codes` that are empty on the deal (core or custom); an unknown
        code counts as empty."""
        return self._crm.missing_fields(deal, codes)

    @surface
    def timeline(self, deal: Deal) -> list[TimelineEntry]:
        """The deal's history, oldest first: each entry has `kind`, `text`, `at`, `data` and
        the cause that wrote it."""
        return self._crm.timeline(deal)

    @surface
    def deals_with_field(self, code: str, value: str, *, limit: int = 20) -> list[Deal]:
        """Deals whose custom field `code` holds `value` (an outside order id, say), oldest first."""
        return self._crm.deals_with_field(code, value, limit=limit)

    @surface
    def user(self, ref: User | int | str) -> User:
        """A user by id or login; `NotFound` if there is none."""
        return self._crm.user(ref)

    @surface
    def users(self, *, role: str | None = None, department: Department | int | str | None = None,
              present: bool | None = None, active: bool | None = True) -> list[User]:
        """Users in login order (a stable order for round-robin choices), filtered by role,
        department, presence and whether they are active."""
        return self._crm.users(role=role, department=department, present=present, active=active)

    @surface
    def department(self, ref: Department | int | str) -> Department:
        """A department by id or code; `NotFound` if there is none."""
        return self._crm.department(ref)

    @surface
    def pipeline(self, code: str) -> Pipeline:
        """A pipeline by code (`main`, `credit`, ...); `NotFound` if there is none."""
        return self._crm.pipeline(code)

    @surface
    def stage(self, ref: Stage | str, pipeline: Pipeline | str | None = None) -> Stage:
        """A stage: "credit.documents" anywhere, or "documents" within `pipeline`."""
        return self._crm.stage(ref, pipeline)

    @surface
    def contact(self, ref: Contact | int) -> Contact:
        """A contact by id; `NotFound` if there is none."""
        return self._crm.contact(ref)

    @surface
    def find_contact(self, *, phone: str | None = None, email: str | None = None) -> Contact | None:
        """The oldest contact with this phone (however it is written), else with this email; None."""
        return self._crm.find_contact(phone=phone, email=email)

    @surface
    def find_contacts(self, *, phones: Iterable[str] = (), emails: Iterable[str] = ()) -> list[Contact]:
        """Every contact sharing any of these phones or emails."""
        return self._crm.find_contacts(phones=phones, emails=emails)

    @surface
    def task(self, task_id: int) -> Task:
        """A task by id; `NotFound` if there is none."""
        return self._crm.task(task_id)

    # --- writes --------------------------------------------------------------------------

    @surface
    def set_fields(self, deal: Deal, values: Mapping[str, Any], *, cause: Cause) -> dict[str, tuple[Any, Any]]:
        """Set core attributes (`title`, `amount`, `currency`, `responsible`, `contact`,
        `department`, `source`, `products`) and custom fields at once: all valid or nothing
        written. Returns the real changes, code -> (old, new); unchanged values are left out
        and, if nothing changed, nothing is written."""
        return self._crm.set_fields(deal, values, cause=cause)

    @surface
    def move_deal(self, deal: Deal, stage: Stage | str, *, cause: Cause, loss_reason: str | None = None) -> bool:
        """Move the deal to a stage ("won", "credit.new"); False (nothing written) if it is
        there already. The stage's gate applies: missing required fields raise
        `crm.errors.StageGateRefused`. `loss_reason` is one of the pipeline's reasons."""
        return self._crm.move_deal(deal, stage, cause=cause, loss_reason=loss_reason)

    @surface
    def create_deal(self, *, title: str, pipeline: Pipeline | str = "main", stage: Stage | str | None = None,
                    amount: Any = 0, currency: str = "RUB", responsible: User | int | str | None = None,
                    contact: Contact | int | None = None, department: Department | int | str | None = None,
                    source: str | None = None, products: Sequence[Mapping[str, Any]] = (),
                    fields: Mapping[str, Any] | None = None, cause: Cause) -> Deal:
        """A new deal in `stage` (the pipeline's start stage if None), with core attributes,
        products `[{name, qty, price, ...}]` and custom `fields` validated as `set_fields` does."""
        return self._crm.create_deal(title=title, pipeline=pipeline, stage=stage, amount=amount, currency=currency,
                                     responsible=responsible, contact=contact, department=department, source=source,
                                     products=products, fields=fields, cause=cause)

    @surface
    def copy_deal(self, deal: Deal, *, stage: Stage | str | None = None, pipeline: Pipeline | str = "main",
                  title: str | None = None, cause: Cause) -> Deal:
        """A new deal for the same client (a repeat sale): contact, responsible, department,
        amount, products and the custom fields the target pipeline knows are copied, and both
        timelines point at each other."""
        return self._crm.copy_deal(deal, stage=stage, pipeline=pipeline, title=title, cause=cause)

    @surface
    def find_or_create_contact(self, *, name: str | None, phone: str | None = None, email: str | None = None,
                               cause: Cause) -> Contact:
        """The known client with this phone or email, or a new contact."""
        return self._crm.find_or_create_contact(name=name, phone=phone, email=email, cause=cause)

    @surface
    def create_lead(self, *, title: str, name: str | None = None, phone: str | None = None,
                    email: str | None = None, source: str | None = None,
                    responsible: User | int | str | None = None, department: Department | int | str | None = None,
                    data: Mapping[str, Any] | None = None, cause: Cause) -> Lead:
        """A new lead (an enquiry not yet a deal)."""
        return self._crm.create_lead(title=title, name=name, phone=phone, email=email, source=source,
                                     responsible=responsible, department=department, data=data, cause=cause)

    @surface
    def create_task(self, *, title: str, description: str = "", deal: Deal | int | None = None,
                    assignee: User | int | str | None = None, group: str | None = None, column: str = "new",
                    deadline: datetime | str | None = None, data: Mapping[str, Any] | None = None,
                    cause: Cause) -> Task:
        """A task on a person's (`assignee`) or a group's board, linked to `deal`; `column` is
        the board column it starts in."""
        return self._crm.create_task(title=title, description=description, deal=deal, assignee=assignee,
                                     group=group, column=column, deadline=deadline, data=data, cause=cause)

    @surface
    def complete_task(self, task: Task, *, cause: Cause, result: Mapping[str, Any] | None = None) -> Task:
        """Mark the task done, once: completing it again raises `crm.errors.Conflict`."""
        return self._crm.complete_task(task, cause=cause, result=result)

    @surface
    def archive_task(self, task: Task, *, cause: Cause) -> Task:
        """Take the task off the board, done or not; archiving again changes nothing."""
        return self._crm.archive_task(task, cause=cause)

    @surface
    def add_comment(self, deal: Deal, text: str, *, cause: Cause) -> TimelineEntry:
        """A comment on the deal's timeline, as a person would write it."""
        return self._crm.add_comment(deal, text, cause=cause)

    @surface
    def add_note(self, deal: Deal, kind: str, text: str, *, data: Mapping[str, Any] | None = None,
                 cause: Cause) -> TimelineEntry:
        """An automation's remark on the deal's history (`kind` in lower_case, not one of the
        CRM's own kinds such as `field_changed`), with optional JSON `data`."""
        return self._crm.add_note(deal, kind, text, data=data, cause=cause)

    @surface
    def notify(self, user: User | int | str, text: str, *, deal: Deal | int | None = None, kind: str = "info",
               cause: Cause) -> Notification:
        """A notification in the user's feed (`kind` "info" or "warning"), noted on the deal's
        timeline when `deal` is given."""
        return self._crm.notify(user, text, deal=deal, kind=kind, cause=cause)


def surface_names() -> list[str]:
    """The methods of the author API, in the order they are documented."""
    return [name for name, value in vars(ActionCrm).items() if getattr(value, "__action_api__", False)]
