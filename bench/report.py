"""Run every benchmark in bench/ and write docs/benchmarks.md from what they measured.

Each bench runs in a process of its own (so one bench's memory or threads never colour
another's) with `--json`, and the page is rendered only from those files and from the
machine as read at run time. Sizes come from BENCH_SCALE (or --scale):

- `default` (what `make bench` runs, about 10-15 minutes on a quiet 2-core machine);
- `full`: the sizes named in issue 6 everywhere (100,000 delayed robots scheduled, more
  instances and orders per level, 100,000 waiting jobs as a middle point); much longer;
- `smoke`: tiny sizes, to check the pipeline end to end in a minute or two.

    python bench/report.py [--scale default|full|smoke] [--postgres URL] [--out docs/benchmarks.md]
    python bench/report.py --render-only DIR   # re-render from the JSON files kept with --keep DIR
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import DEFAULT_POSTGRES, ROOT, machine

BENCH = Path(__file__).resolve().parent

# Arguments per bench and scale; "{pg}" is replaced with the PostgreSQL URL.
SCALES: dict[str, dict[str, list[str]]] = {
    "default": {
        "engine": ["--instances", "200", "--rounds", "8", "--postgres", "{pg}"],
        "growth": ["--history", "10,10000", "--deals", "1000,100000"],
        "robots": ["--deals", "1000", "--robots", "20000"],
        "api": ["--orders", "200", "--levels", "1,8,32", "--postgres", "{pg}"],
        "memory": ["--waiting", "10000,1000000", "--postgres", "{pg}"],
        "workers": ["--jobs", "5000", "--workers", "1,2,4", "--url", "{pg}"],
        "workers_rate": ["--jobs", "5000", "--rate", "1000", "--workers", "1,2,4", "--cost-jobs", "0",
                         "--url", "{pg}"],
        "takeover": ["--jobs", "2000", "--rate", "200", "--leases", "default", "--url", "{pg}"],
        "designer": ["--rounds", "3"],
    },
    "full": {
        "engine": ["--instances", "500", "--rounds", "8", "--postgres", "{pg}"],
        "growth": ["--history", "10,10000", "--deals", "1000,1000000"],
        "robots": ["--deals", "2000", "--robots", "100000"],
        "api": ["--orders", "1000", "--levels", "1,8,32", "--postgres", "{pg}"],
        "memory": ["--waiting", "10000,100000,1000000", "--postgres", "{pg}"],
        "workers": ["--jobs", "100000", "--workers", "1,2,4", "--url", "{pg}"],
        "workers_rate": ["--jobs", "20000", "--rate", "1000", "--workers", "1,2,4", "--cost-jobs", "0",
                         "--url", "{pg}"],
        "takeover": ["--jobs", "5000", "--rate", "200", "--leases", "default", "--url", "{pg}"],
        "designer": ["--rounds", "5"],
    },
    "smoke": {
        "engine": ["--instances", "20", "--rounds", "2", "--postgres", "{pg}"],
        "growth": ["--history", "10,1000", "--deals", "1000,5000", "--rounds", "3", "--per-round", "5"],
        "robots": ["--deals", "100", "--robots", "2000"],
        "api": ["--orders", "20", "--levels", "1,8,32", "--warmup", "5", "--postgres", "{pg}"],
        "memory": ["--waiting", "10000", "--due", "100", "--postgres", "{pg}"],
        "workers": ["--jobs", "500", "--workers", "1,2", "--url", "{pg}"],
        "workers_rate": ["--jobs", "500", "--rate", "100", "--workers", "1,2", "--cost-jobs", "0",
                         "--url", "{pg}"],
        "takeover": ["--jobs", "300", "--rate", "100", "--leases", "default", "--url", "{pg}"],
        "designer": ["--rounds", "1"],
    },
}

# "workers" fires a backlog (throughput per worker count); "workers_rate" makes jobs due at a
# steady rate, which is what "within 1 s of their due time" is about.
# "takeover" kills a worker holding a batch and measures how late its jobs run (issue 10).
ORDER = ["engine", "growth", "robots", "workers", "workers_rate", "takeover", "api", "memory", "designer"]
SCRIPT = {"workers_rate": "workers"}


def run_all(scale: str, postgres: str, keep: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in ORDER:
        args = [arg.replace("{pg}", postgres) for arg in SCALES[scale][name]]
        out = keep / f"{name}.json"
        script = SCRIPT.get(name, name)
        command = [sys.executable, str(BENCH / f"{script}.py"), *args, "--json", str(out)]
        print(f"\n=== {name}: {shlex.join(command[1:])}", flush=True)
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True)
        results[name] = json.loads(out.read_text())
        results[name]["wall_seconds"] = time.perf_counter() - start
        shown = [arg.replace("{pg}", "URL") for arg in SCALES[scale][name]]
        results[name]["command"] = shlex.join(["python", f"bench/{script}.py", *shown])
        out.write_text(json.dumps(results[name], indent=2, default=str))  # so --render-only has it all
    return results


# ---------------------------------------------------------------------------------------------- rendering


def render(results: dict[str, Any], meta: dict[str, Any]) -> str:
    parts = [header(meta, results), issue14_section(results), goals_section(results), machine_section(meta)]
    parts += [engine_section(results.get("engine")), growth_section(results.get("growth")),
              robots_section(results.get("robots")),
              workers_section(results.get("workers"), results.get("workers_rate")),
              takeover_section(results.get("takeover")),
              api_section(results.get("api")), issue14_http_section(results),
              memory_section(results.get("memory")), designer_section(results.get("designer"))]
    return "\n\n".join(part.strip() for part in parts) + "\n"


def header(meta: dict[str, Any], results: dict[str, Any]) -> str:
    start, end = meta["machine_start"]["load_average"], meta["machine_end"]["load_average"]
    return f"""
