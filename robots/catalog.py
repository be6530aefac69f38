"""What the save-time checks of automation files know: actions, stages, fields, events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm.service import Crm
from dsl.automation import ActionSignature, Catalog

CORE_DEAL_FIELDS = {
    "id": "number", "title": "text", "amount": "money", "currency": "text", "pipeline": "text", "stage": "text",
    "stage_name": "text", "stage_kind": "text", "stage_entered_at": "datetime", "created_at": "datetime",
    "updated_at": "datetime", "source": "text", "department": "text", "products": "list",
    "responsible": "user", "contact": "contact",
}
FIELD_TYPES = {"string": "text", "number": "number", "money": "money", "date": "date", "datetime": "datetime",
               "bool": "bool", "enum": "text", "user": "user"}


def build_catalog(crm: Crm, actions: Any, events: Mapping[str, Mapping[str, str]] | None = None) -> Catalog:
    signatures: dict[str, ActionSignature] = (
        actions.catalog_signatures() if hasattr(actions, "catalog_signatures") else {}
    )
    stages: dict[str, tuple[str, ...]] = {}
    fields: dict[str, dict[str, str]] = {}
    for pipeline in crm.pipelines():
        stages[pipeline.code] = tuple(s.code for s in pipeline.stages)
        custom = {code: FIELD_TYPES.get(d.type, "any") for code, d in crm.field_defs(pipeline).items()}
        fields[pipeline.code] = {**CORE_DEAL_FIELDS, **custom}
    return Catalog(actions=signatures, stages=stages, deal_fields=fields,
                   events={k: dict(v) for k, v in (events or {}).items()})
