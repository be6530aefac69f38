"""Trigger rules: which rule of an automation file an event sets off, and what it does.

A pipeline's triggers are read in pipeline order — rules inside stage blocks by the position
of their stage in the pipeline, then top-level rules in file order — and the first rule whose
condition holds and that can act wins; the rest are not evaluated. Predictable beats clever:
a designer reads the file top to bottom and knows which rule fires.

A stage rule moves the deal to its stage, forward only unless it says `allow_backward`
(moving into another pipeline counts as forward). A matching stage rule that cannot act —
the deal is already there, or the move would go back — is passed over and the next rule is
tried, so "when paid, go to in_processing" does not swallow a later "when paid and shipped,
go to won" once the deal is past in_processing. A top-level rule runs its actions, which
may move the deal themselves.

Every evaluation is returned (and written to the automation log when there is one) with the
values its condition saw, so "why did my trigger not fire?" has an answer.

Automation can feed itself: a rule sets a field, the field change sets off a rule that moves
the deal, its stage robot sets the field again... The unit of work's chain guard
(`engine.unit.ChainGuard`, the same one that bounds robot chains) counts every automated
step; past its limit the rule is stopped and the stop is recorded like an incident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from crm.base import jsonable
from crm.errors import CrmError
from crm.events import Cause
from crm.models import Deal, Stage
from dsl import DslError
from dsl.automation import ActionCall, AutomationFile, Trigger
from engine.failures import classify, describe_seen, is_database_transient
from robots import log as automation_log
from robots.execution import run_actions as robots_run_actions
from robots.execution import values_seen, values_seen_of_actions
from robots.sources import load_automation

if TYPE_CHECKING:
    from engine.unit import UnitOfWork

log = logging.getLogger(__name__)

GLOBAL_SCOPE = "global"

AutomationLookup = Callable[[Session, str], AutomationFile | None]
ActionRunner = Callable[["UnitOfWork", Deal | None, Sequence[ActionCall], Mapping[str, Any], Cause], list[Any]]


@dataclass
class Evaluation:
    """One rule looked at for one event: whether it matched, why, and what it did.

    outcome: "no_match" (condition false), "matched" (it acted and won), "skipped" (matched but
    could not act: already there, or backward), "failed" (condition or action error; nothing it
    wrote stays), "stopped" (loop guard).
    """

    rule: str
    name: str | None
    scope: str
    event: str
    deal_id: int | None
    outcome: str
    reason: str
    matched: bool = False
    seen: dict[str, Any] = field(default_factory=dict)
    target: str | None = None
    moved: dict[str, str] | None = None
    actions: list[Any] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = jsonable(asdict(self))
        return result


# ---------------------------------------------------------------------- finding the parts


def automation_for(session: Session, scope: str) -> AutomationFile | None:
    """The automation file in force for a pipeline code or "global", None if there is none."""
    return load_automation(session, scope)


def ordered_triggers(runtime: UnitOfWork, deal: Deal | None, file: AutomationFile, event_type: str) -> list[Trigger]:
    """The file's rules for this event in the order they are tried (see the module docstring)."""
    staged: list[tuple[int, int, Trigger]] = []
    index = 0
    for block in file.stages:
        for trigger in block.triggers:
            if trigger.event == event_type:
                target = _target_stage(runtime, deal, file, trigger, block.code)
                staged.append((target.sort if target is not None else 1 << 30, index, trigger))
            index += 1
    staged.sort(key=lambda item: (item[0], item[1]))
    top = [t for t in file.triggers if t.event == event_type]
    return [t for _, _, t in staged] + top


# ---------------------------------------------------------------------- applying


def apply_triggers(
    runtime: UnitOfWork,
    deal: Deal | None,
    event_type: str,
    payload: Mapping[str, Any],
    file: AutomationFile | None,
    cause: Cause,
    *,
    run_actions: ActionRunner | None = None,
    source: str | None = None,
) -> list[Evaluation]:
    """Try `file`'s rules for this event on `deal` (None for the global rules) until one acts.

    `source` (who sent the event) is handed to the actions as `event_source`: an order's deal
    is keyed by it and the order number."""
    if file is None:
        return []
    runner = run_actions or robots_run_actions
    crm = runtime.crm
    env = {"deal": crm.record(deal) if deal is not None else None, "event": dict(payload), "event_source": source}
    now = runtime.clock.now()
    stage_of = {trigger.key: block.code for block in file.stages for trigger in block.triggers}
    evaluations: list[Evaluation] = []
    for trigger in ordered_triggers(runtime, deal, file, event_type):
        evaluation = Evaluation(rule=trigger.key, name=trigger.name, scope=file.scope, event=event_type,
                                deal_id=deal.id if deal is not None else None, outcome="no_match", reason="")
        evaluations.append(evaluation)
        block_code = stage_of.get(trigger.key)
        if not _condition_holds(trigger, env, now, evaluation):
            _record(runtime, evaluation, block_code)
            continue
        evaluation.matched = True
        target = None
        if block_code is not None or trigger.target_stage is not None:
            target = _target_stage(runtime, deal, file, trigger, block_code)
            if not _can_move(deal, trigger, target, evaluation):
                _record(runtime, evaluation, block_code)
                continue
        steps = runtime.chain.steps_on(evaluation.deal_id, cause.chain)
        if runtime.chain.stops(steps):
            evaluation.outcome = "stopped"
            evaluation.reason = (f"loop guard: {steps} automated steps in a row without a person "
                                 f"({' → '.join(cause.chain[-4:])}); the rule did not run")
            log.warning("trigger %s stopped on deal %s: %s", trigger.key, evaluation.deal_id, evaluation.reason)
            _record(runtime, evaluation, block_code)
            return evaluations
        runtime.chain.count(evaluation.deal_id, cause)
        rule_cause = Cause("trigger", trigger.key, trigger.name or trigger.key,
                           (*cause.chain, f"trigger:{trigger.key}"))
        _act(runtime, deal, trigger, target, env, rule_cause, runner, evaluation)
        _record(runtime, evaluation, block_code)
        return evaluations
    return evaluations