# Benchmarks

Generated by `make bench` (`python bench/report.py`, scale `{meta['scale']}`) on {meta['started']} UTC,
in {meta['minutes']:.0f} min. Do not edit by hand: run `make bench` again (`BENCH_SCALE=full make bench`
for the sizes of issue 6 everywhere).

## Method

- Every bench is a script in `bench/` that prints its own table; `bench/report.py` runs each in a
  process of its own with `--json` and renders this page from those figures only.
- Every figure is compared with a **baseline measured in the same run** on the same machine:
  raw SpiffWorkflow for the engine, a stage move without robots for robots, the health endpoint
  and a plain GET for the API, a worker with no waiting jobs for memory. **The ratios are what
  matters**; absolute numbers depend on the machine and on what else it is doing.
- **The machine is shared and busy**: several engineers build and test on it at the same time
  (load average {_load(start)} at the start, {_load(end)} at the end, on {meta['machine_start']['cores']}
  cores). Absolute latencies and rates here are therefore pessimistic and noisy; p99 figures most of all.
- Sizes on this page: {sizes(results)}. Each section shows its command (`URL` is the
  PostgreSQL URL below).
- PostgreSQL runs use a fresh schema per run on the local server (`{meta['postgres_shown']}`) and drop it afterwards;
  SQLite runs use a fresh file (WAL) in a temporary directory.
- The goals below are reported against, never tuned to.
"""


def sizes(results: dict[str, Any]) -> str:
    said = []
    if "engine" in results:
        engine = results["engine"]
        said.append(f"engine {engine['instances']:,} instances per variant and round, "
                    f"median of {engine.get('rounds', engine.get('runs'))} interleaved rounds")
    if "robots" in results:
        robots = results["robots"]
        said.append(f"robots {robots['latency']['deals']:,} moves per latency series and "
                    f"{robots['scheduling']['robots']:,} delayed robots scheduled")
    if "api" in results:
        said.append(f"API {results['api']['orders_per_level']:,} requests per kind and concurrency level")
    if "memory" in results:
        waiting = sorted({row["waiting"] for row in results["memory"]["rows"] if row["waiting"]})
        said.append(f"memory {', '.join(f'{n:,}' for n in waiting)} waiting jobs on "
                    f"{' and '.join(dict.fromkeys(row['database'] for row in results['memory']['rows']))}")
    if "designer" in results:
        said.append(f"designer {results['designer']['rounds']} first loads per screen")
    return "; ".join(said)


def _load(values: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


def machine_section(meta: dict[str, Any]) -> str:
    m = meta["machine_start"]
    return f"""
## Machine

