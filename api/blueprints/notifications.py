"""The notification feed. Until sign-in names the caller, the caller names the feed's user."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from api.context import request_cause, unit_of_work
from api.paging import PageQuerySchema, page_of_list
from api.refs import ref
from api.schemas.common import ID_RULE
from api.schemas.crm import FeedQuerySchema, NotificationSchema
from crm.errors import NotFound
from crm.models import Notification

bp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications", description="Notification feed")


class FeedQuery(FeedQuerySchema, PageQuerySchema):
    pass


@bp.get("")
@unit_of_work
@bp.arguments(FeedQuery, location="query")
@bp.response(200, NotificationSchema(many=True))
def feed(args: dict[str, Any], *, rt: Any) -> Any:
    """Newest first."""
    found = rt.crm.notifications(ref(args["user"]), unread_only=args["unread_only"])
    return page_of_list(found, args)


@bp.post(f"/<{ID_RULE}:notification_id>/read")
@unit_of_work
@bp.response(200, NotificationSchema)
def mark_read(notification_id: int, *, rt: Any) -> Any:
    notification = rt.session.get(Notification, notification_id)
    if notification is None:
        raise NotFound(f"Notification {notification_id} does not exist", code="notification_not_found")
    return rt.crm.mark_read(notification, cause=request_cause())
