"""Messages by name: delivering any message a diagram waits for, not only the CRM's events.

A diagram may wait for `bank.decision`, `contract.signed` or any name its designer chose; the
CRM sends only its own event types (`triggers.schemas.SCHEMAS`, through `accept_event`, which
stores them and runs the trigger rules). Every other name comes through here, correlated by the
deal it is about (or none: the instances without a deal), and reaches the processes the way an
event's message does — the latest version of each process whose start event waits for it is
started for the deal, and every instance of the deal waiting for it gets it once.

A message nobody waits for is refused, as Camunda answers a correlation that matches nothing
(400 "no correlation"): a sender that misspells a name or sends too early hears it, instead of
a 202 that silently did nothing. Nothing is written then.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from crm.errors import InvalidInput
from crm.events import Cause
from crm.models import Deal
from dsl.base_error import DealflowError
from engine.collaboration import processes_started_by, signal_wait
from engine.errors import StartRefused
from engine.models import MessageWait
from engine.unit import UnitOfWork
from triggers.schemas import SCHEMAS, is_known, unstorable_text


class NoCorrelation(DealflowError):
    """No process starts by the message and no instance of the deal waits for it; nothing done."""

    code = "no_correlation"
    status = 400


@dataclass
class MessageResult:
    """What one message did: the instances it started and the waiting ones it reached."""

    name: str
    deal_id: int | None
    correlation_key: str | None = None
    started: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return len(self.started) + len(self.resumed)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "deal_id": self.deal_id, "correlation_key": self.correlation_key,
                "delivered": self.delivered,
                "started": self.started, "resumed": self.resumed, "refused": self.refused}


def deliver_message(runtime: UnitOfWork, name: str, deal_id: int | None, payload: Mapping[str, Any],
                    *, cause: Cause, correlation_key: str | None = None) -> MessageResult:
    """Start the processes waiting for `name` at their start and deliver it to the deal's
    waiting instances, in the runtime's transaction. With a `correlation_key` value only the
    instances correlated by it are reached (of that deal, or of any deal when none is given);
    the processes it starts are started for the deal given (or none).

    Raises `InvalidInput` for a CRM event type (those go through the event intake, which
    stores them and runs the rules) or a deal that does not exist, and `NoCorrelation` when
    nothing waits for the message; nothing is written in either case.
    """
    if is_known(name):
        raise InvalidInput(fields={"name": f"{name} is a CRM event: send it to POST /api/v1/events, "
                                           f"which stores it and runs its rules"}, code="invalid_message")
    _accept(runtime, "message", name, deal_id, payload)
    starts = processes_started_by(runtime.session, name)
    query = select(MessageWait.id).where(MessageWait.message == name)
    if deal_id is not None or correlation_key is None:
        query = query.where(MessageWait.deal_id == deal_id)
    if correlation_key is not None:
        query = query.where(MessageWait.correlation == correlation_key)
    waiting = runtime.session.scalar(query.limit(1))
    if not starts and waiting is None:
        whose = f"deal {deal_id}" if deal_id is not None else "no deal"
        if correlation_key is not None:
            whose = (f"deal {deal_id} " if deal_id is not None else "any deal ") + \
                f"correlated by {correlation_key!r}"
        raise NoCorrelation(f"no process starts by message {name!r} and no instance of {whose} waits for it; "
                            f"nothing was delivered",
                            details={"name": name, "deal_id": deal_id, "correlation_key": correlation_key})
    result = MessageResult(name=name, deal_id=deal_id, correlation_key=correlation_key)
    for key in starts:
        try:
            result.started.append(runtime.start(key, deal_id, {}, cause=cause, on_event=name).id)
        except StartRefused as refusal:
            result.refused.append({"process": key, "deal_id": deal_id, "reason": str(refusal)})
    delivered = runtime.send_message(deal_id, name, dict(payload), cause=cause, correlation=correlation_key)
    result.resumed = [i for i in delivered if i not in set(result.started)]
    return result


def deliver_signal(runtime: UnitOfWork, name: str, deal_id: int | None, payload: Mapping[str, Any],
                   *, cause: Cause) -> MessageResult:
    """Broadcast BPMN signal `name` for a deal, as a thrown signal is: every instance of the deal
    waiting for it (catch, boundary, event subprocess start) gets it, and the processes whose
    signal start event waits for it are started for the deal; in the runtime's transaction.

    Raises `InvalidInput` for a deal that does not exist or text no database can store, and
    `NoCorrelation` when nothing waits for the signal; nothing is written in either case.
    """
    _accept(runtime, "signal", name, deal_id, payload)
    wait = signal_wait(name)
    if not processes_started_by(runtime.session, wait) and not runtime.session.scalar(
            select(MessageWait.id).where(MessageWait.message == wait, MessageWait.deal_id == deal_id).limit(1)):
        whose = f"deal {deal_id}" if deal_id is not None else "no deal"
        raise NoCorrelation(f"no process starts by signal {name!r} and no instance of {whose} waits for it; "
                            f"nothing was delivered", details={"name": name, "deal_id": deal_id})
    result = MessageResult(name=name, deal_id=deal_id)
    result.started, result.resumed = runtime.send_signal(deal_id, name, dict(payload), cause=cause)
    return result


def message_warnings(names: Iterable[str]) -> list[dict[str, str]]:
    """What deploy tells the designer about the messages a process waits for: every name that no
    CRM event sends (only POST /api/v1/messages will deliver it), with the CRM event it was
    probably meant to be when it is close to one (`order.payed`). A warning, never a refusal:
    another system may well send that name through the API."""
    warnings = []
    for name in sorted(set(names)):
        if is_known(name):
            continue
        close = difflib.get_close_matches(name, SCHEMAS, n=1, cutoff=0.8)
        hint = f"; did you mean the CRM event {close[0]!r}?" if close else ""
        warnings.append({"message": name,
                         "warning": f"no CRM event is named {name!r}: "
                                    f"only POST /api/v1/messages will deliver it{hint}"})
    return warnings


def _accept(runtime: UnitOfWork, what: str, name: str, deal_id: int | None, payload: Mapping[str, Any]) -> None:
    """Refuse text no database can store and a deal that does not exist (`InvalidInput`, code
    invalid_<what>), then lock the deal: one delivery of a deal at a time, like events."""
    unstorable = unstorable_text({"name": name, "payload": dict(payload)}, path=what)
    if unstorable:
        raise InvalidInput(fields=unstorable, code=f"invalid_{what}")
    if deal_id is not None and runtime.session.get(Deal, deal_id) is None:
        raise InvalidInput(fields={"deal_id": f"deal {deal_id} does not exist"}, code=f"invalid_{what}")
    if deal_id is not None:
        runtime.crm.deal(deal_id, for_update=True)