| | |
|---|---|
| CPU | {m['cpu']} |
| Cores | {m['cores']} |
| RAM | {m['ram_gib']} GiB |
| OS | {m['os']} |
| Python | {m['python']} |
| SQLite | {m['sqlite']} |
| PostgreSQL | {m.get('postgres', 'not used')} |
"""


def issue14_section(results: dict[str, Any]) -> str:
    """Issue 14's goals in the issue's order; each row function gives (goal, measured, verdict)
    rows for the benches it knows, none when they were not run."""
    rows = [*engine_goal_rows(results), *issue14_http_goals(results), *issue14_jobs_goals(results),
            *growth_goal_rows(results), designer_goal(results)]
    if not rows:
        return ""
    table = "\n".join(f"| {goal} | {measured} | {verdict} |" for goal, measured, verdict in rows)
    return f"""
## Goals of issue 14, against what was measured

Each ratio is against its baseline measured in the same run (see each section).

| Goal | Measured | |
|---|---|---|
{table}
"""


def engine_goal_rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Goal 1: dealflow / the physical limit, per database and process (bench/engine.py)."""
    engine = results.get("engine")
    if not engine or "goals" not in engine:
        return []
    return [(f"1. engine in-process, {g['process']} process on {g['database']}: ≤ {g['goal']}x the physical limit",
             f"{g['ratio']:.2f}x ({g['dealflow_ms']:.2f} / {g['limit_ms']:.2f} ms; statements "
             f"{g['dealflow_statements']:.0f} / {g['limit_statements']:.0f})", _verdict(g["met"]))
            for g in engine["goals"]]


def growth_goal_rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Goal 5: cost flat (within 20%) as history and deals grow (bench/growth.py)."""
    growth = results.get("growth")
    if not growth:
        return []
    rows = []
    for part, size_key, cost_key, what in (("history", "history_rows", "step_ms", "history rows on the instance"),
                                           ("deals", "deals", "instance_ms", "deals in the database")):
        run = growth[part]
        small, big = (min(run["rows"], key=lambda r: r[size_key]), max(run["rows"], key=lambda r: r[size_key]))
        rows.append((f"5. cost flat (≤ 1.2x) from {small[size_key]:,} to {big[size_key]:,} {what}",
                     f"{run['growth']:.2f}x ({small[cost_key]:.2f} → {big[cost_key]:.2f} ms; statements "
                     f"{small['statements']:.0f} → {big['statements']:.0f})", _verdict(run["flat"])))
    return rows


def goals_section(results: dict[str, Any]) -> str:
    rows = []
    engine = results.get("engine")
    if engine:
        ratios = [v for v in engine["variants"] if v["name"].startswith("dealflow")
                  and v.get("process", "10-element") == "10-element"]
        measured = "; ".join(f"{v['name'].removeprefix('dealflow on ')}: {v['ratio']:.2f}x" for v in ratios)
        verdict = _verdict(all(v["ratio"] <= 1.5 for v in ratios))
        rows.append(("dealflow's cost per instance at most 1.5x raw SpiffWorkflow", measured, verdict))
    steady, backlog = results.get("workers_rate"), results.get("workers")
    if steady:
        rate = steady["settings"]["rate"]
        late = {r["workers"]: r["late_p99_s"] for r in steady["workers"]}
        rows.append(("jobs fire within 1 s of their due time up to 1,000 due jobs per second",
                     f"{rate:,.0f} due/s: p99 late " + ", ".join(f"{w} worker(s) {s:.1f} s" for w, s in late.items()),
                     _verdict(rate >= 1000 and min(late.values()) <= 1.0)))
    if backlog:
        rates = [r["jobs_per_second"] for r in sorted(backlog["workers"], key=lambda r: r["workers"])]
        rows.append(("throughput grows with workers until PostgreSQL is the limit",
                     " → ".join(f"{rate:.0f}" for rate in rates) + " jobs/s",
                     _verdict(all(b > a for a, b in itertools.pairwise(rates)))))
    if not steady and not backlog:
        for goal in ("jobs fire within 1 s of their due time up to 1,000 due jobs per second",
                     "throughput grows with workers until PostgreSQL is the limit"):
            rows.append((goal, "not run", "—"))
    memory = results.get("memory")
    if memory:
        biggest = {}
        for row in memory["rows"]:
            if row["database"] not in biggest or row["waiting"] > biggest[row["database"]]["waiting"]:
                biggest[row["database"]] = row
        measured = "; ".join(f"{db}, {row['waiting']:,} waiting: {row['growth_mib']:+.1f} MiB"
                             for db, row in biggest.items())
        flat = all(row["growth_mib"] <= max(10.0, 0.1 * (row["peak_rss_mib"] - row["growth_mib"]))
                   for row in biggest.values())
        rows.append(("a worker's memory stays flat whatever the number of waiting jobs (within 10 MiB or 10%)",
                     measured, _verdict(flat)))
    table = "\n".join(f"| {goal} | {measured} | {verdict} |" for goal, measured, verdict in rows)
    return f"""
