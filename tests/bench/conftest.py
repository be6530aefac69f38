"""The bench scripts import their shared helpers as `common` (they run as `python bench/x.py`);
bench/ goes last on sys.path so that name resolves here too without shadowing `api`."""

import sys
from pathlib import Path

BENCH = str(Path(__file__).resolve().parents[2] / "bench")
if BENCH not in sys.path:
    sys.path.append(BENCH)
