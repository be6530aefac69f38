"""The test bench over HTTP: sandbox runs of a process or a pipeline's robots (see api.sandbox).

Every change inside a run is announced to the socket.io room `test-run:<id>` only.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

from flask import current_app

from api.auth import current_user, requires
from api.context import engine, request_cause, unit_of_work
from api.parsing import Blueprint
from api.sandbox import TestBench, UnknownRun, default_directory
from api.schemas.crm import CardFieldSchema
from api.schemas.test_runs import (
    AdvanceSchema,
    CaseQuerySchema,
    CompleteTestRunTaskSchema,
    DealFieldsQuerySchema,
    MoveTestRunDealSchema,
    MoveTestRunTaskSchema,
    NewTestRunSchema,
    RunLogEntrySchema,
    TestCaseSchema,
    TestRunEventResultSchema,
    TestRunEventSchema,
    TestRunSchema,
)
from api.wiring import build_engine
from crm import access
from crm.auth import Principal
from engine.broadcast import Broadcast
from engine.runtime import Runtime

bp = Blueprint("test-runs", __name__, url_prefix="/api/v1/test-runs",
               description="Test bench: sandbox runs on a copy of a deal with a virtual clock")

BENCH_KEY = "dealflow.test_bench"
RUN_ID = "int(min=1, max=999999999999999999)"
_lock = threading.Lock()


def bench() -> TestBench:
    """The app's bench, made on first use: runs live beside the database (or in
    DEALFLOW_SANDBOX_DIR, or `app.config["DEALFLOW_SANDBOX_DIR"]`)."""
    app = current_app
    with _lock:
        made = app.extensions.get(BENCH_KEY)
        if made is None:
            real = engine()
            settings = app.config["DEALFLOW_SETTINGS"]
            directory = app.config.get("DEALFLOW_SANDBOX_DIR") or default_directory(real.db.url, settings.sandbox_dir)
            socketio = app.extensions.get("dealflow.socketio")

            def announce(item: Broadcast) -> None:
                if socketio is not None:
                    socketio.emit(item.event, item.payload, to=list(item.rooms))

            made = app.extensions[BENCH_KEY] = TestBench(real, directory, announce=announce,
                                                         builder=partial(build_engine, settings=settings))
        return made


def may_use(user: Principal, run_id: int) -> bool:
    """A run is its maker's (and the administrators'): another designer's run does not exist
    for them, over HTTP or socket.io."""
    try:
        owner = bench().owner(run_id)
    except UnknownRun:
        return False
    return access.can(user, "run_test_bench") and (owner == str(user.id) or access.can(user, "manage_users"))


def _owned(run_id: int) -> None:
    if not may_use(current_user(), run_id):
        raise UnknownRun(f"no test run {run_id}")


@bp.post("")
@requires("run_test_bench")
@bp.arguments(NewTestRunSchema)
@bp.response(201, TestRunSchema)
def create(body: dict[str, Any]) -> Any:
    """Copy a real deal (never changed) or make one from a form, in a new sandbox; start the
    process on it, or let the pipeline's robots react to it. Refused with every problem (422)."""
    return bench().create(cause=request_cause(), **body)


@bp.get("/deal-fields")
@requires("run_test_bench")
@unit_of_work
@bp.arguments(DealFieldsQuerySchema, location="query")
@bp.response(200, CardFieldSchema(many=True))
def deal_fields(args: dict[str, Any], *, rt: Runtime) -> Any:
    """The typed fields of a pipeline (its own and the global ones), for the sandbox deal's form:
    the same field list the deal card edits, without values."""
    definitions = rt.crm.field_defs(rt.crm.pipeline(args["pipeline"]))
    return [{"name": code, "label": d.name, "type": d.type, "options": list(d.options or [])}
            for code, d in definitions.items()]


@bp.get(f"/<{RUN_ID}:run_id>")
@requires("run_test_bench")
@bp.response(200, TestRunSchema)
def get_run(run_id: int) -> Any:
    """Clock, deal, instances with active and completed elements, waiting jobs, tasks."""
    _owned(run_id)
    return bench().state(run_id)


@bp.delete(f"/<{RUN_ID}:run_id>")
@requires("run_test_bench")
@bp.response(204)
def delete_run(run_id: int) -> Any:
    _owned(run_id)
    bench().delete(run_id)
    return ""


@bp.post(f"/<{RUN_ID}:run_id>/events")
@requires("run_test_bench")
@bp.arguments(TestRunEventSchema)
@bp.response(200, TestRunEventResultSchema)
def send_event(body: dict[str, Any], run_id: int) -> Any:
    """A CRM event (order paid, bank decision, ...) in the sandbox, through the real intake."""
    _owned(run_id)
    return bench().send_event(run_id, body["type"], body["payload"], source=body["source"])


@bp.post(f"/<{RUN_ID}:run_id>/advance")
@requires("run_test_bench")
@bp.arguments(AdvanceSchema)
@bp.response(200, TestRunSchema)
def advance(body: dict[str, Any], run_id: int) -> Any:
    """Move the virtual clock by a duration or to the next due job; due jobs run on the way.
    409 no_job_due when asked for the next job and none is waiting."""
    _owned(run_id)
    return bench().advance(run_id, by=body.get("by"), to_next_job=body.get("to") == "next_job")


@bp.post(f"/<{RUN_ID}:run_id>/tasks/<{RUN_ID}:task_id>/complete")
@requires("run_test_bench")
@bp.arguments(CompleteTestRunTaskSchema)
@bp.response(200, TestRunSchema)
def complete_task(body: dict[str, Any], run_id: int, task_id: int) -> Any:
    _owned(run_id)
    return bench().complete_task(run_id, task_id, body["result"])


@bp.post(f"/<{RUN_ID}:run_id>/tasks/<{RUN_ID}:task_id>/move")
@requires("run_test_bench")
@bp.arguments(MoveTestRunTaskSchema)
@bp.response(200, TestRunSchema)
def move_task(body: dict[str, Any], run_id: int, task_id: int) -> Any:
    _owned(run_id)
    return bench().move_task(run_id, task_id, body["column"])


@bp.post(f"/<{RUN_ID}:run_id>/move")
@requires("run_test_bench")
@bp.arguments(MoveTestRunDealSchema)
@bp.response(200, TestRunSchema)
def move(body: dict[str, Any], run_id: int) -> Any:
    """Move the sandbox deal to a stage, as a manager would."""
    _owned(run_id)
    return bench().move(run_id, body["stage"])


@bp.get(f"/<{RUN_ID}:run_id>/log")
@requires("run_test_bench")
@bp.response(200, RunLogEntrySchema(many=True))
def run_log(run_id: int) -> Any:
    """Every process step, robot, trigger and deal change of the run, by time, with its reason."""
    _owned(run_id)
    return bench().log(run_id)


@bp.get(f"/<{RUN_ID}:run_id>/case")
@requires("run_test_bench")
@bp.arguments(CaseQuerySchema, location="query")
@bp.response(200, TestCaseSchema)
def case(args: dict[str, Any], run_id: int) -> Any:
    """The run as a test case file for `dealflow test-processes`, with the BPMN it replays.
    409 not_a_process_run for a robots run."""
    _owned(run_id)
    return bench().case(run_id, args.get("name"))
