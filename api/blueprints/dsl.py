"""Single DSL texts checked on their own, and the vocabulary the editors complete from.

The BPMN designer validates a gateway condition, a script or a template while it is typed;
deploying checks the same texts again (engine.bpmn.check_texts), so this is a convenience,
never the gate.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from api.auth import requires
from api.context import engine, unit_of_work
from api.parsing import Blueprint
from api.schemas.automation import ValidationResultSchema
from api.schemas.common import StrictSchema
from api.wiring import catalog
from dsl import DslError, DslErrorList, compile_expression, compile_script, compile_template
from engine.runtime import Runtime

bp = Blueprint("dsl", __name__, url_prefix="/api/v1/dsl", description="DSL checks and vocabulary")

COMPILERS = {"expression": compile_expression, "script": compile_script, "template": compile_template}
MAX_TEXT = 64 * 1024


class CheckSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(sorted(COMPILERS)))
    text = fields.String(required=True, validate=validate.Length(max=MAX_TEXT))


class VocabularySchema(Schema):
    stages = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    fields_ = fields.Dict(data_key="fields", attribute="fields", keys=fields.String(),
                          values=fields.Dict(keys=fields.String(), values=fields.String()))
    events = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.String()))
    actions = fields.List(fields.String())


@bp.post("/check")
@requires("edit_processes")
@bp.arguments(CheckSchema)
@bp.response(200, ValidationResultSchema)
def check(body: dict[str, Any]) -> Any:
    try:
        COMPILERS[body["kind"]](body["text"])
    except DslErrorList as err:
        return {"valid": False, "errors": [e.to_dict() for e in err.errors]}
    except DslError as err:
        return {"valid": False, "errors": [err.to_dict()]}
    return {"valid": True, "errors": []}


@bp.get("/vocabulary")
@requires("read_automation")
@unit_of_work
@bp.response(200, VocabularySchema)
def vocabulary(*, rt: Runtime) -> Any:
    """Stages, deal fields per pipeline, CRM event types with their payload fields, action names."""
    known = catalog(engine(), rt.crm)
    return {"stages": {k: list(v) for k, v in known.stages.items()}, "fields": known.deal_fields,
            "events": known.events, "actions": sorted(known.actions)}
