"""Objects as the caller may see them: what they may not see does not exist for them (404).

A 403 would tell a manager of one store that a deal of the other store exists; a 404 tells
nothing. Permissions to act (`api.auth.requires`) are checked before these.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select, true

from api.auth import current_user
from crm import access
from crm.errors import NotFound
from crm.models import Deal, Task
from engine.models import Incident, ProcessInstance


def visible_deal(rt: Any, deal_id: int, *, for_update: bool = False) -> Deal:
    deal = rt.crm.deal(deal_id, for_update=for_update)
    if not access.can_see_deal(current_user(), deal):
        raise NotFound(f"Deal {deal_id} does not exist", code="deal_not_found")
    return deal


def visible_task(rt: Any, task_id: int) -> Task:
    task = rt.crm.task(task_id)
    if not access.can_see_task(current_user(), task):
        raise NotFound(f"Task {task_id} does not exist", code="task_not_found")
    return task


def visible_instance(rt: Any, instance_id: int) -> ProcessInstance:
    instance = rt.instance(instance_id)
    if not _instance_visible(rt, instance):
        raise NotFound(f"no process instance {instance_id}")
    return instance


def visible_incident(rt: Any, incident_id: int) -> Incident:
    incident = rt.session.get(Incident, incident_id)
    if incident is None or not _instance_visible(rt, rt.instance(incident.instance_id)):
        raise NotFound(f"no incident {incident_id}")
    return incident


def instances_filter() -> ColumnElement[bool]:
    """Instances of the deals the caller sees (deal-less ones only for those who see everything)."""
    user = current_user()
    if access.sees_every_deal(user):
        return true()
    return ProcessInstance.deal_id.in_(select(Deal.id).where(access.visible_deals(user)))


def _instance_visible(rt: Any, instance: ProcessInstance) -> bool:
    user = current_user()
    if access.sees_every_deal(user):
        return True
    deal = rt.session.get(Deal, instance.deal_id) if instance.deal_id is not None else None
    return deal is not None and access.can_see_deal(user, deal)
