"""The CRM's resources as the API shows them and accepts them."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.common import Bool, Count, Id, StrictSchema
from crm.models import LEAD_STATUSES, ROLES, STAGE_KINDS, TASK_STATUSES

Text = validate.Length(min=1, max=300)
Code = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$")


class StageSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    sort = fields.Integer()
    kind = fields.String()
    is_start = fields.Boolean()
    ref = fields.String()
    required_fields = fields.List(fields.String(), metadata={"description": "field codes the stage's gate requires"})


class PipelineSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    sort = fields.Integer()
    loss_reasons = fields.List(fields.String(), metadata={"description": "the pick list a lost stage asks for"})
    stages = fields.List(fields.Nested(StageSchema))


class GatesSchema(StrictSchema):
    required_fields = fields.Dict(
        keys=fields.String(validate=Code),
        values=fields.List(fields.String(validate=Code), validate=validate.Length(max=50)),
        load_default=None, metadata={"description": "stage code -> field codes; [] opens the gate"})
    loss_reasons = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=None,
                               validate=validate.Length(max=50))


class BoardCardSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    amount = fields.String()
    currency = fields.String()
    version = fields.Integer()
    loss_reason = fields.String(allow_none=True)
    responsible = fields.Dict(allow_none=True, metadata={"description": "{id, name}"})
    contact = fields.String(allow_none=True, metadata={"description": "the contact's name"})
    tasks = fields.Dict(metadata={"description": "open, overdue and today's open tasks"})
    no_next_step = fields.Boolean(metadata={"description": "in progress with no task planned from now on"})


class BoardStageSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    ref = fields.String()
    required_fields = fields.List(fields.Dict(), metadata={"description": "{name, label, type, options}"})
    count = fields.Integer()
    sums = fields.Dict(metadata={"description": "currency -> sum of the amounts"})
    cards = fields.List(fields.Nested(BoardCardSchema))
    offset = fields.Integer()
    more = fields.Boolean()


class BoardSchema(Schema):
    pipeline = fields.Dict()
    loss_reasons = fields.List(fields.String())
    stages = fields.List(fields.Nested(BoardStageSchema))


class BoardQuerySchema(StrictSchema):
    mine = fields.Boolean(load_default=False, metadata={"description": "only my deals"})
    responsible = fields.String(validate=validate.Length(min=1, max=100),
                                metadata={"description": "user id or login; 'none' for unassigned deals"})
    department = fields.String(validate=validate.Length(min=1, max=64),
                               metadata={"description": "department id or code; 'mine' for my own"})
    q = fields.String(validate=validate.Length(min=1, max=200),
                      metadata={"description": "part of the title or of the contact's name"})
    per_stage = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    stage = fields.String(validate=Code, metadata={"description": "only this column (its next cards)"})
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class NewStageSchema(StrictSchema):
    code = fields.String(required=True, validate=Code)
    name = fields.String(required=True, validate=Text)
    kind = fields.String(load_default="in_progress", validate=validate.OneOf(STAGE_KINDS))
    is_start = Bool(load_default=False)


class NewPipelineSchema(StrictSchema):
    code = fields.String(required=True, validate=Code)
    name = fields.String(required=True, validate=Text)
    stages = fields.List(fields.Nested(NewStageSchema), required=True, validate=validate.Length(min=2, max=50))
    loss_reasons = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                               validate=validate.Length(max=50))


class AddStageSchema(StrictSchema):
    code = fields.String(required=True, validate=Code)
    name = fields.String(required=True, validate=Text)
    kind = fields.String(load_default="in_progress", validate=validate.OneOf(STAGE_KINDS))
    after = fields.String(load_default=None, validate=Code)


class DealSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    amount = fields.Decimal(as_string=True, metadata={"type": "string", "format": "decimal"})
    currency = fields.String()
    pipeline = fields.Function(lambda d: d.pipeline.code, metadata={"type": "string"})
    stage = fields.Function(lambda d: d.stage.code, metadata={"type": "string"})
    stage_ref = fields.Function(lambda d: d.stage.ref, metadata={"type": "string"})
    responsible_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    source = fields.String(allow_none=True)
    products = fields.List(fields.Dict())
    fields_ = fields.Dict(data_key="fields", attribute="fields", metadata={"description": "custom fields by code"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    stage_entered_at = fields.DateTime()
    loss_reason = fields.String(allow_none=True)
    version = fields.Integer(metadata={"description": "send it back on update to be told of a concurrent change"})


class _DealValues(StrictSchema):
    title = fields.String(validate=Text)
    amount = fields.Decimal(places=2, metadata={"minimum": 0})
    currency = fields.String(validate=validate.Length(equal=3))
    responsible_id = Id(allow_none=True)
    contact_id = Id(allow_none=True)
    department_id = Id(allow_none=True)
    source = fields.String(allow_none=True, validate=validate.Length(max=100))
    products = fields.List(fields.Dict(keys=fields.String()), validate=validate.Length(max=200))
    fields_ = fields.Dict(keys=fields.String(), data_key="fields", attribute="fields",
                          metadata={"description": "custom fields by code"})


class NewDealSchema(_DealValues):
    title = fields.String(required=True, validate=Text)
    pipeline = fields.String(load_default="main", validate=Code)
    stage = fields.String(load_default=None, validate=validate.Length(min=1, max=130),
                          metadata={"description": "stage code, or pipeline.stage; the start stage if left out"})


class DealUpdateSchema(_DealValues):
    version = Count(metadata={"description": "the version you read; 409 if it moved on"})


class MoveDealSchema(StrictSchema):
    stage = fields.String(required=True, validate=validate.Length(min=1, max=130),
                          metadata={"description": "stage code in the deal's pipeline, or pipeline.stage"})
    version = Count()
    fields_ = fields.Dict(keys=fields.String(), data_key="fields", attribute="fields", load_default=None,
                          metadata={"description": "custom fields set first, in the same transaction"})
    loss_reason = fields.String(load_default=None, validate=validate.Length(min=1, max=200),
                                metadata={"description": "for a lost stage: one of the pipeline's loss reasons"})


class DealQuerySchema(StrictSchema):
    pipeline = fields.String(validate=validate.Length(min=1, max=64))
    stage = fields.String(validate=validate.Length(min=1, max=130))
    responsible = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "user id or login"})
    department = fields.String(validate=validate.Length(min=1, max=64),
                               metadata={"description": "department id or code"})
    q = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "part of the title"})


class TimelineEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    kind = fields.String()
    text = fields.String()
    cause = fields.Function(lambda e: {"kind": e.cause_kind, "ref": e.cause_ref, "label": e.cause_label},
                            metadata={"type": "object"})
    data = fields.Dict()


class ContactSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phones = fields.List(fields.String())
    emails = fields.List(fields.String())
    created_at = fields.DateTime()


class NewContactSchema(StrictSchema):
    name = fields.String(required=True, validate=Text)
    phones = fields.List(fields.String(validate=validate.Length(max=50)), load_default=list,
                         validate=validate.Length(max=20))
    emails = fields.List(fields.String(validate=validate.Length(max=200)), load_default=list,
                         validate=validate.Length(max=20))


class ContactQuerySchema(StrictSchema):
    phone = fields.String(validate=validate.Length(min=1, max=50))
    email = fields.String(validate=validate.Length(min=1, max=200))


class LeadSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    status = fields.String()
    responsible_id = fields.Integer(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    data = fields.Dict()
    created_at = fields.DateTime()


class NewLeadSchema(StrictSchema):
    title = fields.String(required=True, validate=Text)
    name = fields.String(load_default=None, validate=validate.Length(max=200))
    phone = fields.String(load_default=None, validate=validate.Length(max=50))
    email = fields.String(load_default=None, validate=validate.Length(max=200))
    source = fields.String(load_default=None, validate=validate.Length(max=100))
    responsible_id = Id(load_default=None)
    department_id = Id(load_default=None)
    data = fields.Dict(keys=fields.String(), load_default=dict)


class LeadStatusSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(LEAD_STATUSES))


class LeadQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(LEAD_STATUSES))


class UserSchema(Schema):
    id = fields.Integer()
    login = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    supervisor_id = fields.Integer(allow_none=True)
    roles = fields.List(fields.String())
    present = fields.Boolean()
    timezone = fields.String()
    active = fields.Boolean()


class NewUserSchema(StrictSchema):
    login = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.String(load_default=None, validate=validate.Length(max=200))
    phone = fields.String(load_default=None, validate=validate.Length(max=50))
    department_id = Id(load_default=None)
    supervisor_id = Id(load_default=None)
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), load_default=list)


class PresenceSchema(StrictSchema):
    present = Bool(required=True)


class UserQuerySchema(StrictSchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    department = fields.String(validate=validate.Length(min=1, max=64))
    present = fields.Boolean()


class TaskSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    group = fields.String(allow_none=True)
    column = fields.String()
    deadline = fields.DateTime(allow_none=True)
    deal_id = fields.Integer(allow_none=True)
    status = fields.String()
    data = fields.Dict()
    form = fields.Function(
        lambda t: (t.data or {}).get("form", []),
        metadata={"type": "array", "items": {"type": "object"},
                  "description": "the fields completing the task asks for, as the BPMN user task declares them: "
                                 "[{name, label, type, required, options}]; [] when none"})
    process_instance_id = fields.Integer(allow_none=True)
    element_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    # Names, not ids, for the boards: the card shows who has it and for which deal.
    assignee_name = fields.Function(lambda t: t.assignee.name if t.assignee else None,
                                    metadata={"type": "string", "nullable": True})
    deal_title = fields.Function(lambda t: t.deal.title if t.deal else None,
                                 metadata={"type": "string", "nullable": True})


class TaskBoardSchema(Schema):
    group = fields.String()
    columns = fields.List(fields.String(), metadata={"description": "the kanban columns, in order"})


class NewTaskSchema(StrictSchema):
    title = fields.String(required=True, validate=Text)
    description = fields.String(load_default="", validate=validate.Length(max=10000))
    deal_id = Id(load_default=None)
    assignee_id = Id(load_default=None)
    group = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    column = fields.String(load_default="new", validate=validate.Length(min=1, max=64))
    deadline = fields.AwareDateTime(load_default=None)
    data = fields.Dict(keys=fields.String(), load_default=dict)


class TaskQuerySchema(StrictSchema):
    assignee_id = Id(strict=False)
    deal_id = Id(strict=False)
    status = fields.String(validate=validate.OneOf(TASK_STATUSES))
    group = fields.String(validate=validate.Length(min=1, max=64))
    column = fields.String(validate=validate.Length(min=1, max=64))


class AssignTaskSchema(StrictSchema):
    assignee_id = Id(required=True, allow_none=True, metadata={"description": "null gives the task back to its group"})
    deadline = fields.AwareDateTime(load_default=None,
                                    metadata={"description": "when it is due; the day of a driver's load sheet"})


class LoadSheetQuerySchema(StrictSchema):
    date = fields.Date(required=True, metadata={"description": "the day, in the driver's timezone"})
    driver = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                           metadata={"description": "user id or login; the caller if left out; another "
                                                    "driver's sheet needs plan_deliveries"})


class DeliverySchema(Schema):
    task_id = fields.Integer(attribute="id")
    deal_id = fields.Integer(allow_none=True)
    title = fields.String()
    due = fields.DateTime(attribute="deadline")
    status = fields.String()
    column = fields.String()
    address = fields.Function(lambda t: t.data.get("address"), metadata={"type": "string", "nullable": True})
    delivery_time = fields.Function(lambda t: t.data.get("delivery_time"),
                                    metadata={"type": "string", "nullable": True})
    client = fields.Function(lambda t: t.data.get("client"), metadata={"type": "string", "nullable": True})
    phone = fields.Function(lambda t: t.data.get("phone"), metadata={"type": "string", "nullable": True})
    products = fields.Function(lambda t: t.data.get("products") or [],
                               metadata={"type": "array", "items": {"type": "object"}})
    amount_to_collect = fields.Function(lambda t: t.data.get("amount_to_collect"),
                                        metadata={"description": "a number, or a decimal string"})
    # The deal's currency when the task does not say (a task made by hand): never a guess.
    currency = fields.Function(lambda t: t.data.get("currency") or (t.deal.currency if t.deal else None),
                               metadata={"type": "string", "nullable": True})
    note = fields.Function(lambda t: t.data.get("note"), metadata={"type": "string", "nullable": True,
                                                                   "description": "why it was moved (a problem)"})


class LoadSheetSchema(Schema):
    driver_id = fields.Integer()
    driver = fields.String(metadata={"description": "login"})
    date = fields.Date()
    deliveries = fields.List(fields.Nested(DeliverySchema))


class DeliveryCountQuerySchema(StrictSchema):
    since = fields.AwareDateTime(required=True)
    until = fields.AwareDateTime(required=True, metadata={"description": "exclusive"})

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "since" in data and "until" in data and data["since"] >= data["until"]:
            raise ValidationError("must be after since", "until")


class DeliveryCountSchema(Schema):
    driver_id = fields.Integer()
    driver = fields.String(metadata={"description": "login"})
    name = fields.String()
    deliveries = fields.Integer()


class CompleteTaskSchema(StrictSchema):
    result = fields.Dict(keys=fields.String(), load_default=dict)


class MoveTaskSchema(StrictSchema):
    column = fields.String(required=True, validate=validate.Length(min=1, max=64))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000),
                         metadata={"description": "why: kept as data.note and put on the deal's timeline"})


class NotificationSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    text = fields.String()
    deal_id = fields.Integer(allow_none=True)
    deal_title = fields.Function(lambda n: n.deal.title if n.deal is not None else None, allow_none=True,
                                 metadata={"description": "so a feed names the deal instead of showing its id"})
    kind = fields.String()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class UnreadCountSchema(Schema):
    unread = fields.Integer(metadata={"description": "the caller's unread notifications"})


class ReadAllSchema(Schema):
    marked = fields.Integer(metadata={"description": "how many were unread and are read now"})
    unread = fields.Integer()


class FeedQuerySchema(StrictSchema):
    user = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                         metadata={"description": "whose feed (id or login): the caller's if left out; "
                                                  "another user's needs manage_users"})
    unread_only = fields.Boolean(load_default=False)


class FieldOptionSchema(Schema):
    value = fields.Raw()
    label = fields.String()


class CardFieldSchema(Schema):
    name = fields.String(metadata={"description": "the field's code"})
    label = fields.String()
    type = fields.String()
    options = fields.List(fields.Raw())
    value = fields.Raw(allow_none=True)


class NamedSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class CardContactSchema(NamedSchema):
    phones = fields.List(fields.String())
    emails = fields.List(fields.String())


class DealCardSchema(Schema):
    deal = fields.Nested(DealSchema)
    pipeline = fields.Nested(PipelineSchema)
    fields_ = fields.List(fields.Nested(CardFieldSchema), data_key="fields", attribute="fields")
    contact = fields.Nested(CardContactSchema, allow_none=True)
    responsible = fields.Nested(NamedSchema, allow_none=True)
    department = fields.Nested(NamedSchema, allow_none=True)
    responsible_options = fields.List(fields.Nested(FieldOptionSchema))
    may_edit = fields.Boolean()
    may_start = fields.Boolean()
    may_monitor = fields.Boolean()


class FeedItemSchema(Schema):
    at = fields.DateTime()
    source = fields.String(metadata={"description": "timeline, automation or process"})
    kind = fields.String(metadata={"description": "the timeline kind, robot/trigger, or the step's outcome"})
    text = fields.String()
    who = fields.String(allow_none=True, metadata={"description": "who or what did it: a person, a robot, a process"})
    reason = fields.String(allow_none=True)
    data = fields.Dict()
    params = fields.Dict(allow_none=True, metadata={
        "description": "a timeline entry's sentence as names and values, for the reader's own language "
                       "(crm/timeline_params.py); null when the text is all there is"})
