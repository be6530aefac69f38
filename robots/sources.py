"""The automation text in force for a scope, parsed once per saved version.

Texts are checked when they are saved (unknown actions, fields, stages are refused with
line and column), so what is stored always parses; the parsed file is cached per version.
"""

from __future__ import annotations

import difflib
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.clock import Clock
from dsl import DslError
from dsl.automation import AutomationFile, Catalog
from dsl.base_error import DealflowError
from robots.models import AutomationSource

#: Parsed files by the checksum of their text, least recently used dropped first: a saved version
#: is parsed once while it is in use, and a long-lived process that saw many versions come and go
#: (a designer saving over and over, test-bench runs) keeps only the ones it still reads.
CACHE_SIZE = 256
_cache: OrderedDict[str, AutomationFile] = OrderedDict()
_lock = threading.Lock()


class InvalidAutomation(DealflowError):
    """The text was refused; `errors` lists every problem with its line and column (the details)."""

    code = "invalid_automation"
    status = 422

    def __init__(self, errors: list[DslError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the automation text")
        self.errors = errors

    @property
    def details(self) -> list[dict[str, Any]]:
        return [error.to_dict() for error in self.errors]


def _parse(text: str) -> AutomationFile:
    from dsl.automation_parser import parse_automation

    return parse_automation(text)


def latest(session: Session, scope: str) -> AutomationSource | None:
    return session.scalars(
        select(AutomationSource).where(AutomationSource.scope == scope)
        .order_by(AutomationSource.version.desc()).limit(1)
    ).first()


def load_automation(session: Session, scope: str) -> AutomationFile | None:
    """The parsed automation of `scope` (a pipeline code or "global"), or None if there is none.

    Looked up once per transaction: a batch of moves in one unit asks the database once."""
    per_transaction = _transaction_cache(session)
    if scope not in per_transaction:
        per_transaction[scope] = _load(session, scope)
    return per_transaction[scope]


def _transaction_cache(session: Session) -> dict[str, AutomationFile | None]:
    transaction = session.get_transaction()
    owner, cached = session.info.get("dealflow.automation", (None, None))
    if owner is transaction and cached is not None:
        cache: dict[str, AutomationFile | None] = cached
        return cache
    cache = {}
    session.info["dealflow.automation"] = (transaction, cache)
    return cache


def _load(session: Session, scope: str) -> AutomationFile | None:
    row = session.execute(
        select(AutomationSource.checksum, AutomationSource.id).where(AutomationSource.scope == scope)
        .order_by(AutomationSource.version.desc()).limit(1)
    ).first()
    if row is None:
        return None
    key = row.checksum
    cached = _cached(key)
    if cached is None:
        # The row was just found; one() says so plainly should it vanish in between.
        text = session.scalars(select(AutomationSource.text).where(AutomationSource.id == row.id)).one()
        cached = _remember(key, _parse(text))
    return cached


def _cached(checksum: str) -> AutomationFile | None:
    with _lock:
        found = _cache.get(checksum)
        if found is not None:
            _cache.move_to_end(checksum)
        return found


def _remember(checksum: str, parsed: AutomationFile) -> AutomationFile:
    with _lock:
        _cache[checksum] = parsed
        _cache.move_to_end(checksum)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return parsed


def validate(text: str, catalog: Catalog, scope: str | None = None) -> tuple[AutomationFile | None, list[DslError]]:
    """Parse and check; returns the file and every problem found."""
    from dsl.automation_check import check_automation

    try:
        parsed = _parse(text)
    except DslError as err:
        return None, list(getattr(err, "errors", None) or [err])
    errors = list(check_automation(parsed, catalog))
    if scope is not None and parsed.scope != scope:
        errors.append(DslError(f"this file is for {parsed.scope!r}, not {scope!r}", 1, 1))
    return parsed, errors


def save_automation(session: Session, clock: Clock, scope: str, text: str, catalog: Catalog,
                    saved_by: str | None = None,
                    on_saved: Callable[[AutomationFile], None] | None = None) -> AutomationSource:
    """Store a new version of `scope`'s automation, or refuse it whole with every error."""
    parsed, errors = validate(text, catalog, scope)
    if errors or parsed is None:
        raise InvalidAutomation(errors)
    previous = latest(session, scope)
    if previous is not None and previous.text == text:
        return previous
    checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()
    row = AutomationSource(scope=scope, version=(previous.version + 1) if previous else 1, text=text,
                           checksum=checksum, saved_at=clock.now(), saved_by=saved_by)
    session.add(row)
    session.flush()
    _remember(checksum, parsed)
    _transaction_cache(session)[scope] = parsed
    if on_saved is not None:
        on_saved(parsed)
    return row


def versions(session: Session, scope: str) -> list[AutomationSource]:
    """Every saved version of `scope`, the newest first."""
    return list(session.scalars(
        select(AutomationSource).where(AutomationSource.scope == scope).order_by(AutomationSource.version.desc())))


def version(session: Session, scope: str, number: int) -> AutomationSource | None:
    return session.scalars(select(AutomationSource).where(
        AutomationSource.scope == scope, AutomationSource.version == number)).first()


def diff_versions(before: AutomationSource, after: AutomationSource) -> list[str]:
    """What changed from one saved text to another, as unified diff lines (difflib's)."""
    return list(difflib.unified_diff(before.text.splitlines(), after.text.splitlines(),
                                     f"v{before.version}", f"v{after.version}", lineterm=""))