## Goals of issue 6, against what was measured

| Goal | Measured | |
|---|---|---|
{table}
"""


# Issue 14's goals are rendered apart from issue 6's; each goal is a function of its own giving
# its row (goal, measured, verdict), so the goals of that issue can be added one by one.
# dmn-js brings diagram-js (its decision requirements diagram) and CodeMirror (its FEEL editor)
# with it, so the decisions screen is only required to load dmn-js.
DESIGNER_SCREENS_WITHOUT = {"sign-in": ("bpmn-js", "CodeMirror", "dmn-js"),
                            "deals board": ("bpmn-js", "CodeMirror", "dmn-js"),
                            "modeler": ("dmn-js",), "robots editor": ("bpmn-js", "dmn-js")}
DESIGNER_SCREENS_WITH = {"modeler": ("bpmn-js",), "robots editor": ("CodeMirror",), "decisions": ("dmn-js",)}


def designer_goal(results: dict[str, Any]) -> tuple[str, str, str]:
    """Issue 14 goal 6: the first load measured, bpmn-js, CodeMirror and dmn-js only where they are used."""
    goal = ("6. designer: first load (JS+CSS, gzip) and time to interactive measured; bpmn-js, CodeMirror and "
            "dmn-js loaded only on the screens that use them")
    designer = results.get("designer")
    if not designer:
        return goal, "not run", "—"
    screens = {row["screen"]: row for row in designer["screens"]}
    measured = "; ".join(f"{name} {row['gzip_bytes'] / 1024:.0f} KiB, {row['interactive_ms']:.0f} ms"
                         for name, row in screens.items())
    kept_out = all(not screens[name]["loads"][lib] for name, libs in DESIGNER_SCREENS_WITHOUT.items()
                   if name in screens for lib in libs)
    there = all(screens[name]["loads"][lib] for name, libs in DESIGNER_SCREENS_WITH.items()
                if name in screens for lib in libs)
    return goal, measured, _verdict(kept_out and there)


def designer_section(designer: dict[str, Any] | None) -> str:
    if not designer:
        return "## Designer\n\nNot run."
    rows = "\n".join(
        f"| {r['screen']} | `{r['link']}` | {r['login'] or '—'} | {r['files']} | {r['js_bytes'] / 1024:.0f} | "
        f"{r['css_bytes'] / 1024:.0f} | {r['gzip_bytes'] / 1024:.0f} | {r['interactive_ms']:.0f} | "
        f"{', '.join(lib for lib, yes in r['loads'].items() if yes) or '—'} |" for r in designer["screens"])
    return f"""
## Designer: first load of each screen

The built designer served by a real `dealflow run` with the demo data, opened in headless
Chromium (the flags of tests/designer) in a fresh browser context per visit, so nothing is
cached; signed in by cookie where the screen needs it, following a link to the screen. JS and
CSS are what the page loaded, as sent and as gzip (level 6) sends them; interactive is from
the start of navigation until the screen's own content is drawn (the login form, the board's
cards, the diagram's shapes, the robots' cards), median of {designer['rounds']} rounds.
"Loads" names the libraries found in the code that arrived. `{designer.get('command', '')}`

