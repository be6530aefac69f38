"""Stage robots: scheduled when a deal enters a stage, cancelled when it leaves, fired as jobs.

Every robot waiting to fire is a row in the engine's jobs table (kind "robot"), so a restart
loses nothing and the cost of a million waiting robots is a million rows, not memory. A
robot's condition is checked when it fires, with the values it saw written to the
automation log, which records every decision with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm.clock import as_utc
from crm.events import Cause, DealCreated, DealFieldsChanged, DealMoved
from dsl import DslError
from dsl.automation import ActionCall, AutomationFile, Chain, Robot, StageBlock
from engine.failures import classify, describe_seen, is_database_transient
from engine.jobs import lock_job
from engine.models import Job
from robots import log as automation_log
from robots.calendar import at_time_of_day, next_working_moment
from robots.execution import bind, run_actions, values_seen, values_seen_of_actions
from robots.sources import load_automation

if TYPE_CHECKING:
    from crm.models import Deal
    from engine.unit import UnitOfWork

logger = logging.getLogger(__name__)

ROBOT_JOB = "robot"
WAIT_ACTION = "wait_for_event"
LIVE = ("pending", "waiting")

# What robots react to is listed in the app's subscription table (api/subscriptions.py):
# deal_created, deal_moved and fields_changed below, and `fire` for jobs of kind "robot".
# A chain of automated moves is bounded by the unit of work's chain guard (engine.unit).


# ---------------------------------------------------------------------- entering and leaving


def deal_created(rt: UnitOfWork, event: DealCreated) -> None:
    """A deal was created: the robots of its first stage are scheduled."""
    _on_entered(rt, event.deal_id, event.cause)


def deal_moved(rt: UnitOfWork, event: DealMoved) -> None:
    """A deal moved: the old stage's waiting robots are cancelled, the new stage's scheduled."""
    deal = rt.crm.deal(event.deal_id)
    cancel_pending(rt, event.deal_id, f"the deal moved to {deal.pipeline.code}.{deal.stage.code} before it ran")
    _on_entered(rt, event.deal_id, event.cause)


def _on_entered(rt: UnitOfWork, deal_id: int, cause: Cause) -> None:
    deal = rt.crm.deal(deal_id)
    automation = load_automation(rt.session, deal.pipeline.code)
    block = automation.stage(deal.stage.code) if automation else None
    if automation is None or block is None:
        return
    schedule_stage(rt, deal, automation, block, cause)


def schedule_stage(rt: UnitOfWork, deal: Deal, automation: AutomationFile, block: StageBlock, cause: Cause) -> None:
    """Schedule the first step of every chain of `block` for a deal that just entered it."""
    if not block.enabled:
        automation_log.record(rt.session, rt.clock, deal_id=deal.id, kind="robot", key=f"{block.code}.*",
                              scope=automation.scope, stage=block.code, outcome="skipped",
                              reason=f"robots are switched off for stage {block.code}")
        return
    entered = deal.stage_entered_at
    for chain in block.chains:
        _schedule_step(rt, deal, automation.scope, block.code, chain.steps[0], base=entered,
                       chain=cause.chain, entered_at=entered)


def cancel_pending(rt: UnitOfWork, deal_id: int, reason: str) -> int:
    jobs = rt.session.scalars(
        select(Job).where(Job.deal_id == deal_id, Job.kind == ROBOT_JOB, Job.status.in_(LIVE))
    ).all()
    now = rt.clock.now()
    for job in jobs:
        job.status, job.finished_at = "cancelled", now
        automation_log.record(rt.session, rt.clock, deal_id=deal_id, kind="robot", key=job.payload["key"],
                              scope=job.payload["scope"], stage=job.payload["stage"], outcome="cancelled",
                              reason=reason, job_id=job.id)
    return len(jobs)


def apply_to_deals_on_stage(rt: UnitOfWork, scope: str, stage: str, cause: Cause) -> int:
    """Run a stage's (changed) robots for the deals already on it — only when asked to."""
    from crm.models import Deal

    automation = load_automation(rt.session, scope)
    block = automation.stage(stage) if automation else None
    if automation is None or block is None:
        return 0
    stage_row = rt.crm.stage(f"{scope}.{stage}")
    deals = rt.session.scalars(select(Deal).where(Deal.stage_id == stage_row.id)).all()
    for deal in deals:
        cancel_pending(rt, deal.id, "the stage's robots were re-applied")
        schedule_stage(rt, deal, automation, block, cause)
    return len(deals)


# ---------------------------------------------------------------------- when a robot fires


