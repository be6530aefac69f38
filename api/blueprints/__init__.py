"""One blueprint per resource; `ALL` is what the app factory registers."""

from api.blueprints import (
    actions,
    auth,
    contacts,
    deals,
    decisions,
    dsl,
    events,
    hooks,
    instances,
    leads,
    messages,
    notifications,
    pipelines,
    process_labels,
    processes,
    robots,
    tasks,
    test_runs,
    users,
)

ALL = [auth.bp, pipelines.bp, deals.bp, contacts.bp, leads.bp, users.bp, tasks.bp, notifications.bp, processes.bp,
       decisions.bp, instances.bp, robots.bp, actions.bp, events.bp, messages.bp, hooks.bp, test_runs.bp, dsl.bp,
       process_labels.bp, messages.signals_bp]