| screen | link | signed in as | files | JS KiB | CSS KiB | gzip KiB | interactive ms | loads |
|---|---|---|---:|---:|---:|---:|---:|---|
{rows}
"""


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def issue14_jobs_goals(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Issue 14, goal 3 (the job loop) as rows of (goal, measured, verdict), for the issue-14 goals
    table: throughput of 2 workers on a backlog of delayed robots, p99 lateness of 2 workers at a
    steady 1,000 due jobs/s, and what a job costs (statements, CPU), which other load on a shared
    machine barely moves, from bench/workers.py's in-process probe."""
    rows: list[tuple[str, str, str]] = []
    backlog, steady = results.get("workers"), results.get("workers_rate")
    two = next((r for r in (backlog or {}).get("workers", []) if r["workers"] == 2), None)
    goal = "3. 2 workers on PostgreSQL fire ≥ 1,000 delayed robots/s from a backlog"
    if two is None:
        rows.append((goal, "not run", "—"))
    else:
        others = ", ".join(f"{r['workers']}: {r['jobs_per_second']:.0f}"
                           for r in backlog["workers"] if r["workers"] != 2)
        cpu = two.get("worker_cpu_ms_per_job", 0.0)
        rows.append((goal, f"{two['jobs_per_second']:.0f} jobs/s, {cpu:.2f} ms worker CPU per job, "
                           f"load {two['load_average_1m']:.1f} (other counts {others})",
                     _verdict(two["jobs_per_second"] >= 1000)))
    late = next((r for r in (steady or {}).get("workers", []) if r["workers"] == 2), None)
    goal = "3. 2 workers keep p99 lateness ≤ 1 s at a steady 1,000 due jobs/s"
    if late is None or steady is None:
        rows.append((goal, "not run", "—"))
    else:
        rate = steady["settings"]["rate"]
        rows.append((goal, f"{rate:,.0f} due/s: p99 {late['late_p99_s']:.2f} s, median {late['late_median_s']:.2f} s",
                     _verdict(rate >= 1000 and late["late_p99_s"] <= 1.0)))
    cost = (backlog or {}).get("cost_per_job")
    if cost:
        budget = (results.get("workers", {}).get("machine", {}).get("cores") or 2) * 1.0
        total = cost["cpu_ms_per_job"] + cost["postgres_cpu_ms_per_job"]
        rows.append((f"3. a delayed robot costs ≤ {budget:.1f} ms CPU, worker and PostgreSQL together "
                     "(what 1,000 jobs/s on this machine's cores allows)",
                     f"{cost['statements_per_job']:.1f} statements and {cost['transactions_per_job']:.2f} "
                     f"transactions per job; {cost['cpu_ms_per_job']:.2f} ms CPU in the worker + "
                     f"{cost['postgres_cpu_ms_per_job']:.2f} ms in PostgreSQL",
                     _verdict(total <= budget)))
    return rows


def engine_section(engine: dict[str, Any] | None) -> str:
    if not engine:
        return "## Engine\n\nNot run."

    def statements(v: dict[str, Any]) -> str:
        count = v.get("statements_per_instance")
        return "" if count is None else f"{count:.1f}"

    rows = "\n".join(f"| {v['name']} | {v['per_instance_ms']:.2f} | {v['instances_per_s']:.0f} | {v['ratio']:.2f}x | "
                     f"{statements(v)} |"
                     for v in engine["variants"])
    return f"""
## Engine: instances per second

Two processes: a 10-element one (start, six script tasks, an exclusive split and join, end) from
start to end in one transaction, and start → user task → script → end in two (the start, then
the completion of the user task's CRM task). Raw SpiffWorkflow runs them in memory with its own
Python script engine; the **physical limit** is raw SpiffWorkflow with its JSON serializer and one
INSERT (the second transaction: SELECT and UPDATE) and commit of the state on the bare driver
(SQLite in WAL with synchronous=NORMAL; psycopg); dealflow evaluates the same expressions with the
dsl and commits each step (state, history, CRM task) in its own transaction.
{engine['instances']} instances per variant and round, median of {engine.get('rounds', engine.get('runs'))}
interleaved rounds. Statements per instance are counted, not timed. `{engine['command']}`

| Variant | ms per instance | instances/s | ratio to raw | statements |
|---|---:|---:|---:|---:|
{rows}
"""


def growth_section(growth: dict[str, Any] | None) -> str:
    if not growth:
        return "## Cost as the work grows\n\nNot run."
    history = "\n".join(f"| {r['history_rows']:,} | {r['step_ms']:.2f} | {r['statements']:.0f} |"
                        for r in growth["history"]["rows"])
    deals = "\n".join(f"| {r['deals']:,} | {r['instance_ms']:.2f} | {r['statements']:.0f} |"
                      for r in growth["deals"]["rows"])
    return f"""
## Cost as the work grows

One more step (a user task completed, the instance on to its next one) of instances whose
history holds N rows, and one instance's life (start on a random deal, a script reading it, a
user task completed) in databases holding N deals; SQLite, interleaved rounds, medians.
`{growth['command']}`

| history rows | ms per step | statements |
|---:|---:|---:|
{history}

| deals | ms per instance | statements |
|---:|---:|---:|
{deals}
"""


