"""Request and response bodies of the test bench (sandbox runs, `/api/v1/test-runs`)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.common import Bool, Id, StrictSchema

Code = validate.Length(min=1, max=100)


class SandboxContactSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    phone = fields.String(allow_none=True, validate=validate.Length(max=50))
    email = fields.String(allow_none=True, validate=validate.Length(max=200))


class SandboxDealSchema(StrictSchema):
    """A deal made for the run only, in the format of a test case's `deal`."""

    title = fields.String(validate=validate.Length(min=1, max=300))
    stage = fields.String(validate=validate.Length(min=1, max=130),
                          metadata={"description": "pipeline.stage; the pipeline's start stage if left out"})
    amount = fields.Decimal(places=2, metadata={"minimum": 0})
    responsible = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "user login"})
    department = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "department code"})
    contact = fields.Nested(SandboxContactSchema)
    products = fields.List(fields.Dict(keys=fields.String()), validate=validate.Length(max=200))
    fields_ = fields.Dict(keys=fields.String(), data_key="fields", attribute="fields",
                          metadata={"description": "custom fields by code"})


class NewTestRunSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(["process", "robots"]),
                         metadata={"description": "run a process on the deal, or only the robots of a pipeline"})
    process = fields.String(validate=Code, metadata={"description": "process key (kind process)"})
    version = Id(metadata={"description": "process version; the newest if left out"})
    params = fields.Dict(keys=fields.String(), load_default=dict, metadata={"description": "start parameters"})
    pipeline = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "kind robots"})
    deal_id = Id(metadata={"description": "a real deal to copy; it is never changed"})
    deal = fields.Nested(SandboxDealSchema, metadata={"description": "or a sandbox deal made from a form"})
    robots = Bool(load_default=True, metadata={"description": "kind process: run the pipelines' robots and "
                                                              "triggers too, as production does"})

    @validates_schema
    def _one_deal(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("deal_id" in data) == ("deal" in data):
            raise ValidationError("give either deal_id or deal", "deal_id")
        if data["kind"] == "process" and not data.get("process"):
            raise ValidationError("a process run needs the process key", "process")
        if data["kind"] == "robots" and not data.get("pipeline"):
            raise ValidationError("a robots run needs the pipeline code", "pipeline")


class TestRunEventSchema(StrictSchema):
    type = fields.String(required=True, validate=validate.Length(min=1, max=200))
    payload = fields.Dict(keys=fields.String(), load_default=dict,
                          metadata={"description": "as for POST /api/v1/events; deal_id defaults to the run's deal"})
    source = fields.String(load_default="test-bench", validate=validate.Length(min=1, max=64))


class AdvanceSchema(StrictSchema):
    by = fields.String(validate=validate.Length(min=1, max=100),
                       metadata={"description": "a duration: 2d 4h, 30m, P2D, PT2H"})
    to = fields.String(validate=validate.OneOf(["next_job"]), metadata={"description": "next_job"})

    @validates_schema
    def _one_target(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("by" in data) == ("to" in data):
            raise ValidationError("give either by (a duration) or to: next_job", "by")


class CompleteTestRunTaskSchema(StrictSchema):
    result = fields.Dict(keys=fields.String(), load_default=dict)


class MoveTestRunTaskSchema(StrictSchema):
    column = fields.String(required=True, validate=validate.Length(min=1, max=64))


class MoveTestRunDealSchema(StrictSchema):
    stage = fields.String(required=True, validate=validate.Length(min=1, max=130),
                          metadata={"description": "stage code in the deal's pipeline, or pipeline.stage"})


class DealFieldsQuerySchema(StrictSchema):
    pipeline = fields.String(required=True, validate=Code, metadata={"description": "pipeline code"})


class CaseQuerySchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "the case's name"})


# ---------------------------------------------------------------------- responses


class RunDealSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    pipeline = fields.String()
    stage = fields.String()
    stage_ref = fields.String()
    stage_name = fields.String()
    amount = fields.Decimal(as_string=True, metadata={"type": "string", "format": "decimal"})
    responsible = fields.String(allow_none=True)
    fields_ = fields.Dict(data_key="fields", attribute="fields")
    stage_entered_at = fields.DateTime()


class RunIncidentSchema(Schema):
    id = fields.Integer()
    element_id = fields.String(allow_none=True)
    message = fields.String()
    status = fields.String()


class RunInstanceSchema(Schema):
    id = fields.Integer()
    key = fields.String()
    status = fields.String()
    deal_id = fields.Integer(allow_none=True)
    active_elements = fields.List(fields.String())
    completed_elements = fields.List(fields.String())
    waiting_for = fields.List(fields.String())
    incidents = fields.List(fields.Nested(RunIncidentSchema))


class RunJobSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    due_at = fields.DateTime()
    instance_id = fields.Integer(allow_none=True)
    deal_id = fields.Integer(allow_none=True)
    element_id = fields.String(allow_none=True)
    robot = fields.String(allow_none=True)


class RunTaskSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    assignee = fields.String(allow_none=True)
    group = fields.String(allow_none=True)
    column = fields.String()
    status = fields.String()
    deadline = fields.DateTime(allow_none=True)
    process_instance_id = fields.Integer(allow_none=True)
    element_id = fields.String(allow_none=True)


class RunNotificationSchema(Schema):
    id = fields.Integer()
    user = fields.String()
    text = fields.String()
    created_at = fields.DateTime()


class RunOutboxSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    payload = fields.Dict()
    created_at = fields.DateTime()


class TestRunSchema(Schema):
    id = fields.Integer(metadata={"description": "also the live room: test-run:<id>"})
    kind = fields.String()
    process = fields.String(allow_none=True)
    process_version = fields.Integer(allow_none=True)
    pipeline = fields.String(allow_none=True)
    robots = fields.Boolean()
    source_deal_id = fields.Integer(allow_none=True, metadata={"description": "the real deal copied, if any"})
    started_at = fields.DateTime()
    now = fields.DateTime(metadata={"description": "the run's virtual clock"})
    deal = fields.Nested(RunDealSchema)
    instance = fields.Nested(RunInstanceSchema, allow_none=True)
    instances = fields.List(fields.Nested(RunInstanceSchema))
    jobs = fields.List(fields.Nested(RunJobSchema), metadata={"description": "timers and robots waiting"})
    tasks = fields.List(fields.Nested(RunTaskSchema))
    notifications = fields.List(fields.Nested(RunNotificationSchema))
    outbox = fields.List(fields.Nested(RunOutboxSchema), metadata={"description": "messages a real run would send"})
    steps = fields.Integer(metadata={"description": "steps recorded for the saved test case"})


class TestRunEventResultSchema(Schema):
    event = fields.Dict(metadata={"description": "what the event did, as POST /api/v1/events answers"})
    state = fields.Nested(TestRunSchema)


class RunLogEntrySchema(Schema):
    at = fields.DateTime()
    source = fields.String(metadata={"description": "bench (what the person did), process, deal, robot or trigger"})
    kind = fields.String()
    text = fields.String()
    reason = fields.String(allow_none=True)
    detail = fields.Dict()
    params = fields.Dict(allow_none=True, metadata={
        "description": "a deal change's values for its sentence, as the deal feed gives them (crm/timeline_params.py)"})


class TestCaseSchema(Schema):
    file_name = fields.String()
    process = fields.String()
    yaml = fields.String(metadata={"description": "the case file for `dealflow test-processes`"})
    bpmn_file_name = fields.String()
    bpmn = fields.String(metadata={"description": "the process version the run used, to put beside the case"})
