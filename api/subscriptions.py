"""Who reacts to what, in which order: the app's one table of subscriptions.

When the CRM publishes an event inside a transaction, the rows for its type run top to
bottom, each handed the transaction's unit of work; a reaction that publishes an event of
its own (a robot moves the deal) runs that event's rows before it goes on. Work a row defers
(`UnitOfWork.defer`: a stage's immediate robots, trigger rules) runs once the change that set
it off is complete, before the transaction commits. Live announcements come last, so they
see what the others did. The last part names who runs each kind of job.

This is the only place reactions are wired (built once, in `api.wiring.build_engine`);
docs/architecture.md shows this table, and tests/test_architecture_doc.py keeps the two
equal. Here, not in `engine`, because it names every package, and only `api` may.
"""

from __future__ import annotations

from crm.events import (
    DealCreated,
    DealFieldsChanged,
    DealMoved,
    NotificationCreated,
    TaskArchived,
    TaskAssigned,
    TaskCompleted,
    TaskCreated,
    TaskMoved,
)
from engine import broadcast as live
from engine import subscriptions as processes
from engine.subscriptions import Subscription, Subscriptions
from robots import runtime as robots
from triggers.listeners import TriggerEvents
from triggers.rules import AutomationLookup, automation_for


def app_subscriptions(automation: AutomationLookup = automation_for) -> Subscriptions:
    """The whole fan-out; `automation` finds a scope's automation file for the trigger rules
    (tests hand in their own)."""
    triggers = TriggerEvents(automation)
    return Subscriptions(
        [
            Subscription(DealCreated, robots.deal_created),
            Subscription(DealCreated, live.announce),

            Subscription(DealMoved, robots.deal_moved),
            Subscription(DealMoved, live.announce),

            Subscription(DealFieldsChanged, processes.replan_date_timers),
            Subscription(DealFieldsChanged, robots.fields_changed),
            Subscription(DealFieldsChanged, triggers.fields_changed),
            Subscription(DealFieldsChanged, live.announce),

            Subscription(TaskCompleted, processes.complete_user_task),
            Subscription(TaskCompleted, triggers.task_completed),
            Subscription(TaskCompleted, live.announce),

            Subscription(TaskMoved, processes.deliver_task_move),
            Subscription(TaskMoved, triggers.task_moved),
            Subscription(TaskMoved, live.announce),

            Subscription(TaskCreated, live.announce),
            Subscription(TaskAssigned, live.announce),
            Subscription(TaskArchived, live.announce),
            Subscription(NotificationCreated, live.announce),
        ],
        jobs={
            robots.ROBOT_JOB: robots.fire,  # "timer" and "retry" jobs are the engine's own (Runtime.run_job)
        },
    )


if __name__ == "__main__":  # python -m api.subscriptions: the table for docs/architecture.md
    print(app_subscriptions().as_markdown(), end="")
