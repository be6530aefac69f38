"""BPMN as other modelers write it: each public file in tests/engine/interop/ has today's outcome.

Every file is deployed through the engine's real deploy path on a fresh demo world; an accepted
one is started on a deal and driven (open tasks completed with empty data, the virtual clock
moved to the next job, a bounded number of rounds). The manifest (one line per file: source,
license, outcome, gap) records what happens today, so the test documents behaviour and a change
in it is seen; `gap: true` marks accepted files that stall, loop or fail where BPMN means them
to run, the ones later work should turn into `ended:`. Counts: `python -m tests.engine.interop.counts`.

SQLite only: the subject is BPMN interpretation, not the database.
"""

from __future__ import annotations

import time

import pytest

from crm.db import Database
from tests.support.interop import FILES, WALL_SECONDS, load_manifest, matches, observe

ENTRIES = load_manifest()


def test_the_corpus_holds_at_least_sixty_files_each_with_its_source_license_and_outcome() -> None:
    assert len(ENTRIES) >= 60
    for entry in ENTRIES:
        assert {"file", "repo", "path", "commit", "license", "outcome"} <= entry.keys(), entry
        assert (FILES / str(entry["file"])).is_file(), entry["file"]
    listed = {str(e["file"]) for e in ENTRIES}
    on_disk = {str(p.relative_to(FILES)) for p in FILES.rglob("*.bpmn")}
    assert on_disk == listed


@pytest.mark.parametrize("entry", ENTRIES, ids=[str(e["file"]) for e in ENTRIES])
def test_a_public_file_has_its_recorded_outcome_never_a_crash(sqlite_database: Database,
                                                              entry: dict[str, object]) -> None:
    """Nor a hang: the wall guard turns one into the outcome "hang", and that fails too."""
    started = time.monotonic()
    outcome = observe(sqlite_database, FILES / str(entry["file"]))
    assert not outcome.startswith(("crash:", "hang")), outcome
    assert matches(str(entry["outcome"]), outcome), f"manifest says {entry['outcome']!r}, today {outcome!r}"
    if outcome.startswith("ended:"):
        assert not entry.get("gap"), "a file that runs to its end is no gap: set gap: false"
    elif not outcome.startswith("refused:"):
        assert "gap" in entry, "an accepted file that does not end says whether that is a gap"
    assert time.monotonic() - started < WALL_SECONDS
