"""Processes and instances: deploy, start, send events, look at state, retry incidents."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from api.schemas import EventSchema, StartProcessSchema
from crm.events import Cause
from engine.models import HistoryEntry, Incident, ProcessVersion
from engine.runtime import ACTIVE, all_tasks
from triggers.intake import accept_event

bp = Blueprint("processes", __name__, url_prefix="/api/v1")
API_CAUSE = Cause("user", None, "api")


def _engine() -> Any:
    return current_app.extensions["dealflow.engine"]


def _version_dict(v: ProcessVersion) -> dict[str, Any]:
    return {"key": v.key, "version": v.version, "name": v.name, "parameters": v.parameters,
            "required_fields": v.required_fields, "messages": v.messages, "created_at": v.created_at.isoformat()}


@bp.get("/processes")
def list_processes() -> Any:
    with _engine().unit() as rt:
        versions = rt.session.scalars(select(ProcessVersion).order_by(ProcessVersion.key, ProcessVersion.version))
        latest: dict[str, ProcessVersion] = {}
        for v in versions:
            latest[v.key] = v
        return jsonify([_version_dict(v) for v in latest.values()])


@bp.post("/processes")
def deploy() -> Any:
    xml = request.get_data(cache=False)
    with _engine().unit() as rt:
        version = rt.deploy(xml)
        return jsonify(_version_dict(version)), 201


@bp.post("/processes/<key>/start")
def start(key: str) -> Any:
    body = StartProcessSchema().load(request.get_json(silent=True) or {})
    with _engine().unit() as rt:
        instance = rt.start(key, body["deal_id"], body["params"], cause=API_CAUSE)
        return jsonify({"id": instance.id, "status": instance.status}), 201


@bp.post("/events")
def send_event() -> Any:
    """An event in: validated, stored once per (source, idempotency key), then applied."""
    body = EventSchema().load(request.get_json(silent=True) or {})
    with _engine().unit() as rt:
        result = accept_event(rt, body["type"], body["payload"], idempotency_key=body["idempotency_key"],
                              source=body["source"], cause=Cause("system", body["source"], body["source"]))
        return jsonify(result.as_dict()), 200 if result.duplicate else 202


@bp.get("/instances/<int:instance_id>")
def get_instance(instance_id: int) -> Any:
    engine = _engine()
    with engine.unit() as rt:
        instance = rt.instance(instance_id)
        version = rt.session.get(ProcessVersion, instance.version_id)
        workflow = engine.serializer.loads(instance.state, *engine.spec_for(rt.session, version.id))
        active = sorted({t.task_spec.bpmn_id for t in all_tasks(workflow, state=ACTIVE) if t.task_spec.bpmn_id})
        history = list(rt.session.scalars(
            select(HistoryEntry).where(HistoryEntry.instance_id == instance_id).order_by(HistoryEntry.id)))
        incidents = rt.session.scalars(select(Incident).where(Incident.instance_id == instance_id))
        return jsonify({
            "id": instance.id, "key": instance.key, "version": version.version, "deal_id": instance.deal_id,
            "status": instance.status, "active_elements": active,
            "completed_elements": [h.element_id for h in history if h.outcome == "completed"],
            "history": [{"at": h.at.isoformat(), "element_id": h.element_id, "name": h.element_name,
                         "type": h.element_type, "outcome": h.outcome, "detail": h.detail}
                        for h in history],
            "incidents": [{"id": i.id, "element_id": i.element_id, "message": i.message, "status": i.status}
                          for i in incidents],
        })


@bp.post("/incidents/<int:incident_id>/retry")
def retry_incident(incident_id: int) -> Any:
    with _engine().unit() as rt:
        instance = rt.retry_incident(incident_id, cause=API_CAUSE)
        return jsonify({"id": instance.id, "status": instance.status})

