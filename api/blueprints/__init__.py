"""One blueprint per resource; `ALL` is what the app factory registers."""

from api.blueprints import (
    actions,
    contacts,
    deals,
    dsl,
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

ALL = [pipelines.bp, deals.bp, contacts.bp, leads.bp, users.bp, tasks.bp, notifications.bp, processes.bp,
       instances.bp, robots.bp, actions.bp, events.bp,
       dsl.bp]