def _schedule_step(rt: UnitOfWork, deal: Deal, scope: str, stage: str, robot: Robot, *, base: datetime,
                   chain: Iterable[str], entered_at: datetime, attempt: int = 0) -> Job:
    env = {"deal": rt.crm.record(deal)}
    payload = {
        "scope": scope, "stage": stage, "key": robot.key, "base": base.isoformat(),
        "entered_at": entered_at.isoformat(), "chain": list(chain), "attempt": attempt,
        "paths": sorted(_delay_paths(robot)),
    }
    job = Job(kind=ROBOT_JOB, status="pending", due_at=base, deal_id=deal.id, element_id=robot.key,
              payload=payload, created_at=rt.clock.now())
    rt.session.add(job)
    _plan(rt, deal, robot, job, env)
    return job


def _plan(rt: UnitOfWork, deal: Deal, robot: Robot, job: Job, env: dict[str, Any]) -> None:
    """Set the job's due time from the robot's delay, or park it until a date field is set."""
    base = datetime.fromisoformat(job.payload["base"])
    log_args = {"deal_id": deal.id, "kind": "robot", "key": robot.key, "scope": job.payload["scope"],
                "stage": job.payload["stage"], "name": robot.name}
    try:
        due = due_time(robot, base, env, rt.clock.now(), deal, rt.engine.timezone)
    except (DslError, ValueError, TypeError) as err:
        job.status, job.finished_at = "failed", rt.clock.now()
        rt.session.flush()
        automation_log.record(rt.session, rt.clock, outcome="failed", reason=f"its time cannot be computed: {err}",
                              job_id=job.id, **log_args)
        return
    if due is None:
        job.status = "waiting"
        rt.session.flush()
        automation_log.record(rt.session, rt.clock, outcome="waiting",
                              reason=f"waiting for {', '.join(job.payload['paths']) or 'its date'} to be set",
                              job_id=job.id, **log_args)
        return
    job.status, job.due_at = "pending", due
    rt.session.flush()
    now = rt.clock.now()
    when = "now" if due <= now else f"at {due.isoformat()}"
    automation_log.record(rt.session, rt.clock, outcome="scheduled", reason=f"runs {when}",
                          detail={"due_at": due}, job_id=job.id, **log_args)
    if due <= now:
        job_id = job.id
        rt.defer(lambda: _fire_now(rt, job_id))


def due_time(robot: Robot, base: datetime, env: dict[str, Any], now: datetime, deal: Deal,
             tz: ZoneInfo) -> datetime | None:
    """When `robot` should fire, counted from `base`; None while the date it waits for is empty."""
    delay = robot.delay
    due = base
    if delay.kind == "after" and delay.amount is not None:
        amount = delay.amount.evaluate(env, now)
        if not isinstance(amount, timedelta):
            raise ValueError(f"'after' needs a duration such as 2d, got {amount!r}")
        due = base + amount
    elif delay.kind == "at" and delay.moment is not None:
        try:
            moment = delay.moment.evaluate(env, now)
        except DslError:
            # `deal.ready_date - 2h` with no date yet: wait for the field rather than fail.
            if any(value is None for value in values_seen(delay.moment, env, now).values()):
                return None
            raise
        if moment is None:
            return None
        due = _as_moment(moment, tz)
    if delay.time_of_day is not None:
        due = at_time_of_day(due, delay.time_of_day, tz)
    if delay.working_hours == "company":
        due = next_working_moment(due, None, tz)
    elif delay.working_hours == "responsible":
        user = deal.responsible
        hours = user.working_hours if user is not None else None
        due = next_working_moment(due, hours, _zone(user.timezone, tz) if user is not None else tz)
    return due