def _condition_holds(trigger: Trigger, env: Mapping[str, Any], now: datetime, evaluation: Evaluation) -> bool:
    if trigger.condition is None:
        evaluation.reason = "no condition"
        return True
    evaluation.seen = values_seen(trigger.condition, env, now)
    try:
        holds = bool(trigger.condition.evaluate(env, now))
    except DslError as err:
        evaluation.outcome = "failed"
        evaluation.reason = f"its condition could not be evaluated: {err}"
        return False
    evaluation.reason = f"the condition {trigger.condition.text} was {'true' if holds else 'false'}"
    return holds


def _can_move(deal: Deal | None, trigger: Trigger, target: Stage | None, evaluation: Evaluation) -> bool:
    if deal is None or target is None:
        evaluation.outcome = "failed"
        evaluation.reason = ("a stage rule needs a deal" if deal is None
                             else f"its stage {trigger.target_stage!r} does not exist")
        return False
    evaluation.target = target.ref
    if target.id == deal.stage_id:
        evaluation.outcome, evaluation.reason = "skipped", f"the deal is already on {target.ref}"
        return False
    backward = target.pipeline_id == deal.pipeline_id and target.sort < deal.stage.sort
    if backward and not trigger.allow_backward:
        evaluation.outcome = "skipped"
        evaluation.reason = f"{target.ref} is behind {deal.stage.ref}; the rule moves forward only"
        return False
    return True


def _act(runtime: UnitOfWork, deal: Deal | None, trigger: Trigger, target: Stage | None, env: Mapping[str, Any],
         cause: Cause, runner: ActionRunner, evaluation: Evaluation) -> None:
    """Move and run the actions as one piece: if any of it fails, none of it stays.

    A transient failure of the database (a deadlock, a lock timeout, a dropped connection,
    a lost race for an order's deal: engine.failures) is raised on: the whole event rolls back
    and is answered 503 or run again, so the sender's retry with the same key applies it —
    recording it as a failed rule would mark the event processed and lose it for good. Any
    other failure is the rule's: it is recorded as failed, the event is accepted (a retry by
    the sender could not fix a rule) and can be replayed once the rule is fixed."""
    before = deal.stage.ref if deal is not None else None
    try:
        with runtime.session.begin_nested():
            if target is not None and deal is not None:
                runtime.crm.move_deal(deal, target, cause=cause)
            if trigger.actions:
                evaluation.actions = list(runner(runtime, deal, trigger.actions, env, cause))
    except Exception as err:
        if is_database_transient(err):
            raise
        if classify(err) != "deterministic":
            log.exception("trigger %s failed on deal %s", trigger.key, evaluation.deal_id)
        seen = describe_seen(values_seen_of_actions(trigger, env, runtime.clock.now())) \
            if isinstance(err, DslError) else ""
        evaluation.outcome = "failed"
        evaluation.reason = (f"{evaluation.reason}; its actions failed: {type(err).__name__}: {err}"
                             + (f" ({seen})" if seen else ""))
        evaluation.actions = []
        return
    evaluation.outcome = "matched"
    after = deal.stage.ref if deal is not None else None
    if before is not None and after is not None and after != before:
        evaluation.moved = {"from": before, "to": after}
    done = f"moved the deal to {after}" if evaluation.moved else "ran its actions"
    evaluation.reason = f"{evaluation.reason}; {done}"


# ---------------------------------------------------------------------- helpers


def _target_stage(runtime: UnitOfWork, deal: Deal | None, file: AutomationFile, trigger: Trigger,
                  block_code: str | None) -> Stage | None:
    ref = trigger.target_stage or block_code
    if ref is None:
        return None
    pipeline = deal.pipeline if deal is not None and file.scope == GLOBAL_SCOPE else file.scope
    try:
        return runtime.crm.stage(ref, pipeline)
    except CrmError:
        return None


def _record(runtime: UnitOfWork, evaluation: Evaluation, stage: str | None) -> None:
    """Into the automation log, next to the robots' entries of the same deal."""
    automation_log.record(
        runtime.session, runtime.clock, deal_id=evaluation.deal_id, kind="trigger", key=evaluation.rule,
        scope=evaluation.scope, stage=stage, name=evaluation.name, outcome=evaluation.outcome,
        reason=evaluation.reason, detail={
            "event": evaluation.event, "seen": evaluation.seen, "target": evaluation.target,
            "moved": evaluation.moved, "actions": jsonable(evaluation.actions),
        })