def robots_section(robots: dict[str, Any] | None) -> str:
    if not robots:
        return "## Robots\n\nNot run."
    lat, sch = robots["latency"], robots["scheduling"]
    marks = "\n".join(f"| {c['waiting']:,} | {c['seconds']:.1f} | {c['us_per_robot']:.0f} | {c['rss_mib']:.1f} |"
                      for c in sch["checkpoints"])
    return f"""
## Robots ({robots['database']})

Stage move → immediate robot done: {lat['deals']:,} deals moved one by one, one transaction each,
into a stage whose robot notifies the manager immediately; the baseline is the same move into a
stage without robots. `{robots['command']}`

| | median ms | p99 ms |
|---|---:|---:|
| move, no robots (baseline) | {lat['baseline']['median_ms']:.2f} | {lat['baseline']['p99_ms']:.2f} |
| move + immediate robot | {lat['with_robot']['median_ms']:.2f} | {lat['with_robot']['p99_ms']:.2f} |

Ratio of medians: **{lat['ratio_median']:.2f}x**.

Scheduling {sch['robots']:,} delayed robots ("after 1d") through real stage moves, {sch['batch']:,} moves per
transaction; the process's resident memory after 10% and after all of them (rows pending
afterwards: {sch['pending_rows']:,}):

| waiting robots | seconds | µs per robot | RSS MiB |
|---:|---:|---:|---:|
{marks}
"""


def workers_section(backlog: dict[str, Any] | None, steady: dict[str, Any] | None) -> str:
    parts = ["""
## Delayed robots fired through the job loop with 1, 2 and 4 workers

Real `dealflow worker` processes on PostgreSQL, each worker count on a fresh schema holding the
demo world and N deals waiting on a stage robot `after 1h: notify(...)`; the job rows are written
in bulk as the robot runtime writes them, then made due, and the workers fire them through the
real code path (the automation log and the notifications are counted afterwards). Lateness is
when the robot ran (its automation-log line) minus its due time. The machine has 2 cores shared by the workers,
PostgreSQL and the bench, so 4 workers cannot scale linearly here.
"""]
    for title, run in (("All due at one moment (a backlog: throughput)", backlog),
                       ("Due at a steady rate (lateness)", steady)):
        if not run:
            parts.append(f"### {title}\n\nNot run.")
            continue
        rows = "\n".join(f"| {r['workers']} | {r['jobs']:,} | {r['seconds']:.1f} | {r['jobs_per_second']:.0f} | "
                         f"{r['jobs_per_second'] / run['workers'][0]['jobs_per_second']:.2f}x | "
                         f"{r['late_median_s']:.2f} | {r['late_p99_s']:.2f} | {r['late_max_s']:.2f} |"
                         for r in run["workers"])
        rate = run["settings"]["rate"]
        due = f"{rate:,.0f} due per second" if rate else "all due at once"
        parts.append(f"""
### {title}

{due}. `{run.get('command', '')}`

| workers | jobs | seconds | jobs/s | vs 1 worker | late median s | late p99 s | late max s |
|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}
""")
    return "\n".join(part.strip() + "\n" for part in parts)


TAKEOVER_HEADER = ("| lease s | orphans | first takeover after kill s | orphan late median s | orphan late p99 s "
                   "| orphan late max s | others late p99 s | every robot ran once |\n"
                   "|---:|---:|---:|---:|---:|---:|---:|:---:|")


def takeover_section(takeover: dict[str, Any] | None) -> str:
    intro = """
## Takeover after a killed worker

Two real `dealflow worker` processes on PostgreSQL fire delayed robots due at a steady rate;
the first is SIGKILLed while it holds a claimed batch (`bench/takeover.py`). Its jobs ("orphans")
wait until their claims expire, then the second worker runs them. A live worker renews its
claims every lease/3, so the lease (`DEALFLOW_JOB_LEASE`, default 10 s) is about how late a dead
worker's jobs run. Lateness is when a worker took the job minus its due time.
"""
    if not takeover:
        return intro.strip() + "\n\nNot run."
    rows = "\n".join(f"| {r['lease']} | {r['orphans']} | {r['first_takeover_after_kill_s']:.2f} | "
                     f"{r['orphan_late_median_s']:.2f} | {r['orphan_late_p99_s']:.2f} | {r['orphan_late_max_s']:.2f} | "
                     f"{r['others_late_p99_s']:.2f} | {'yes' if r['ran'] == r['jobs'] else 'NO'} |"
                     for r in takeover["runs"])
    settings = takeover["settings"]
    return f"""{intro.strip()}

{settings['jobs']:,} jobs due at {settings['rate']:,.0f} per second. `{takeover.get('command', '')}`

{TAKEOVER_HEADER}
{rows}
"""


