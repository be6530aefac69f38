"""The CRM's set-up: pipelines and their stages, custom field definitions, departments, users.

These change rarely and are not deal history, so they get no timeline entries; what they
guard are the invariants everything else relies on: every pipeline has one start stage and
closing (won and lost) stages, which therefore cannot be deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, or_, select

from crm.base import ServiceBase, by_key, require_text
from crm.errors import Conflict, InvalidInput, NotFound
from crm.events import Cause
from crm.models import FIELD_TYPES, LANGUAGES, ROLES, STAGE_KINDS, Deal, Department, FieldDef, Pipeline, Stage, User

CODE = re.compile(r"^[a-z][a-z0-9_]*$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOUR = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
#: Names a custom field may not take: the deal record already exposes them.
RESERVED_FIELD_CODES = frozenset(
    {
        "id",
        "title",
        "amount",
        "currency",
        "pipeline",
        "stage",
        "stage_name",
        "stage_kind",
        "stage_entered_at",
        "created_at",
        "updated_at",
        "source",
        "department",
        "products",
        "responsible",
        "contact",
        "responsible_id",
        "contact_id",
        "department_id",
        "fields",
        "is_sandbox",
        "version",
    }
)


class DirectoryMixin(ServiceBase):
    # --- pipelines and stages ----------------------------------------------------------

    def pipeline(self, code: str) -> Pipeline:
        found = by_key(self.session, Pipeline, "code", code)
        if found is None:
            raise NotFound(
                f"Pipeline '{code}' does not exist; pipelines: {', '.join(self._pipeline_codes()) or 'none'}",
                code="pipeline_not_found",
            )
        return found

    def pipelines(self) -> list[Pipeline]:
        return list(self.session.scalars(select(Pipeline).order_by(Pipeline.sort, Pipeline.id)))

    def stage(self, ref: Stage | str, pipeline: Pipeline | str | None = None) -> Stage:
        """ "credit.documents" anywhere, or "documents" relative to `pipeline`."""
        if isinstance(ref, Stage):
            return ref
        if "." in ref:
            pipeline_code, code = ref.split(".", 1)
            pipeline = self.pipeline(pipeline_code)
        elif pipeline is None:
            raise NotFound(f"Stage '{ref}' needs its pipeline: write it as pipeline.stage", code="stage_not_found")
        else:
            code = ref
            pipeline = self._pipeline_of(pipeline)
        for stage in pipeline.stages:
            if stage.code == code:
                return stage
        known = ", ".join(stage.code for stage in pipeline.stages)
        raise NotFound(f"Pipeline '{pipeline.code}' has no stage '{code}'; stages: {known}", code="stage_not_found")

    def start_stage(self, pipeline: Pipeline) -> Stage:
        return next(stage for stage in pipeline.stages if stage.is_start)

    def create_pipeline(
        self,
        code: str,
        name: str,
        stages: Sequence[Mapping[str, Any]],
        *,
        loss_reasons: Sequence[str] = (),
        cause: Cause,
    ) -> Pipeline:
        """Stages in order; if none is marked is_start the first one is. Stage gates name
        fields, which need the pipeline first: declare them with `set_gates`."""
        errors: dict[str, str] = {}
        reasons = _check_reasons(errors, loss_reasons)
        self._check_code(errors, "code", code)
        if not errors and self.session.scalar(select(Pipeline.id).where(Pipeline.code == code)):
            errors["code"] = f"pipeline '{code}' already exists"
        require_text(errors, "name", name)
        built = self._build_stages(stages, errors)
        if errors:
            raise InvalidInput(fields=errors, code="invalid_pipeline")
        sort = (self.session.scalar(select(func.max(Pipeline.sort))) or 0) + 1
        pipeline = Pipeline(code=code, name=name.strip(), sort=sort, stages=built, loss_reasons=reasons)
        self.session.add(pipeline)
        self.session.flush()
        return pipeline

    def add_stage(
        self,
        pipeline: Pipeline | str,
        *,
        code: str,
        name: str,
        kind: str = "in_progress",
        after: str | None = None,
        cause: Cause,
    ) -> Stage:
        """A new stage after `after`, or else before the closing stages (closing ones last)."""
        pipeline = self._pipeline_of(pipeline)
        errors: dict[str, str] = {}
        self._check_code(errors, "code", code)
        if any(stage.code == code for stage in pipeline.stages):
            errors["code"] = f"stage '{code}' already exists in '{pipeline.code}'"
        require_text(errors, "name", name)
        if kind not in STAGE_KINDS:
            errors["kind"] = f"must be one of: {', '.join(STAGE_KINDS)}"
        ordered = list(pipeline.stages)
        if after is not None:
            found = next((i + 1 for i, stage in enumerate(ordered) if stage.code == after), None)
            if found is None:
                errors["after"] = f"pipeline '{pipeline.code}' has no stage '{after}'"
            position = len(ordered) if found is None else found
        elif kind == "in_progress":
            position = next((i for i, stage in enumerate(ordered) if stage.is_closing), len(ordered))
        else:
            position = len(ordered)
        if errors:
            raise InvalidInput(fields=errors, code="invalid_stage")
        stage = Stage(code=code, name=name.strip(), kind=kind, is_start=False)
        ordered.insert(position, stage)
        for sort, each in enumerate(ordered):
            each.sort = sort
        pipeline.stages = ordered  # keep the loaded collection in display order too
        self.session.flush()
        return stage

    def delete_stage(self, stage: Stage | str, *, cause: Cause) -> None:
        """Only an empty, ordinary stage can go: closing and start stages anchor the pipeline."""
        stage = self.stage(stage)
        if stage.is_closing:
            raise Conflict(
                f"Stage '{stage.ref}' is a closing ({stage.kind}) stage and cannot be deleted",
                code="closing_stage",
            )
        if stage.is_start:
            raise Conflict(f"Stage '{stage.ref}' is the start stage and cannot be deleted", code="start_stage")
        deals = self.session.scalar(select(func.count(Deal.id)).where(Deal.stage_id == stage.id))
        if deals:
            raise Conflict(f"Stage '{stage.ref}' still holds {deals} deal(s)", code="stage_not_empty")
        stage.pipeline.stages.remove(stage)
        self.session.flush()

    def set_gates(
        self,
        pipeline: Pipeline | str,
        *,
        required_fields: Mapping[str, Sequence[str]] | None = None,
        loss_reasons: Sequence[str] | None = None,
        cause: Cause,
    ) -> Pipeline:
        """Declare stage gates: for each named stage the field codes a deal needs to enter it
        (an empty list opens the gate; stages not named keep theirs), and the pipeline's
        loss-reason pick list (None keeps it). All valid or nothing changes."""
        pipeline = self._pipeline_of(pipeline)
        errors: dict[str, str] = {}
        stages = {stage.code: stage for stage in pipeline.stages}
        definitions = self.field_defs(pipeline)
        checked: dict[str, list[str]] = {}
        for stage_code, codes in (required_fields or {}).items():
            if stage_code not in stages:
                errors[f"required_fields.{stage_code}"] = (
                    f"pipeline '{pipeline.code}' has no stage '{stage_code}'; stages: {', '.join(stages)}"
                )
                continue
            unknown = [str(c) for c in codes if c not in definitions]
            if unknown:
                errors[f"required_fields.{stage_code}"] = (
                    f"unknown field(s) {', '.join(unknown)}; fields: {', '.join(definitions) or 'none'}"
                )
                continue
            checked[stage_code] = list(dict.fromkeys(str(c) for c in codes))
        reasons = None if loss_reasons is None else _check_reasons(errors, loss_reasons)
        if errors:
            raise InvalidInput(fields=errors, code="invalid_gates")
        for stage_code, codes in checked.items():
            stages[stage_code].required_fields = codes
        if reasons is not None:
            pipeline.loss_reasons = reasons
        self.session.flush()
        return pipeline

    # --- custom fields -------------------------------------------------------------------

    def field_defs(self, pipeline: Pipeline) -> dict[str, FieldDef]:
        """Fields that apply to the pipeline: its own win over global ones of the same code."""
        query = (
            select(FieldDef)
            .where(or_(FieldDef.pipeline_id == pipeline.id, FieldDef.pipeline_id.is_(None)))
            .order_by(FieldDef.pipeline_id.is_not(None), FieldDef.sort, FieldDef.id)
        )
        return {definition.code: definition for definition in self.session.scalars(query)}

    def create_field_def(
        self,
        *,
        code: str,
        name: str,
        type: str,
        pipeline: Pipeline | str | None = None,
        options: Iterable[str] | None = None,
        cause: Cause,
    ) -> FieldDef:
        errors: dict[str, str] = {}
        self._check_code(errors, "code", code)
        if code in RESERVED_FIELD_CODES:
            errors["code"] = f"'{code}' is a built-in deal attribute"
        require_text(errors, "name", name)
        if type not in FIELD_TYPES:
            errors["type"] = f"must be one of: {', '.join(FIELD_TYPES)}"
        choices = [str(option) for option in options or ()]
        if type == "enum" and not choices:
            errors["options"] = "an enum field needs its options"
        target = self._pipeline_of(pipeline) if pipeline is not None else None
        pipeline_id = target.id if target else None
        scope = FieldDef.pipeline_id.is_(None) if target is None else FieldDef.pipeline_id == pipeline_id
        if "code" not in errors and self.session.scalar(select(FieldDef.id).where(FieldDef.code == code, scope)):
            errors["code"] = f"field '{code}' already exists"
        if errors:
            raise InvalidInput(fields=errors, code="invalid_field_def")
        count = self.session.scalar(select(func.count(FieldDef.id))) or 0
        definition = FieldDef(
            pipeline_id=pipeline_id, code=code, name=name.strip(), type=type, options=choices, sort=count
        )
        self.session.add(definition)
        self.session.flush()
        return definition

    # --- departments and users -----------------------------------------------------------

    def create_department(
        self, *, code: str, name: str, head: User | int | str | None = None, cause: Cause
    ) -> Department:
        errors: dict[str, str] = {}
        self._check_code(errors, "code", code)
        if "code" not in errors and self.session.scalar(select(Department.id).where(Department.code == code)):
            errors["code"] = f"department '{code}' already exists"
        require_text(errors, "name", name)
        head_user = self._user_or_error(errors, "head", head)
        if errors:
            raise InvalidInput(fields=errors, code="invalid_department")
        department = Department(code=code, name=name.strip(), head_id=head_user.id if head_user else None)
        self.session.add(department)
        self.session.flush()
        return department

    def set_department_head(
        self, department: Department | int | str, head: User | int | str | None, *, cause: Cause
    ) -> Department:
        department = self.department(department)
        department.head_id = None if head is None else self.user(head).id
        self.session.flush()
        return department

    def create_user(
        self,
        *,
        login: str,
        name: str,
        email: str | None = None,
        phone: str | None = None,
        department: Department | int | str | None = None,
        supervisor: User | int | str | None = None,
        roles: Iterable[str] = (),
        present: bool = True,
        working_hours: Mapping[str, Sequence[str]] | None = None,
        timezone: str = "UTC",
        password_hash: str | None = None,
        active: bool = True,
        cause: Cause,
    ) -> User:
        errors: dict[str, str] = {}
        if not isinstance(login, str) or not login.strip():
            errors["login"] = "is required"
        elif self.session.scalar(select(User.id).where(User.login == login.strip())):
            errors["login"] = f"login '{login}' is taken"
        require_text(errors, "name", name)
        role_list = list(roles)
        unknown = [role for role in role_list if role not in ROLES]
        if unknown:
            errors["roles"] = f"unknown role(s) {', '.join(unknown)}; roles: {', '.join(ROLES)}"
        hours = _check_hours(errors, working_hours or {})
        home = None
        if department is not None:
            try:
                home = self.department(department)
            except NotFound as error:
                errors["department"] = error.message
        boss = self._user_or_error(errors, "supervisor", supervisor)
        if errors:
            raise InvalidInput(fields=errors, code="invalid_user")
        user = User(
            login=login.strip(),
            name=name.strip(),
            email=email,
            phone=phone,
            department=home,
            supervisor=boss,
            roles=role_list,
            present=present,
            working_hours=hours,
            timezone=timezone,
            password_hash=password_hash,
            active=active,
        )
        self.session.add(user)
        self.session.flush()
        return user

    def set_presence(self, user: User | int | str, present: bool, *, cause: Cause) -> User:
        """In office or away: who may get new deals "in turn" (scenario S5)."""
        user = self.user(user)
        user.present = bool(present)
        self.session.flush()
        return user

    def set_language(self, user: User | int | str, language: str, *, cause: Cause) -> User:
        """The language the person reads the app in; only the ones the app has catalogs for."""
        user = self.user(user)
        if language not in LANGUAGES:
            raise InvalidInput(fields={"language": f"must be one of {', '.join(LANGUAGES)}"}, code="invalid_user")
        user.language = language
        self.session.flush()
        return user

    def users(
        self,
        *,
        role: str | None = None,
        department: Department | int | str | None = None,
        present: bool | None = None,
        active: bool | None = True,
    ) -> list[User]:
        """Users in login order (a stable order for round-robin assignment)."""
        query = select(User).order_by(User.login)
        if department is not None:
            query = query.where(User.department_id == self.department(department).id)
        if present is not None:
            query = query.where(User.present.is_(present))
        if active is not None:
            query = query.where(User.active.is_(active))
        found = list(self.session.scalars(query))
        # Roles are a JSON list; filtering in Python keeps one query for both backends.
        return [user for user in found if role is None or role in (user.roles or [])]

    # --- helpers -------------------------------------------------------------------------

    def _pipeline_of(self, pipeline: Pipeline | str) -> Pipeline:
        return pipeline if isinstance(pipeline, Pipeline) else self.pipeline(pipeline)

    def _pipeline_codes(self) -> list[str]:
        return list(self.session.scalars(select(Pipeline.code).order_by(Pipeline.sort, Pipeline.id)))

    def _user_or_error(self, errors: dict[str, str], key: str, ref: User | int | str | None) -> User | None:
        if ref is None:
            return None
        try:
            return self.user(ref)
        except NotFound as error:
            errors[key] = error.message
            return None

    @staticmethod
    def _check_code(errors: dict[str, str], key: str, code: Any) -> None:
        if not isinstance(code, str) or not CODE.match(code):
            errors[key] = "must be lower-case letters, digits and _ and start with a letter"

    @staticmethod
    def _build_stages(stages: Sequence[Mapping[str, Any]], errors: dict[str, str]) -> list[Stage]:
        built: list[Stage] = []
        seen: set[str] = set()
        for index, spec in enumerate(stages):
            path = f"stages[{index}]"
            code, kind = spec.get("code"), spec.get("kind", "in_progress")
            if not isinstance(code, str) or not CODE.match(code):
                errors[f"{path}.code"] = "must be lower-case letters, digits and _"
            elif code in seen:
                errors[f"{path}.code"] = f"stage '{code}' appears twice"
            seen.add(str(code))
            name = spec.get("name") or code
            if kind not in STAGE_KINDS:
                errors[f"{path}.kind"] = f"must be one of: {', '.join(STAGE_KINDS)}"
            built.append(
                Stage(
                    code=code,
                    name=str(name),
                    sort=index,
                    kind=kind,
                    is_start=bool(spec.get("is_start", False)),
                )
            )
        starts = [stage for stage in built if stage.is_start]
        if built and not starts:
            built[0].is_start = True
            starts = [built[0]]
        if len(starts) > 1:
            errors["stages"] = "only one stage can be the start stage"
        elif starts and starts[0].is_closing:
            errors["stages"] = "the start stage cannot be a closing stage"
        for kind in ("won", "lost"):
            if not any(stage.kind == kind for stage in built):
                errors.setdefault("stages", f"a pipeline needs at least one {kind} stage")
        return built


def _check_reasons(errors: dict[str, str], reasons: Sequence[str]) -> list[str]:
    """A loss-reason pick list: distinct, non-empty phrases of at most 200 characters."""
    cleaned: list[str] = []
    for index, reason in enumerate(reasons):
        text = reason.strip() if isinstance(reason, str) else ""
        if not text or len(text) > 200:
            errors[f"loss_reasons[{index}]"] = "must be a phrase of 1 to 200 characters"
        elif text in cleaned:
            errors[f"loss_reasons[{index}]"] = f"'{text}' appears twice"
        else:
            cleaned.append(text)
    return cleaned


def _check_hours(errors: dict[str, str], hours: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    checked: dict[str, list[str]] = {}
    for day, span in hours.items():
        valid = (
            day in DAYS
            and isinstance(span, list | tuple)
            and len(span) == 2
            and all(isinstance(part, str) and HOUR.match(part) for part in span)
            and span[0] < span[1]
        )
        if not valid:
            errors[f"working_hours.{day}"] = 'must be a day (mon..sun) with ["HH:MM", "HH:MM"]'
            continue
        checked[day] = list(span)
    return checked
