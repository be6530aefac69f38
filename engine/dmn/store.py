"""Decision versions: deploy a DMN file, find the latest version of a decision, evaluate it.

Like process versions, a decision's versions are immutable and the latest by key is the one
tasks and robots call; deploying a file whose table did not change (only its layout, say)
keeps the version it has.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.errors import NotFound
from engine.bpmn import BPMN_NS, located
from engine.dmn.table import DecisionResult, DecisionTable, read_decisions
from engine.dmn.task import decision_ref
from engine.models import DecisionVersion


def deploy_decisions(session: Session, now: datetime, xml: str | bytes) -> list[DecisionVersion]:
    """A new version of each decision of the file that changed; the same table twice is one version."""
    tables, text = read_decisions(xml)
    versions = []
    for table in tables:
        checksum = hashlib.sha256(json.dumps(table.as_dict(), sort_keys=True).encode("utf-8")).hexdigest()
        latest = latest_decision(session, table.key, required=False)
        if latest is not None and latest.checksum == checksum:
            versions.append(latest)
            continue
        version = DecisionVersion(
            key=table.key, version=(latest.version + 1) if latest else 1, name=table.name[:200],
            hit_policy=table.hit_policy, xml=text, checksum=checksum, table=table.as_dict(), created_at=now,
        )
        session.add(version)
        session.flush()
        versions.append(version)
    return versions


def latest_decision(session: Session, key: str, *, required: bool = True) -> DecisionVersion | None:
    version = session.scalars(select(DecisionVersion).where(DecisionVersion.key == key)
                              .order_by(DecisionVersion.version.desc()).limit(1)).first()
    if version is None and required:
        raise NotFound(f"no decision {key!r} is deployed")
    return version


def decide(session: Session, key: str, env: Mapping[str, Any], now: datetime) -> DecisionResult:
    """Evaluate the latest version of decision `key` with the names `env` (dsl values)."""
    version = latest_decision(session, key)
    assert version is not None
    return DecisionTable.from_dict(version.table).evaluate(env, now)


def missing_decisions(session: Session, root: etree._Element, text: str) -> list[dict[str, Any]]:
    """Business rule tasks of a BPMN file that call no deployed decision, as deploy problems:
    deploying the process before its decision would leave an instance failing at that task."""
    problems: list[dict[str, Any]] = []
    tasks: Iterable[etree._Element] = root.iter(f"{{{BPMN_NS}}}businessRuleTask")
    for task in tasks:
        ref = decision_ref(task)
        element = task.get("id") or "?"
        name = task.get("name")
        label = f'"{name}" (id {element})' if name else f"(id {element})"
        if not ref:
            problems.append({"element": element, **located(task, text),
                             "message": f"business rule task {label} names no decision: set its decision "
                                        "reference (camunda:decisionRef or spiffworkflow:calledDecisionId)"})
        elif latest_decision(session, ref, required=False) is None:
            problems.append({"element": element, **located(task, text),
                             "message": f"business rule task {label} calls decision {ref!r}, which is not "
                                        "deployed: deploy its DMN file first"})
    return problems