def api_section(api: dict[str, Any] | None) -> str:
    if not api:
        return "## API\n\nNot run."
    parts = [f"""
## API: store order → deal created → immediate robots done

A real `dealflow run` server process on a fresh database with the demo world and the shipped
automation, driven over HTTP by {', '.join(map(str, api['levels']))} concurrent clients (threads with
keep-alive sessions) in a separate process. Each order is a `POST /api/v1/events` of type
`order.created` with the store's integration token (`dealflow tokens create store.integration`),
its own order id, client and idempotency key; the shipped trigger creates the deal on
`main.in_processing`, whose immediate robots (shipped `robots/shipped/main.flow`: "route the
order", its unnamed `then immediately` step that notifies the manager, logged by its key
`in_processing.1.2`, and "check for duplicates") are deferred work of the same transaction, so
they are done when the 202 comes back; the automation log is read back afterwards to check.
`dealflow run` serves with gunicorn's threaded worker (one process, Flask-SocketIO in threading mode),
so on this machine concurrency mostly shows queueing: the figure to watch is how the order
path compares with the baselines at the same concurrency. Baselines: `GET /api/v1/health` (the
bare HTTP stack) and `GET /api/v1/deals/{{id}}` (token check and one read).
{api['orders_per_level']} requests per kind and level after a warm-up. `{api['command']}`
"""]
    for run in api["runs"]:
        rows = []
        for level in run["levels"]:
            for key, label in (("health", "GET health (baseline)"), ("get_deal", "GET deal (baseline)"),
                               ("order", "**POST order.created**")):
                r = level[key]
                rows.append(f"| {level['clients']} | {label} | {r['rps']:.1f} | {r['median_ms']:.1f} | "
                            f"{r['p99_ms']:.1f} | {r['errors']} |")
            order = level["order"]["median_ms"]
            ratios = f"{order / level['health']['median_ms']:.1f}x, {order / level['get_deal']['median_ms']:.1f}x"
            rows.append(f"| {level['clients']} | ratio order / health, order / GET deal (median) | | {ratios} | | |")
        check = run["robots"]
        verified = (f"The automation log of {check['sampled_deals']} sampled deals shows "
                    f"{' or '.join(map(str, check['robots_ran_per_order']))} robots ran per order "
                    f"({', '.join(check['robot_names'])}); {check['ran_after_response']} of them were logged after "
                    f"the client had its response; immediate robots missing: {', '.join(check['missing']) or 'none'}.")
        table = "\n".join(rows)
        parts.append(f"""
### {run['database']}

| clients | request | req/s | median ms | p99 ms | errors |
|---:|---|---:|---:|---:|---:|
{table}

{verified}
""")
    return "\n\n".join(part.strip() for part in parts)


#: Issue 14's goals for the API (bench/api.py measures them; the figures come from its JSON).
START_OVERHEAD_GOAL_MS = 2.0
ORDER_GOAL_CLIENTS, ORDER_GOAL_P50_MS, ORDER_GOAL_P99_MS = 8, 15.0, 50.0


