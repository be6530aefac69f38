"""Processes, instances, robots, actions and events as the API shows and accepts them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Count, Id, StrictSchema

# In characters; kept so that even a text of escaped non-ASCII characters (up to 12 bytes each
# in JSON) fits the 4 MiB body limit, and a too-long text is told as a 422 on the field.
MAX_TEXT = 300_000


class ProcessVersionSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    parameters = fields.List(fields.Dict())
    required_fields = fields.List(fields.Dict())
    messages = fields.List(fields.Raw(), metadata={"description": "messages its events and receive tasks wait for"})
    start_messages = fields.List(fields.String(), metadata={"description": "messages that start it"})
    created_at = fields.DateTime()


class DeployWarningSchema(Schema):
    message = fields.String(metadata={"description": "the message name no CRM event sends"})
    element = fields.String(metadata={"description": "the id of the element warned about (a gateway)"})
    process = fields.String(metadata={"description": "the key of the process the element is in"})
    warning = fields.String()


class DeployedVersionSchema(ProcessVersionSchema):
    warnings = fields.List(fields.Nested(DeployWarningSchema),
                           metadata={"description": "message names no CRM event sends, and exclusive or inclusive "
                                                    "gateways with no default flow whose every flow has a condition "
                                                    "(warnings, not refusals)"})
    processes = fields.List(fields.Nested(ProcessVersionSchema),
                            metadata={"description": "every process the file deployed (each executable pool of a "
                                                     "collaboration), the one above first"})


class StartFieldSchema(Schema):
    name = fields.String()
    label = fields.String()
    type = fields.String()
    options = fields.List(fields.Raw())
    missing = fields.Boolean(metadata={"description": "empty on the deal now: the start would be refused"})
    known = fields.Boolean(metadata={"description": "the deal's pipeline has such a field"})


class StartableProcessSchema(Schema):
    key = fields.String()
    name = fields.String()
    version = fields.Integer()
    parameters = fields.List(fields.Dict())
    required_fields = fields.List(fields.Nested(StartFieldSchema))


class DeployJsonSchema(StrictSchema):
    xml = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))


class ProcessXmlQuerySchema(StrictSchema):
    version = Count(strict=False, metadata={"description": "the newest if left out"})


class StartProcessSchema(StrictSchema):
    deal_id = Id(required=True)
    params = fields.Dict(keys=fields.String(), load_default=dict)
    version = Count(load_default=None, metadata={"description": "the newest if left out"})


class RetrySchema(Schema):
    element_id = fields.String(allow_none=True)
    element_name = fields.String(allow_none=True)
    attempt = fields.Integer(metadata={"description": "attempts that failed so far"})
    of = fields.Integer(metadata={"description": "attempts made before the step becomes an incident"})
    error = fields.String(allow_none=True)
    next_at = fields.DateTime()


class InstanceSummarySchema(Schema):
    id = fields.Integer()
    key = fields.String()
    deal_id = fields.Integer(allow_none=True)
    status = fields.String()
    started_at = fields.DateTime()
    updated_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    revision = fields.Integer()
    state = fields.String(metadata={"description": "status as a person reads it: `retrying` for a running "
                                                   "instance whose step failed and waits for its next attempt"})
    retry = fields.Nested(RetrySchema, allow_none=True)
    process_name = fields.String(allow_none=True)
    version = fields.Integer()
    deal_title = fields.String(allow_none=True)
    stage_name = fields.String(allow_none=True)
    started_by_name = fields.String(allow_none=True)


class RetryResultSchema(InstanceSummarySchema):
    outcome = fields.String(metadata={"description": "resolved, retrying (failed again, another attempt is due) "
                                                     "or failed_again (a new incident)"})
    error = fields.String(allow_none=True)
    incident_id = fields.Integer(allow_none=True)


class CancelSchema(StrictSchema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class VariablesSchema(StrictSchema):
    variables = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True,
                            validate=validate.Length(min=1, max=100))


class BulkSchema(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(["retry", "cancel"]))
    ids = fields.List(Id(), validate=validate.Length(min=1, max=500))
    filter = fields.Nested(lambda: InstanceQuerySchema(), allow_none=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    #: The caller's own name for this operation, repeated in its progress events (`bulk.started`,
    #: `bulk.progress` in the caller's `feed:<user id>` room), so a page tells its run from another tab's.
    operation = fields.String(load_default=None, allow_none=True,
                              validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$",
                                                       error="letters, digits, _ and -, at most 64"))


class BulkResultSchema(Schema):
    id = fields.Integer()
    ok = fields.Boolean()
    status = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    error = fields.String(allow_none=True)


class InstanceSchema(InstanceSummarySchema):
    version = fields.Integer()
    active_elements = fields.List(fields.String())
    completed_elements = fields.List(fields.String())
    variables = fields.Dict(keys=fields.String(), metadata={"description": "process data where the instance stands"})
    element_names = fields.Dict(keys=fields.String(), values=fields.String(),
                                metadata={"description": "element id -> its name on the diagram"})


class InstanceQuerySchema(StrictSchema):
    key = fields.String(validate=validate.Length(min=1, max=100))
    deal_id = Id(strict=False)
    status = fields.String(validate=validate.OneOf(["running", "retrying", "completed", "cancelled", "incident"]))
    version = fields.Integer(strict=False, validate=validate.Range(min=1, max=1_000_000))
    element = fields.String(validate=validate.Length(min=1, max=200),
                            metadata={"description": "the instance passed, waits at, or failed at this element"})
    started_from = fields.AwareDateTime(metadata={"description": "started at or after"})
    started_to = fields.AwareDateTime(metadata={"description": "started before"})
    incident = fields.String(validate=validate.Length(min=1, max=200),
                             metadata={"description": "text in the message of an open incident (any case)"})


class HistoryEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    element_id = fields.String()
    name = fields.String(attribute="element_name", allow_none=True)
    type = fields.String(attribute="element_type")
    outcome = fields.String()
    detail = fields.Dict()


class IncidentSchema(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    element_id = fields.String(allow_none=True)
    element_name = fields.String(allow_none=True)
    message = fields.String()
    details = fields.Dict(metadata={"description": "the expression that failed and the values it saw"})
    attempts = fields.Integer()
    status = fields.String()
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)


class AutomationSchema(Schema):
    scope = fields.String()
    version = fields.Integer(allow_none=True, metadata={"description": "null when nothing was saved yet"})
    text = fields.String()
    saved_at = fields.DateTime(allow_none=True)
    saved_by = fields.String(allow_none=True)
    applied_to = fields.Integer(metadata={"description": "deals whose robots were re-planned (apply_to_existing)"})


class AutomationTextSchema(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(max=MAX_TEXT))


class ApplyQuerySchema(StrictSchema):
    apply_to_existing = fields.Boolean(load_default=False,
                                       metadata={"description": "re-plan the robots of deals already on each stage"})


class ValidateAutomationSchema(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(max=MAX_TEXT))
    scope = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                          metadata={"description": "the pipeline the text must be for"})


class DslProblemSchema(Schema):
    kind = fields.String()
    message = fields.String()
    line = fields.Integer(allow_none=True)
    column = fields.Integer(allow_none=True)
    expected = fields.List(fields.String())


class ValidationResultSchema(Schema):
    valid = fields.Boolean()
    errors = fields.List(fields.Nested(DslProblemSchema))


class EditAutomationSchema(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(max=MAX_TEXT))
    operation = fields.Dict(required=True, metadata={
        "description": 'e.g. {"op": "add", "kind": "robot", "stage": "new", "item": {...}}; '
                       "op is add, update, remove (with index) or switch (with enabled); see dsl/automation_edit.py"})


class EditProblemSchema(Schema):
    field = fields.String(allow_none=True, metadata={"description": "the form field, e.g. actions.0.args.1; "
                                                                    "null for the rest of the file"})
    message = fields.String()
    line = fields.Integer(allow_none=True)
    column = fields.Integer(allow_none=True)


class EditResultSchema(Schema):
    text = fields.String(metadata={"description": "the whole file with the operation applied, formatted"})
    errors = fields.List(fields.Nested(EditProblemSchema), metadata={"description": "what the save-time check "
                                                                                    "would refuse"})


class AutomationOutlineSchema(Schema):
    scope = fields.String()
    stages = fields.List(fields.Dict())
    triggers = fields.List(fields.Dict())


class AutomationVersionSchema(Schema):
    version = fields.Integer()
    saved_at = fields.DateTime()
    saved_by = fields.String(allow_none=True)


class DiffQuerySchema(StrictSchema):
    from_version = Count(strict=False, required=True, data_key="from")
    to_version = Count(strict=False, required=True, data_key="to")


class AutomationDiffSchema(Schema):
    from_version = fields.Integer(data_key="from")
    to_version = fields.Integer(data_key="to")
    lines = fields.List(fields.String(), metadata={"description": "unified diff"})


class ActionParameterSchema(Schema):
    type = fields.String()
    required = fields.Boolean()
    description = fields.String()


class ActionSchema(Schema):
    name = fields.String()
    description = fields.String()
    category = fields.String()
    parameters = fields.Dict(keys=fields.String(), values=fields.Nested(ActionParameterSchema))
    positional = fields.List(fields.String())
    accepts_extra = fields.Boolean()


class EventSchema(StrictSchema):
    type = fields.String(required=True, validate=validate.Length(min=1, max=200))
    payload = fields.Dict(keys=fields.String(), load_default=dict)
    idempotency_key = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    source = fields.String(load_default="api", validate=validate.Length(min=1, max=64))


class EventResultSchema(Schema):
    event_id = fields.Integer(allow_none=True)
    type = fields.String()
    source = fields.String()
    duplicate = fields.Boolean()
    deal_ids = fields.List(fields.Integer(), metadata={"description": "the deals the event was about"})
    created_deal_ids = fields.List(fields.Integer(), metadata={"description": "deals its rules created"})
    note = fields.String(allow_none=True)
    evaluations = fields.List(fields.Dict())
    started = fields.List(fields.Integer())
    refused = fields.List(fields.Dict())
    resumed = fields.List(fields.Integer())


class StoredEventSchema(Schema):
    id = fields.Integer()
    type = fields.String()
    source = fields.String()
    idempotency_key = fields.String(allow_none=True)
    payload = fields.Dict()
    deal_id = fields.Integer(allow_none=True)
    received_at = fields.DateTime()
    processed_at = fields.DateTime(allow_none=True)
    outcome = fields.Dict(metadata={"description": "what it did (deal_ids, evaluations, ...); after a replay, "
                                                   "`replaced` lists the earlier outcomes"})


class AutomationLogEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    kind = fields.String()
    scope = fields.String(allow_none=True)
    stage = fields.String(allow_none=True)
    key = fields.String()
    name = fields.String(allow_none=True)
    outcome = fields.String()
    reason = fields.String()
    detail = fields.Dict()
    job_id = fields.Integer(allow_none=True)


class MessageSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"description": "the message name a diagram waits for (bpmn:message name)"})
    deal_id = Id(load_default=None, allow_none=True,
                 metadata={"description": "the deal it is about; none reaches the instances without a deal "
                                          "(or, with correlation_key, the instances of any deal)"})
    correlation_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200),
                                    metadata={"description": "the value of the message's correlation key "
                                                             "(bpmn:correlationKey): only the instances correlated "
                                                             "by it get the message"})
    payload = fields.Dict(keys=fields.String(), load_default=dict,
                          metadata={"description": "what the catching event hands the process as `event`"})


class SignalSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"description": "the signal name a diagram waits for (bpmn:signal name)"})
    deal_id = Id(load_default=None, allow_none=True,
                 metadata={"description": "the deal whose instances it reaches; none: the instances without a deal"})
    payload = fields.Dict(keys=fields.String(), load_default=dict,
                          metadata={"description": "set as the variable the catching event names "
                                                   "(spiffworkflow:variableName)"})


class MessageResultSchema(Schema):
    name = fields.String()
    deal_id = fields.Integer(allow_none=True)
    correlation_key = fields.String(allow_none=True)
    delivered = fields.Integer(metadata={"description": "instances started plus waiting instances reached"})
    started = fields.List(fields.Integer(), metadata={"description": "instances its message start events started"})
    resumed = fields.List(fields.Integer(), metadata={"description": "waiting instances it was delivered to"})
    refused = fields.List(fields.Dict(), metadata={"description": "starts refused (missing deal fields)"})


class DecisionVersionSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    hit_policy = fields.String(metadata={"description": "UNIQUE, FIRST, PRIORITY, ANY, COLLECT, RULE ORDER, ..."})
    aggregation = fields.Function(lambda v: v.table.get("aggregation"), allow_none=True)
    inputs = fields.Function(lambda v: v.table["inputs"], metadata={"description": "[{label, expression}]"})
    outputs = fields.Function(lambda v: [{"name": o["name"], "label": o["label"]} for o in v.table["outputs"]],
                              metadata={"description": "[{name, label}]: the variables a task gets"})
    rules = fields.Function(lambda v: len(v.table["rules"]), metadata={"description": "how many rules"})
    created_at = fields.DateTime()


class DeployedDecisionsSchema(Schema):
    decisions = fields.List(fields.Nested(DecisionVersionSchema),
                            metadata={"description": "each decision of the file, at its (new or same) version"})


class EvaluateDecisionSchema(StrictSchema):
    deal_id = Id(load_default=None, allow_none=True,
                 metadata={"description": "a deal the table sees as `deal` (one you may see)"})
    variables = fields.Dict(keys=fields.String(), load_default=dict,
                            metadata={"description": "further names the table's expressions read"})


class DecisionResultSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    matched = fields.List(fields.Integer(), metadata={"description": "numbers (1-based) of the rules in the result"})
    value = fields.Raw(allow_none=True, metadata={"description": "a row, null, a list of rows, or an aggregate"})
    variables = fields.Dict(metadata={"description": "what a business rule task would set"})
