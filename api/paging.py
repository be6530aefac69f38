"""`page` / `per_page` on every list, with the totals in an `X-Pagination` header.

flask-smorest's own pager calls the size `page_size`; the API's contract says `per_page`,
so the few lines are here, in the same header format smorest writes.
"""

from __future__ import annotations

import json
import math
from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.schemas.common import StrictSchema

MAX_PER_PAGE = 100


class PageQuerySchema(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


def page_of(session: Session, query: Select[Any], args: dict[str, Any]) -> tuple[list[Any], dict[str, str]]:
    """One page of `query`'s rows and the header describing where it sits."""
    page, per_page = args.pop("page", 1), args.pop("per_page", 20)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return rows, pagination_header(total, page, per_page)


def page_of_list(items: list[Any], args: dict[str, Any]) -> tuple[list[Any], dict[str, str]]:
    """The same for a list the domain already built (small lists: feeds, history)."""
    page, per_page = args.pop("page", 1), args.pop("per_page", 20)
    start = (page - 1) * per_page
    return items[start:start + per_page], pagination_header(len(items), page, per_page)


def pagination_header(total: int, page: int, per_page: int) -> dict[str, str]:
    pages = max(1, math.ceil(total / per_page))
    meta: dict[str, Any] = {"total": total, "total_pages": pages, "first_page": 1, "last_page": pages,
                            "page": page, "per_page": per_page}
    if page > 1:
        meta["previous_page"] = min(page - 1, pages)
    if page < pages:
        meta["next_page"] = page + 1
    return {"X-Pagination": json.dumps(meta)}