def issue14_http_goals(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Rows (goal, measured, verdict) for issue 14's goals 2 and 4, from bench/api.py's figures."""
    api = results.get("api")
    runs = api["runs"] if api else []
    rows: list[tuple[str, str, str]] = []
    starts = [(run["database"], run["start"]) for run in runs if run.get("start")]
    if starts:
        measured = "; ".join(
            f"{db}: {s['http_start']['median_ms']:.2f} ms over HTTP minus {s['in_process_start']['median_ms']:.2f} ms "
            f"in-process = **{s['overhead_ms']:.2f} ms** (GET /health {s['health']['median_ms']:.2f} ms)"
            for db, s in starts)
        rows.append((f"2. a start through the API costs at most {START_OVERHEAD_GOAL_MS:g} ms more than in-process",
                     measured, _verdict(all(s["overhead_ms"] <= START_OVERHEAD_GOAL_MS for _, s in starts))))
    else:
        rows.append(("2. a start through the API costs at most 2 ms more than in-process", "not run", "—"))
    orders = []
    for run in runs:
        if run["database"] != "PostgreSQL":
            continue
        orders += [(f"{ORDER_GOAL_CLIENTS} clients, closed loop", level["order"]) for level in run["levels"]
                   if level["clients"] == ORDER_GOAL_CLIENTS]
        if run.get("paced"):
            orders.append((f"{ORDER_GOAL_CLIENTS} clients, open loop at {run['paced']['rate']:g}/s", run["paced"]))
    goal = (f"4. store order → deal → immediate robots over HTTP, {ORDER_GOAL_CLIENTS} clients on PostgreSQL: "
            f"p50 ≤ {ORDER_GOAL_P50_MS:g} ms, p99 ≤ {ORDER_GOAL_P99_MS:g} ms")
    for load, r in orders:
        met = r["median_ms"] <= ORDER_GOAL_P50_MS and r["p99_ms"] <= ORDER_GOAL_P99_MS and not r["errors"]
        rows.append((goal, f"{load}: p50 {r['median_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                           f"{r['rps']:.1f} orders/s", _verdict(met)))
    if not orders:
        rows.append((goal, "not run", "—"))
    return rows


def issue14_http_section(results: dict[str, Any]) -> str:
    """How issue 14's API goals were measured (their rows are in the goals table at the top)."""
    statements = [(run["database"], run["statements"]) for run in (results.get("api") or {}).get("runs", [])
                  if run.get("statements")]
    if not results.get("api"):
        return ""
    counted = "".join(
        f"\n- {db}: " + "; ".join(f"{name.replace('_', ' ')} {row['statements']} statements" for name, row in s.items())
        for db, s in statements)
    return f"""
## API: a start over HTTP against in-process, and store orders on a schedule

A start of the 10-element process through `POST /api/v1/processes/bench/start` against the
same start in-process on the same database, one at a time, interleaved with `GET /api/v1/health`
(bench/api.py); the store order as in the API section above, plus 8 clients on a fixed schedule.
The goals' rows are in the issue 14 table at the top.

Statements per request (counted with a cursor listener on the same code path):{counted or ' not counted.'}
"""


def memory_section(memory: dict[str, Any] | None) -> str:
    if not memory:
        return "## Memory\n\nNot run."
    rows = "\n".join(
        f"| {r['database']} | {r['waiting']:,} | {r['ran']:,} | {r['pending_after']:,} | {r['rss_ready_mib']:.1f} | "
        f"{r['peak_rss_mib']:.1f} | "
        f"{r['growth_mib']:+.1f} |" for r in memory["rows"])
    return f"""
## Memory: a worker's peak memory with waiting jobs

For each size a fresh database gets {memory['rows'][0]['due']:,} real delayed robots made due now and N
waiting robot jobs (copies of a real robot job row, due 1 to 30 days ahead, inserted in bulk).
A fresh worker process (the job loop and outbox duty of `dealflow run`, without the web server,
until `dealflow worker` lands) fires the due robots until a few ticks find nothing due, and
reports its peak resident memory (VmHWM). Baseline: the same with no waiting jobs.
`{memory['command']}`

| database | waiting jobs | robots fired | still waiting after | RSS ready MiB | peak RSS MiB | growth over 0 |
|---|---:|---:|---:|---:|---:|---:|
{rows}
"""


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default=os.environ.get("BENCH_SCALE", "default"), choices=sorted(SCALES))
    parser.add_argument("--postgres", default=os.environ.get("DEALFLOW_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--keep", help="keep the JSON figures in this directory")
    parser.add_argument("--render-only", help="render from the JSON figures kept in this directory")
    args = parser.parse_args()
    if args.render_only:
        keep = Path(args.render_only)
        results = {path.stem: json.loads(path.read_text()) for path in keep.glob("*.json") if path.stem != "meta"}
        meta = json.loads((keep / "meta.json").read_text())
    else:
        started = datetime.now(UTC)
        meta = {"scale": args.scale, "started": started.strftime("%Y-%m-%d %H:%M"),
                "machine_start": machine(args.postgres), "postgres_shown": _without_password(args.postgres)}
        with tempfile.TemporaryDirectory() as tmp:
            keep = Path(args.keep or tmp)
            keep.mkdir(parents=True, exist_ok=True)
            results = run_all(args.scale, args.postgres, keep)
            meta["machine_end"] = machine()
            meta["minutes"] = (datetime.now(UTC) - started).total_seconds() / 60
            (keep / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
    Path(args.out).write_text(render(results, meta), encoding="utf-8")
    print(f"\nwrote {args.out}")


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    main()
