"""S1-S4 end to end: every shipped process's test cases, on SQLite and on PostgreSQL.

The cases live next to the templates (`bpmn/*.cases.yaml`) so the CLI, the designer's saved
runs and this suite replay the same files; here each case is one test per backend.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.testcases import run_case
from tests.support.world import demo_engine

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def _cases() -> list:
    params = []
    for case_file in sorted(BPMN.glob("*.cases.yaml")):
        document = yaml.safe_load(case_file.read_text(encoding="utf-8"))
        for case in document["cases"]:
            bpmn_file = case_file.with_name(f"{document['process']}.bpmn")
            params.append(pytest.param(case_file, bpmn_file, case, id=f"{document['process']}: {case['name']}"))
    return params


CASES = _cases()


def test_every_shipped_process_has_cases():
    processes = {p.values[1].stem for p in CASES}
    assert processes == {"send_to_bank", "warehouse_buffer", "courier_delivery", "purchase_request"}


@pytest.mark.parametrize(("case_file", "bpmn_file", "case"), CASES)
def test_store_process_case(database, clock, case_file, bpmn_file, case):
    result = run_case(case_file, bpmn_file, case, lambda _tmp: (demo_engine(database, clock), clock))
    assert result.failures == []
