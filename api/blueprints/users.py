"""Users of the CRM: who deals and tasks go to. Sign-in and passwords belong to auth."""

from __future__ import annotations

from typing import Any

from api.auth import current_user, ensure, requires
from api.context import request_cause, unit_of_work
from api.paging import PageQuerySchema, page_of_list
from api.parsing import Blueprint
from api.refs import ref
from api.schemas.common import ID_RULE
from api.schemas.crm import NewUserSchema, PresenceSchema, UserQuerySchema, UserSchema
from engine.runtime import Runtime

bp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users")


class UserListQuery(UserQuerySchema, PageQuerySchema):
    pass


@bp.get("")
@unit_of_work
@bp.arguments(UserListQuery, location="query")
@bp.response(200, UserSchema(many=True))
def list_users(args: dict[str, Any], *, rt: Runtime) -> Any:
    department = ref(args["department"]) if "department" in args else None
    found = rt.crm.users(role=args.get("role"), department=department, present=args.get("present"))
    return page_of_list(found, args)


@bp.post("")
@requires("manage_users")
@unit_of_work
@bp.arguments(NewUserSchema)
@bp.response(201, UserSchema)
def create_user(body: dict[str, Any], *, rt: Runtime) -> Any:
    return rt.crm.create_user(
        login=body["login"], name=body["name"], email=body["email"], phone=body["phone"],
        department=body["department_id"], supervisor=body["supervisor_id"], roles=body["roles"],
        cause=request_cause(),
    )


@bp.get(f"/<{ID_RULE}:user_id>")
@unit_of_work
@bp.response(200, UserSchema)
def get_user(user_id: int, *, rt: Runtime) -> Any:
    return rt.crm.user(user_id)


@bp.post(f"/<{ID_RULE}:user_id>/presence")
@unit_of_work
@bp.arguments(PresenceSchema)
@bp.response(200, UserSchema)
def set_presence(body: dict[str, Any], user_id: int, *, rt: Runtime) -> Any:
    """In office or away: who may get new deals in turn. Yourself, your department's staff if
    you head it, anyone if you manage users."""
    target = rt.crm.user(user_id)
    me = current_user()
    heads_it = "head" in me.roles and me.department_id is not None and target.department_id == me.department_id
    if target.id != me.id and not heads_it:
        ensure("manage_users")
    return rt.crm.set_presence(target, body["present"], cause=request_cause())
