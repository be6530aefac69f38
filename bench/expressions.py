"""DSL benchmark: one robot condition evaluated by the dsl against the same condition as a
Python lambda over the same values, measured in the same run (the baseline no user text may
ever use, and the floor the evaluator is compared with).

    python bench/expressions.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

import dsl
from tests.dsl.support import make_env

CONDITION = "deal.amount > 1000 and deal.stage == 'new'"


def per_call_us(fn: Any, calls: int) -> float:
    best = float("inf")
    for _ in range(5):  # other load on a shared machine only slows a round down: keep the best
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    now = datetime.now(UTC)
    env = make_env()
    expression = dsl.compile_expression(CONDITION)
    deal = env["deal"]
    amount, stage = deal.dsl_get("amount"), deal.dsl_get("stage")
    dsl_us = per_call_us(lambda: expression.evaluate(env, now), args.calls)
    python_us = per_call_us(lambda: amount > 1000 and stage == "new", args.calls)
    print(f"condition {CONDITION!r}: dsl {dsl_us:.2f} µs, python lambda {python_us:.3f} µs, "
          f"ratio {dsl_us / python_us:.0f}x")


if __name__ == "__main__":
    main()
