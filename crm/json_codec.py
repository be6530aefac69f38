"""The one way a Python value becomes JSON: JSON columns, task data, logs, outbox payloads, test-bench files.

The CRM (`crm.base.jsonable`), the engine (`engine.scripting.to_json_safe`), the test bench and
SQLAlchemy's JSON columns (`crm.db`: the engine's `json_serializer`) all use these rules, so a
value stored by one layer reads the same in another:

- decimals are plain numbers, exact for money (`crm.values.number_to_json`);
- moments are ISO 8601 in UTC (a naive one is taken as UTC, as the CRM stores them), dates ISO;
- durations are seconds (a number, as the dsl's `2h` is 7200 seconds);
- a stored object (a deal, a user, a task: any mapped row) is its id, the form every JSON
  column refers to a row by; a record an expression saw (`dsl.record.Record`) is a short summary
  a log line can show ({type, id, login, name, title});
- sets are sorted lists, so the same set always encodes the same (outbox idempotency keys hash it);
- anything else is its `str()`, so a log line or a bench file never fails on an odd value.

Only this module decides; `plain` gives the JSON tree, `dumps`/`loads` the text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, overload

from crm.values import as_aware, number_to_json
from dsl.record import Record

JsonValue = None | bool | int | float | str | list[Any] | dict[str, Any]

_SUMMARY_FIELDS = ("id", "login", "name", "title")


@overload
def plain(value: Mapping[str, Any]) -> dict[str, Any]: ...
@overload
def plain(value: Any) -> Any: ...
def plain(value: Any) -> JsonValue:
    """A deep copy of `value` made of JSON types only, by the rules above."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return _sorted([plain(item) for item in value])
    return _scalar(value)


def dumps(value: Any, **options: Any) -> str:
    """JSON text of `value` (SQLAlchemy's `json_serializer`); `options` go to `json.dumps`."""
    return json.dumps(value, default=plain, **options)


def loads(text: str | bytes) -> Any:
    """The value of JSON text (SQLAlchemy's `json_deserializer`): plain JSON types, as stored."""
    return json.loads(text)


def _scalar(value: Any) -> JsonValue:
    if isinstance(value, Decimal):
        return number_to_json(value)
    if isinstance(value, datetime):
        return as_aware(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Record):
        return _summary(value)
    if hasattr(type(value), "__mapper__"):  # a mapped row (any model of crm.db.Base)
        return getattr(value, "id", None)
    return str(value)


def _summary(record: Record) -> dict[str, Any]:
    summary: dict[str, Any] = {"type": record.dsl_type}
    for name in _SUMMARY_FIELDS:
        try:
            summary[name] = plain(record.dsl_get(name))
        except KeyError:
            continue
    return summary


def _sorted(items: list[Any]) -> list[Any]:
    """Items in one order whatever the set's: by value where they compare, else by their JSON text."""
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
