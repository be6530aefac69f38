"""One blueprint per resource; `ALL` is what the app factory registers."""

from api.blueprints import (
    actions,
    auth,
    contacts,
    deals,
    events,
    instances,
    leads,
    notifications,
    pipelines,
    processes,
    robots,
    tasks,
    users,
)

ALL = [auth.bp, pipelines.bp, deals.bp, contacts.bp, leads.bp, users.bp, tasks.bp, notifications.bp, processes.bp,
       instances.bp, robots.bp, actions.bp, events.bp]
