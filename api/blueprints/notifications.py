"""The caller's notification feed; reading another user's needs the right to manage users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from api.auth import current_user, ensure
from api.context import request_cause, unit_of_work
from api.paging import PageQuerySchema, page_of_list
from api.parsing import Blueprint
from api.refs import ref
from api.schemas.common import ID_RULE
from api.schemas.crm import FeedQuerySchema, NotificationSchema, ReadAllSchema, UnreadCountSchema
from crm.errors import NotFound
from crm.models import Notification
from engine.runtime import Runtime

bp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications", description="Notification feed")


class FeedQuery(FeedQuerySchema, PageQuerySchema):
    pass


@bp.get("")
@unit_of_work
@bp.arguments(FeedQuery, location="query")
@bp.response(200, NotificationSchema(many=True))
def feed(args: dict[str, Any], *, rt: Runtime) -> Any:
    """Newest first."""
    me = current_user()
    user = ref(args["user"]) if args.get("user") is not None else me.id
    if user not in (me.id, me.login):
        ensure("manage_users")
    found = rt.crm.notifications(user, unread_only=args["unread_only"])
    return page_of_list(found, args)


@bp.post(f"/<{ID_RULE}:notification_id>/read")
@unit_of_work
@bp.response(200, NotificationSchema)
def mark_read(notification_id: int, *, rt: Runtime) -> Any:
    notification = rt.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user().id:
        raise NotFound(f"Notification {notification_id} does not exist", code="notification_not_found")
    return rt.crm.mark_read(notification, cause=request_cause())


@bp.get("/unread-count")
@unit_of_work
@bp.response(200, UnreadCountSchema)
def unread_count(*, rt: Runtime) -> Any:
    """The number on the bell: one cheap count, not the whole feed."""
    return {"unread": _unread(rt.session, current_user().id)}


@bp.post("/read-all")
@unit_of_work
@bp.response(200, ReadAllSchema)
def mark_all_read(*, rt: Runtime) -> Any:
    """Only the caller's own feed: nobody empties another person's notifications."""
    me = current_user()
    marked = rt.crm.mark_all_read(me.id, cause=request_cause())
    return {"marked": marked, "unread": _unread(rt.session, me.id)}


def _unread(session: Any, user_id: int) -> int:
    query = select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    return int(session.scalar(query) or 0)
