"""`Crm`: the only code that writes the CRM tables.

Funnelling every write through one class is what makes the rest of dealflow simple: each
change is validated before anything is written (so bad input changes nothing), gets a
timeline entry saying who or what did it, and is announced as a `crm.events` event after
the flush, inside the caller's transaction, so that robots and processes react atomically.
The caller owns the transaction and commits.

The directory (departments, users, pipelines, field definitions) lives in
`crm.directory`, contacts and leads in `crm.people`, tasks and the feed in `crm.work`; this
module holds deals and puts the pieces together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm import values as typed
from crm.base import ServiceBase, column_length, hold, jsonable, resolve_or_error, shortened
from crm.clock import Clock
from crm.directory import DirectoryMixin
from crm.errors import InvalidInput, NotFound, StageGateRefused
from crm.events import Cause, DealCreated, DealFieldsChanged, DealMoved, Listeners
from crm.models import Contact, Deal, Department, FieldDef, Pipeline, Stage, TimelineEntry, User
from crm.people import PeopleMixin
from crm.records import DealRecord
from crm.work import WorkMixin

#: Deal attributes set_fields accepts besides custom fields, and the aliases that mean them.
CORE_FIELDS = (
    "title",
    "amount",
    "currency",
    "responsible_id",
    "contact_id",
    "department_id",
    "source",
    "products",
)
ALIASES = {"responsible": "responsible_id", "contact": "contact_id", "department": "department_id"}
RELATIONS = {value: key for key, value in ALIASES.items()}
CORE_LABELS = {
    "title": "Title",
    "amount": "Amount",
    "currency": "Currency",
    "responsible_id": "Responsible",
    "contact_id": "Contact",
    "department_id": "Department",
    "source": "Source",
    "products": "Products",
}


class Crm(DirectoryMixin, PeopleMixin, WorkMixin, ServiceBase):
    """The CRM service for one session; cheap to create per unit of work."""

    def __init__(self, session: Session, clock: Clock, listeners: Listeners | None = None) -> None:
        super().__init__(session, clock, listeners)

    # --- reads ---------------------------------------------------------------------------

    def deal(self, deal_id: int, *, for_update: bool = False) -> Deal:
        """for_update locks the row on PostgreSQL (SQLite has one writer anyway)."""
        if for_update:
            deal = self.session.get(Deal, deal_id, with_for_update=True, populate_existing=True)
        else:
            deal = self.session.get(Deal, deal_id)
        if deal is None:
            raise NotFound(f"Deal {deal_id} does not exist", code="deal_not_found")
        hold(self.session, deal)  # robots, rules and processes ask for it again in this transaction
        return deal

    def deals_with_field(self, code: str, value: str, *, limit: int = 20) -> list[Deal]:
        """Deals whose custom field `code` holds `value` (the store's order id, say), oldest first."""
        query = select(Deal).where(Deal.fields[code].as_string() == str(value)).order_by(Deal.id).limit(limit)
        return list(self.session.scalars(query))

    def missing_fields(self, deal: Deal, codes: Iterable[str]) -> list[str]:
        """The codes among `codes` that are empty on the deal; an unknown code counts as empty."""
        return [code for code in codes if typed.is_empty(self._raw_value(deal, code))]

    def field_value(self, deal: Deal, code: str) -> Any:
        """A custom field in its Python form (user fields as user id), None when unset."""
        definition = self.field_defs(deal.pipeline).get(code)
        if definition is None:
            raise NotFound(f"Pipeline '{deal.pipeline.code}' has no field '{code}'", code="field_not_found")
        return typed.from_json(definition.type, deal.fields.get(code))

    def timeline(self, deal: Deal) -> list[TimelineEntry]:
        query = (
            select(TimelineEntry).where(TimelineEntry.deal_id == deal.id).order_by(TimelineEntry.at, TimelineEntry.id)
        )
        return list(self.session.scalars(query))

    def record(self, deal: Deal) -> DealRecord:
        return DealRecord(deal, self)

    # --- writes --------------------------------------------------------------------------

    def create_deal(
        self,
        *,
        title: str,
        pipeline: Pipeline | str = "main",
        stage: Stage | str | None = None,
        amount: Any = 0,
        currency: str = "RUB",
        responsible: User | int | str | None = None,
        contact: Contact | int | None = None,
        department: Department | int | str | None = None,
        source: str | None = None,
        products: Sequence[Mapping[str, Any]] = (),
        fields: Mapping[str, Any] | None = None,
        is_sandbox: bool = False,
        order: tuple[str, str] | None = None,
        cause: Cause,
    ) -> Deal:
        """A new deal; `order` is the (source, order number) of the outside order it is made
        from: a second deal of the same order is refused by the database's UNIQUE key with an
        IntegrityError at the flush here, before anything else of the deal is written."""
        errors: dict[str, str] = {}
        target = resolve_or_error(errors, "pipeline", lambda: self._pipeline_of(pipeline))
        target_stage = None
        if target is not None:
            target_stage = resolve_or_error(errors, "stage", lambda: self._stage_or_start(stage, target))
        core = {
            "title": title,
            "amount": amount,
            "currency": currency,
            "responsible_id": responsible,
            "contact_id": contact,
            "department_id": department,
            "source": source,
            "products": list(products),
        }
        parsed_core = self._parse_core_values(core, errors)
        parsed_custom = self._parse_custom_values(target, fields or {}, errors) if target else {}
        if errors:
            raise InvalidInput(fields=errors, code="invalid_deal")
        assert target is not None and target_stage is not None
        now = self.now()
        deal = Deal(
            pipeline=target,
            stage=target_stage,
            created_at=now,
            updated_at=now,
            stage_entered_at=now,
            is_sandbox=is_sandbox,
            fields={},
            order_source=order[0] if order is not None else None,
            order_number=order[1] if order is not None else None,
        )
        for key, value in parsed_core.items():
            self._apply_core(deal, key, value)
        deal.fields = {
            code: typed.to_json(definition.type, value)
            for code, (definition, value) in parsed_custom.items()
            if value is not None
        }
        self.session.add(deal)
        self.session.flush()
        hold(self.session, deal)
        self._timeline(
            deal,
            "created",
            f"Deal created in {target.name} / {target_stage.name}",
            cause,
            {"pipeline": target.code, "stage": target_stage.code},
        )
        self._publish(DealCreated(deal_id=deal.id, cause=cause))
        return deal

    def move_deal(self, deal: Deal, stage: Stage | str, *, cause: Cause, loss_reason: str | None = None) -> bool:
        """Move to a stage, in this or another pipeline; False (nothing written) if already there.

        Every move passes here (API, board, robots, triggers, BPMN actions), so this is where
        the target's gate is checked: StageGateRefused, nothing written, if a required field
        is empty or a lost stage of a pipeline with a loss-reason list gets none of them.
        """
        target = self.stage(stage, deal.pipeline)
        if target.id == deal.stage_id:
            return False
        reason = self.check_gate(deal, target, loss_reason=loss_reason, by_person=cause.kind == "user")
        source_stage, source_pipeline = deal.stage, deal.pipeline
        now = self.now()
        deal.stage = target
        deal.pipeline = target.pipeline
        deal.stage_entered_at = now
        deal.updated_at = now
        deal.loss_reason = reason if target.kind == "lost" else None
        if source_pipeline.id == target.pipeline.id:
            text = f"Stage: {source_stage.name} → {target.name}"
        else:
            text = f"Stage: {source_pipeline.name} / {source_stage.name} → {target.pipeline.name} / {target.name}"
        data = {
            "from_pipeline": source_pipeline.code,
            "from_stage": source_stage.code,
            "to_pipeline": target.pipeline.code,
            "to_stage": target.code,
        }
        if deal.loss_reason:
            text += f". Loss reason: {deal.loss_reason}"
            data["loss_reason"] = deal.loss_reason
        self._timeline(deal, "stage_moved", text, cause, data)
        self._publish(
            DealMoved(
                deal_id=deal.id,
                from_stage_id=source_stage.id,
                to_stage_id=target.id,
                from_pipeline_id=source_pipeline.id,
                to_pipeline_id=target.pipeline.id,
                cause=cause,
            )
        )
        return True

    def check_gate(self, deal: Deal, target: Stage, *, loss_reason: str | None = None,
                   by_person: bool = True) -> str | None:
        """The loss reason to store (None if the stage is not lost), or StageGateRefused listing
        every missing field and, for a lost stage, the reasons to pick from.

        A person losing a deal picks why; an automation (an order cancelled by the store, a
        process's rejection path) may give a reason from the list but is not stopped for lack of
        one: it has nobody to ask, and refusing would leave the deal where the store no longer has it."""
        definitions = self.field_defs(target.pipeline)
        missing = []
        for code in target.required_fields or ():
            if not typed.is_empty(self._raw_value(deal, code)):
                continue
            definition = definitions.get(code)
            missing.append({
                "name": code,
                "label": definition.name if definition else code,
                "type": definition.type if definition else "string",
                "options": list(definition.options or []) if definition else [],
            })
        reasons = [str(r) for r in target.pipeline.loss_reasons or ()]
        reason = None if loss_reason is None or typed.is_empty(loss_reason) else str(loss_reason).strip()
        wrong_reason = reason is not None and reason not in reasons
        needs_reason = target.kind == "lost" and bool(reasons) and (wrong_reason or (by_person and reason is None))
        if missing or needs_reason:
            raise StageGateRefused(target.ref, target.name, missing, reasons if needs_reason else None)
        return reason if target.kind == "lost" else None

    def set_fields(self, deal: Deal, values: Mapping[str, Any], *, cause: Cause) -> dict[str, tuple[Any, Any]]:
        """Set core attributes and custom fields at once; all valid or nothing written.

        Returns the real changes, key -> (old, new) in Python form (custom user fields and
        *_id attributes as ids); unchanged values are left out and, if nothing changed, no
        entry is written and no event published.
        """
        errors: dict[str, str] = {}
        requested = {ALIASES.get(key, key): value for key, value in values.items()}
        core = {key: value for key, value in requested.items() if key in CORE_FIELDS}
        custom = {key: value for key, value in requested.items() if key not in CORE_FIELDS}
        parsed_core = self._parse_core_values(core, errors)
        parsed_custom = self._parse_custom_values(deal.pipeline, custom, errors)
        if errors:
            raise InvalidInput(fields=errors, code="invalid_fields")

        changes: dict[str, tuple[Any, Any]] = {}
        labels: dict[str, str] = {}
        for key, value in parsed_core.items():
            old, new = self._core_value(deal, key), _id_of(value)
            if old != new:
                changes[key] = (old, new)
                labels[key] = CORE_LABELS[key]
                self._apply_core(deal, key, value)
        stored = dict(deal.fields)
        for code, (definition, value) in parsed_custom.items():
            old = typed.from_json(definition.type, stored.get(code))
            if old != value:
                changes[code] = (old, value)
                labels[code] = definition.name
                if value is None:
                    stored.pop(code, None)
                else:
                    stored[code] = typed.to_json(definition.type, value)
        if not changes:
            return {}
        deal.fields = stored
        deal.updated_at = self.now()
        for key, (old, new) in changes.items():
            text = f"{labels[key]}: {self._describe(key, old)} → {self._describe(key, new)}"
            self._timeline(
                deal,
                "field_changed",
                text,
                cause,
                {
                    "field": key,
                    "old": jsonable(old),
                    "new": jsonable(new),
                },
            )
        self._publish(DealFieldsChanged(deal_id=deal.id, changes=changes, cause=cause))
        return changes

    def copy_deal(
        self,
        deal: Deal,
        *,
        stage: Stage | str | None = None,
        pipeline: Pipeline | str = "main",
        title: str | None = None,
        cause: Cause,
    ) -> Deal:
        """A new deal for the same client (a repeat sale, S8): contact, responsible, department,
        source, amount, products and the custom fields the target pipeline knows are copied;
        both deals' timelines say where the other one is.

        `stage` is "pipeline.stage" or a stage of `pipeline`; its start stage if None.
        """
        target = self._pipeline_of(stage.pipeline if isinstance(stage, Stage) else pipeline)
        if isinstance(stage, str) and "." in stage:
            target = self.pipeline(stage.split(".", 1)[0])
        definitions = self.field_defs(target)
        copied_fields = {
            code: typed.from_json(definitions[code].type, raw)
            for code, raw in (deal.fields or {}).items()
            if code in definitions
        }
        copy = self.create_deal(
            title=title if title is not None and title.strip() else deal.title,
            pipeline=target,
            stage=stage,
            amount=deal.amount,
            currency=deal.currency,
            responsible=deal.responsible,
            contact=deal.contact,
            department=deal.department,
            source=deal.source,
            products=[dict(product) for product in deal.products or []],
            fields=copied_fields,
            is_sandbox=deal.is_sandbox,
            cause=cause,
        )
        self._timeline(
            deal, "copied_to", f"Copied to deal #{copy.id}: {copy.title}", cause, {"deal_id": copy.id}
        )
        self._timeline(
            copy, "copied_from", f"Copy of deal #{deal.id}: {deal.title}", cause, {"deal_id": deal.id}
        )
        self.session.flush()
        return copy

    # --- helpers -------------------------------------------------------------------------

    def _stage_or_start(self, stage: Stage | str | None, pipeline: Pipeline) -> Stage:
        if stage is None:
            return self.start_stage(pipeline)
        return self.stage(stage, pipeline)

    def _raw_value(self, deal: Deal, code: str) -> Any:
        key = ALIASES.get(code, code)
        if key in CORE_FIELDS:
            return self._core_value(deal, key)
        return deal.fields.get(code)

    def _core_value(self, deal: Deal, key: str) -> Any:
        # Read references through the relationship: *_id lags behind it until the next flush.
        relation = RELATIONS.get(key)
        return _id_of(getattr(deal, relation)) if relation else getattr(deal, key)

    def _parse_core_values(self, core: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        for key, value in core.items():
            if key == "products":
                products, product_errors = typed.parse_products(value)
                errors.update(product_errors)
                parsed[key] = products
                continue
            try:
                parsed[key] = self._parse_core(key, value)
            except (ValueError, NotFound) as error:
                errors[key] = _reason(error)
        return parsed

    def _parse_core(self, key: str, value: Any) -> Any:
        if key == "title":
            if typed.is_empty(value):
                raise ValueError("is required")
            return shortened(typed.parse_string(value).strip(), column_length(Deal.title))
        if key == "amount":
            amount = typed.parse_money(0 if value is None else value)
            if amount < 0:
                raise ValueError("must not be negative")
            return amount
        if key == "currency":
            code = typed.parse_string(value or "").strip().upper()
            if len(code) != 3 or not code.isalpha():
                raise ValueError("must be a three-letter currency code")
            return code
        if key == "source":
            return None if typed.is_empty(value) else typed.parse_string(value).strip()
        if value is None:
            return None
        if key == "responsible_id":
            return self.user(value)
        if key == "contact_id":
            return self.contact(value)
        return self.department(value)

    def _parse_custom_values(
        self, pipeline: Pipeline, custom: Mapping[str, Any], errors: dict[str, str]
    ) -> dict[str, tuple[FieldDef, Any]]:
        definitions = self.field_defs(pipeline)
        parsed: dict[str, tuple[FieldDef, Any]] = {}
        for code, value in custom.items():
            definition = definitions.get(code)
            if definition is None:
                errors[code] = f"is not a field of pipeline '{pipeline.code}'"
                continue
            try:
                parsed[code] = (definition, self._parse_custom(definition, value))
            except (ValueError, NotFound) as error:
                errors[code] = _reason(error)
        return parsed

    def _parse_custom(self, definition: FieldDef, value: Any) -> Any:
        if typed.is_empty(value):
            return None
        if definition.type == "user":
            return self.user(value).id
        return typed.parse_field(definition.type, value, definition.options)

    def _apply_core(self, deal: Deal, key: str, value: Any) -> None:
        # References go through the relationship so deal.responsible etc. are never stale.
        setattr(deal, RELATIONS.get(key, key), value)

    def _describe(self, key: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if key == "products":
            return f"{len(value)} item(s)"
        if key == "responsible_id" or (isinstance(value, int) and self._is_user_field(key)):
            user = self.session.get(User, value)
            return user.name if user else str(value)
        if key == "contact_id":
            contact = self.session.get(Contact, value)
            return contact.name if contact else str(value)
        if key == "department_id":
            department = self.session.get(Department, value)
            return department.name if department else str(value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(jsonable(value))

    def _is_user_field(self, code: str) -> bool:
        return (
            self.session.scalar(select(FieldDef.id).where(FieldDef.code == code, FieldDef.type == "user")) is not None
        )


def _id_of(value: Any) -> Any:
    return value.id if isinstance(value, User | Contact | Department) else value


def _reason(error: Exception) -> str:
    return error.message if isinstance(error, NotFound) else str(error)
