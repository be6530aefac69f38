"""The corpus's counts (accepted, refused, ran to end, gaps), and a way to record today's outcomes.

    .venv/bin/python -m tests.engine.interop.counts            # counts, and files whose outcome changed
    .venv/bin/python -m tests.engine.interop.counts --record   # write today's outcomes into the manifest

Recording keeps each line's source fields and its `gap` mark; an accepted file whose outcome is
not `ended:` gets `gap: true` unless its line already says `gap: false` (it is meant to wait);
a `note` says why a file does not end, and goes when it does.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from crm.db import Database
from tests.support.interop import FILES, MANIFEST, load_manifest, matches, observe
from tests.support.schema import create_schema


def kind(outcome: str) -> str:
    return outcome.split(":", 1)[0]


def is_gap(entry: dict[str, object], outcome: str) -> bool:
    accepted = kind(outcome) not in ("refused",)
    if not accepted:
        return False
    if kind(outcome) == "ended":
        return False
    if kind(outcome) in ("crash", "hang"):
        return True
    return bool(entry.get("gap", True))


def line(entry: dict[str, object]) -> str:
    fields = ", ".join(f"{k}: {_scalar(v)}" for k, v in entry.items())
    return f"- {{{fields}}}\n"


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"' if not text.replace(".", "").isalnum() else text


def main(record: bool) -> None:
    entries = load_manifest()
    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.sqlite3"
        db = Database(f"sqlite:///{template}")
        create_schema(db)
        db.dispose()
        for number, entry in enumerate(entries):
            path = Path(tmp) / f"case{number}.sqlite3"
            shutil.copyfile(template, path)
            db = Database(f"sqlite:///{path}")
            try:
                outcome = observe(db, FILES / str(entry["file"]))
            finally:
                db.dispose()
            if not matches(str(entry.get("outcome", "?")), outcome):
                print(f"{entry['file']}: manifest {entry.get('outcome')!r}, today {outcome!r}")
            if record:
                entry["outcome"] = outcome
                if kind(outcome) in ("refused", "ended"):
                    entry.pop("note", None)  # a gap's note says why it does not end
                if kind(outcome) == "refused":
                    entry.pop("gap", None)
                else:
                    entry["gap"] = is_gap(entry, outcome)
            counts["files"] += 1
            counts["refused" if kind(outcome) == "refused" else "accepted"] += 1
            if kind(outcome) != "refused":
                counts[kind(outcome)] += 1
            counts["gaps"] += is_gap(entry, outcome)
    if record:
        MANIFEST.write_text("".join(line(e) for e in entries), encoding="utf-8")
    print(", ".join(f"{k}: {counts[k]}" for k in ("files", "accepted", "refused", "ended", "waits", "incident",
                                                    "start refused", "task refused", "crash", "hang", "gaps")))


if __name__ == "__main__":
    main("--record" in sys.argv[1:])