def _zone(name: str | None, company: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return company


def _as_moment(value: Any, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tz).astimezone(UTC)
    raise ValueError(f"'at' needs a date or a date and time, got {value!r}")


def _delay_paths(robot: Robot) -> set[str]:
    paths: set[str] = set()
    for expression in (robot.delay.amount, robot.delay.moment):
        if expression is not None:
            paths |= set(expression.paths)
    return paths


def _fire_now(rt: UnitOfWork, job_id: int) -> None:
    job = lock_job(rt.session, job_id)
    if job is None:
        return
    job.status, job.finished_at = "done", rt.clock.now()
    fire(rt, job)


def fire(rt: UnitOfWork, job: Job) -> None:
    """The job handler: check the deal is still where the robot belongs, then run it."""
    payload = job.payload
    log_args = {"deal_id": job.deal_id, "kind": "robot", "key": payload["key"], "scope": payload["scope"],
                "stage": payload["stage"], "job_id": job.id}
    if job.deal_id is None:  # every robot job is scheduled for a deal (schedule_stage, retries)
        raise ValueError(f"robot job {job.id} names no deal")
    deal = rt.crm.deal(job.deal_id)
    if (deal.pipeline.code, deal.stage.code) != (payload["scope"], payload["stage"]) or \
            deal.stage_entered_at.isoformat() != payload["entered_at"]:
        automation_log.record(rt.session, rt.clock, outcome="cancelled",
                              reason="the deal is no longer on the stage it was scheduled for", **log_args)
        return
    automation = load_automation(rt.session, payload["scope"])
    block = automation.stage(payload["stage"]) if automation else None
    located = _locate(block, payload["key"]) if block else None
    if located is None or block is None:
        automation_log.record(rt.session, rt.clock, outcome="cancelled",
                              reason="the robot no longer exists in the stage's automation", **log_args)
        return
    if not block.enabled:
        automation_log.record(rt.session, rt.clock, outcome="skipped",
                              reason=f"robots are switched off for stage {block.code}", **log_args)
        return
    chain, step = located
    robot = chain.steps[step]
    log_args["name"] = robot.name
    chain_keys = tuple(payload.get("chain", ()))
    if rt.chain.stops(len(chain_keys)):
        automation_log.record(rt.session, rt.clock, outcome="stopped",
                              reason=f"loop guard: {len(chain_keys)} automated steps in a row without a person "
                                     f"({' → '.join(chain_keys[-4:])}); move the deal by hand to go on",
                              detail={"chain": list(chain_keys)}, **log_args)
        return
    env = {"deal": rt.crm.record(deal)}
    now = rt.clock.now()
    if robot.condition is not None:
        seen = values_seen(robot.condition, env, now)
        try:
            passed = bool(robot.condition.evaluate(env, now))
        except DslError as err:
            automation_log.record(rt.session, rt.clock, outcome="failed",
                                  reason=f"its condition could not be evaluated: {err}", detail={"seen": seen},
                                  **log_args)
            return
        if not passed:
            automation_log.record(rt.session, rt.clock, outcome="skipped",
                                  reason=f"the condition {robot.condition.text} was false",
                                  detail={"seen": seen}, **log_args)
            return
    if payload.get("wait_event") and not payload.get("event_arrived"):
        automation_log.record(rt.session, rt.clock, outcome="skipped",
                              reason=f"gave up waiting for {payload['wait_event']}; the chain stops here", **log_args)
        return
    cause = Cause("robot", robot.key, robot.name or robot.key, (*chain_keys, robot.key))
    try:
        actions, wait = _split_wait(robot.actions)
    except ValueError as err:
        automation_log.record(rt.session, rt.clock, outcome="failed", reason=str(err), **log_args)
        return
    try:
        with rt.session.begin_nested():
            results = run_actions(rt, deal, actions, env, cause)
            waiting = _wait_args(rt, wait, env, now) if wait is not None else None
    except Exception as err:  # an action failed: nothing it wrote stays; retry, then give up
        if is_database_transient(err):  # the transaction is doomed: the job's retry runs it all again
            raise
        _failed(rt, deal, job, robot, err, log_args)
        return
    automation_log.record(rt.session, rt.clock, outcome="ran", reason="ran its actions",
                          detail={"results": results}, **log_args)
    if step + 1 < len(chain.steps) and _still_on_stage(rt, deal, payload):
        following = chain.steps[step + 1]
        if waiting is None:
            _schedule_step(rt, deal, payload["scope"], payload["stage"], following, base=now,
                           chain=chain_keys, entered_at=deal.stage_entered_at)
        else:
            _wait_for(rt, deal, payload, following, chain_keys, *waiting)


def _split_wait(actions: tuple[ActionCall, ...]) -> tuple[tuple[ActionCall, ...], ActionCall | None]:
    """A chain step ending in wait_for_event(...): its actions, and the wait."""
    if actions and actions[-1].name == WAIT_ACTION:
        return actions[:-1], actions[-1]
    if any(a.name == WAIT_ACTION for a in actions):
        raise ValueError("wait_for_event must be the last action of its step")
    return actions, None


def _wait_args(rt: UnitOfWork, call: ActionCall, env: dict[str, Any], now: datetime) -> tuple[str, timedelta | None]:
    params = bind(rt.engine.actions, call, env, now)
    timeout = params.get("timeout")
    if timeout is not None and not isinstance(timeout, timedelta):
        raise ValueError(f"wait_for_event's timeout must be a duration such as 2d, not {timeout!r}")
    return str(params["event"]), timeout


def _wait_for(rt: UnitOfWork, deal: Deal, payload: dict[str, Any], robot: Robot, chain: tuple[str, ...],
              event: str, timeout: timedelta | None) -> None:
    """Park the next step until `event` arrives for the deal (see `event_arrived`)."""
    now = rt.clock.now()
    job = Job(kind=ROBOT_JOB, status="pending" if timeout else "waiting", due_at=now + (timeout or timedelta(0)),
              deal_id=deal.id, element_id=robot.key, created_at=now,
              payload={"scope": payload["scope"], "stage": payload["stage"], "key": robot.key,
                       "base": now.isoformat(), "entered_at": payload["entered_at"], "chain": list(chain),
                       "attempt": 0, "paths": sorted(_delay_paths(robot)), "wait_event": event})
    rt.session.add(job)
    rt.session.flush()
    until = f" until {job.due_at.isoformat()}" if timeout else ""
    automation_log.record(rt.session, rt.clock, deal_id=deal.id, kind="robot", key=robot.key,
                          scope=payload["scope"], stage=payload["stage"], name=robot.name, outcome="waiting",
                          reason=f"waiting for {event}{until}", job_id=job.id)


def event_arrived(rt: UnitOfWork, deal_id: int, event_type: str) -> int:
    """Release the chain steps of this deal waiting for `event_type`; they run after their own delay."""
    jobs = [j for j in rt.session.scalars(
        select(Job).where(Job.deal_id == deal_id, Job.kind == ROBOT_JOB, Job.status.in_(LIVE)))
        if j.payload.get("wait_event") == event_type and not j.payload.get("event_arrived")]
    if not jobs:
        return 0
    deal = rt.crm.deal(deal_id)
    automation = load_automation(rt.session, deal.pipeline.code)
    for job in jobs:
        job.payload = {**job.payload, "event_arrived": True, "base": rt.clock.now().isoformat()}
        block = automation.stage(job.payload["stage"]) if automation else None
        located = _locate(block, job.payload["key"]) if block else None
        if located is None:
            job.status = "cancelled"
            continue
        chain, step = located
        _plan(rt, deal, chain.steps[step], job, {"deal": rt.crm.record(deal)})
    return len(jobs)


def _failed(rt: UnitOfWork, deal: Deal, job: Job, robot: Robot, err: Exception, log_args: dict[str, Any]) -> None:
    """Retry with backoff, unless the failure is deterministic (engine.failures): refused input,
    a refused address, a dsl error on an empty field fail the same way every time, so they are
    logged once, with the values the robot saw, as BPMN makes them an incident at once."""
    attempt = int(job.payload.get("attempt", 0)) + 1
    if classify(err) == "deterministic":
        seen = describe_seen(values_seen_of_actions(robot, {"deal": rt.crm.record(deal)}, rt.clock.now()))
        reason = f"{err}; {seen}; not retried" if seen and isinstance(err, DslError) else f"{err}; not retried"
        automation_log.record(rt.session, rt.clock, outcome="failed", reason=reason, **log_args)
        return
    message = f"{type(err).__name__}: {err}"
    retry_at = rt.engine.retry.next_attempt(attempt, rt.clock.now())
    if retry_at is not None:
        automation_log.record(rt.session, rt.clock, outcome="failed",
                              reason=f"{message}; retrying at {retry_at.isoformat()}", **log_args)
        rt.session.add(Job(kind=ROBOT_JOB, status="pending", due_at=retry_at, deal_id=job.deal_id,
                           element_id=job.element_id, payload={**job.payload, "attempt": attempt},
                           last_error=message, attempts=attempt, created_at=rt.clock.now()))
        return
    automation_log.record(rt.session, rt.clock, outcome="failed",
                          reason=f"{message}; gave up after {attempt} attempts", **log_args)


def _still_on_stage(rt: UnitOfWork, deal: Deal, payload: dict[str, Any]) -> bool:
    rt.session.refresh(deal)
    return (deal.pipeline.code, deal.stage.code) == (payload["scope"], payload["stage"]) and \
        deal.stage_entered_at.isoformat() == payload["entered_at"]


def _locate(block: StageBlock, key: str) -> tuple[Chain, int] | None:
    for chain in block.chains:
        for index, robot in enumerate(chain.steps):
            if robot.key == key:
                return chain, index
    return None


# ---------------------------------------------------------------------- date fields move


def fields_changed(rt: UnitOfWork, event: DealFieldsChanged) -> None:
    """A deal field changed: robots waiting on a date field follow the field."""
    changed = {f"deal.{name}" for name in event.changes}
    jobs = [j for j in rt.session.scalars(
        select(Job).where(Job.deal_id == event.deal_id, Job.kind == ROBOT_JOB, Job.status.in_(LIVE)))
        if changed & set(j.payload.get("paths", ()))]
    if not jobs:
        return
    deal = rt.crm.deal(event.deal_id)
    automation = load_automation(rt.session, deal.pipeline.code)
    for job in jobs:
        if job.payload.get("wait_event") and not job.payload.get("event_arrived"):
            continue  # its time starts when the event arrives
        block = automation.stage(job.payload["stage"]) if automation else None
        located = _locate(block, job.payload["key"]) if block else None
        if located is None:
            continue
        chain, step = located
        _plan(rt, deal, chain.steps[step], job, {"deal": rt.crm.record(deal)})
