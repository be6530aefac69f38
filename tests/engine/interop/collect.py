"""Copies the interop corpus out of bare mirrors of the source repositories (kept for the record:
how the files were chosen and where each came from). Run by hand, not by the tests:

    python tests/engine/interop/collect.py /work/.mirror

It writes files/<source>/<name>.bpmn and adds a manifest line for each file not listed yet,
with outcome "?" until the harness's --record run fills it in.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def names(text: str) -> list[str]:
    return text.split()


SOURCES = {
    "spiff": ("sartography/SpiffWorkflow", "LGPL-3.0", "tests/SpiffWorkflow/", [
        "bpmn/data/" + n + ".bpmn" for n in names(
            "Approvals ParallelOrder ScriptTest boundary boundary_event_split boundary_timer_on_task "
            "call_activity_end_event collaboration conditional_event correlation data_object data_store "
            "event-gateway event-subprocess exclusive_gateway_no_default gateway_loop_input inclusive_gateway "
            "invalid_cancel io_spec lanes multiple-start multiple-start-parallel multiple-throw no-tasks "
            "parallel_multiinstance_cardinality parallel_multiinstance_loop_input random_fact script-start "
            "sequential_multiinstance_cardinality service_task single_call_activity standard_loop "
            "timer-cycle timer-cycle-start timer-date-start timer-non-interrupt-boundary timer transaction "
            "uncaught_escalation Invalid-Workflows/non-executable-process")
    ] + ["camunda/data/" + n + ".bpmn" for n in names(
            "ExclusiveGatewayIfElseAndDecision MessageBoundary external_message message_test no_form "
            "noninterrupting-MessageBoundary parallel_multiinstance_collection token_trial_parallel_simple "
            "token_trial_subprocess")
    ] + ["spiff/data/" + n + ".bpmn" for n in names("business_rule_task user_task_variable waiting_event")]),
    "miwg": ("bpmn-miwg/bpmn-miwg-test-suite", "CC-BY-3.0", "", [
        f"Reference/{n}.bpmn" for n in names("A.1.0 A.2.0 A.2.1 A.3.0 A.4.0 A.4.1 B.1.0 C.1.0 C.1.1 C.3.0 C.9.1 C.9.2")
    ] + [
        "ADONIS 17.0/A.1.0-export.bpmn",
        "ARIS 10.2025.07/A.1.0-export.bpmn",
        "ARIS 10.2025.07/A.2.0-export.bpmn",
        "Bizagi Modeler 2.8.0.8/A.1.0-roundtrip.bpmn",
        "Bizagi Modeler 2.8.0.8/A.2.0-roundtrip.bpmn",
        "Camunda Eclipse Plugin 3.0.0/A.2.0-export.bpmn",
        "Enterprise Architect 12.0.1207/A.1.0-roundtrip.bpmn",
        "SAP Signavio Process Manager 19.9.0/A.1.0-export.bpmn",
        "SAP Signavio Process Manager 19.9.0/A.2.0-export.bpmn",
        "Trisotech Workflow Modeler 12.6.3/A.1.0-export.bpmn",
        "Visual Paradigm 11.1/A.1.0-roundtrip.bpmn",
        "Yaoqiang BPMN Editor 4.0/A.2.0-export.bpmn",
        "bpmn.io (Camunda Modeler) 18.6.1/A.1.0-export.bpmn",
        "bpmn.io (Camunda Modeler) 18.6.1/A.4.0-export.bpmn",
    ]),
    "bpmnjs": ("bpmn-io/bpmn-js", "MIT", "test/fixtures/bpmn/", [
        "basic.bpmn", "draw/call-activity.bpmn", "draw/conditional-flow-typed-task.bpmn", "event-sub-processes.bpmn",
        "features/rules/link-event.bpmn", "import/boundaryEvent.bpmn", "import/collapsed-subprocess.bpmn",
        "collaboration/collaboration-empty-participant.bpmn", "collaboration/process-empty.bpmn",
        "error/duplicate-ids.bpmn", "error/missing-namespace.bpmn", "error/no-process-collaboration.bpmn",
        "import/error/invalid-flow-element.bpmn", "import/default-attrs.bpmn", "empty-definitions.bpmn",
    ]),
}


def local_name(source: str, path: str) -> str:
    stem = path.removesuffix(".bpmn")
    for ch in " ()/":
        stem = stem.replace(ch, "_")
    return f"{source}/{'_'.join(p for p in stem.split('_') if p)}.bpmn"


def main(mirrors: Path) -> None:
    manifest = HERE / "manifest.yaml"
    known = manifest.read_text(encoding="utf-8") if manifest.exists() else ""
    lines = []
    for source, (repo, license_, prefix, paths) in SOURCES.items():
        git_dir = mirrors / repo.replace("/", "+") / "repo"
        commit = subprocess.run(["git", f"--git-dir={git_dir}", "rev-parse", "HEAD"], check=True,
                                capture_output=True, text=True).stdout.strip()
        for path in paths:
            full = prefix + path
            data = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"HEAD:{full}"], check=True,
                                  capture_output=True).stdout
            name = local_name(source, path)
            target = HERE / "files" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if f"file: {name}," not in known:
                lines.append(f'- {{file: {name}, repo: {repo}, path: "{full}", commit: {commit[:12]}, '
                             f'license: {license_}, outcome: "?"}}\n')
    with manifest.open("a", encoding="utf-8") as out:
        out.writelines(lines)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
