"""Designer benchmark: what a first visit to each screen downloads, and how soon it can be used.

A real `dealflow run` serves the built designer (designer/dist) with the demo data; headless
Debian Chromium (the launch flags of tests/designer) opens each screen in a fresh browser
context, so nothing is cached: the sign-in page, the deals board (a manager), the modeler and
the robots editor (a designer, already signed in, following a link to the screen). For each
it counts the JS and CSS the page loaded, as sent and as gzip would send them (level 6, what
nginx and most proxies use; the development server sends them plain), and the time from the
start of navigation until the screen's own content is drawn (its ready element visible: the
login form, the board's cards, the diagram's shapes, the robots' cards), median of the rounds.
It also says which screens loaded bpmn-js and CodeMirror, found by their CSS class names in
the code that arrived, which is what issue 14 asks: each only on the screens that use it.

    python bench/designer.py [--rounds 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import machine, write_json

from tests.designer.browser import VIEWPORT, chromium
from tests.designer.server import api_session, live_dealflow

# Words only the library's own code holds: diagram-js (under bpmn-js, and under dmn-js's
# requirements diagram) builds its canvas in a `djs-container`, CodeMirror 6 its editor in a
# `cm-editor` (dmn-js's FEEL editor is one), dmn-js its table in a `dmn-decision-table-container`.
MARKERS = {"bpmn-js": b"djs-container", "CodeMirror": b"cm-editor", "dmn-js": b"dmn-decision-table-container"}


@dataclass(frozen=True)
class Screen:
    name: str
    hash: str  # the link followed; "" is the sign-in page
    login: str | None  # signed in as (None: not signed in)
    ready: str  # the element that shows the screen is drawn and usable


SCREENS = [
    Screen("sign-in", "", None, "form.login-card button[type=submit]"),
    Screen("deals board", "#/board", "manager.north1", "#board .board-card"),
    Screen("modeler", "#/processes", "designer", "#canvas .djs-shape"),
    Screen("robots editor", "#/robots/main", "designer", "#board .column .card"),
    Screen("decisions", "#/decisions", "designer", "#dmn-canvas .tjs-table"),
]


def visit(browser: Any, base: str, screen: Screen) -> dict[str, Any]:
    """One first visit: a fresh context (no cache), signed in by cookie if the screen needs it."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        if screen.login:
            signed = api_session(base, login=screen.login)
            context.add_cookies([{"name": c.name, "value": c.value or "", "url": base} for c in signed.cookies])
            signed.close()
        page = context.new_page()
        page.set_default_timeout(60000)
        loaded: list[tuple[str, str, bytes]] = []

        def keep(response: Any) -> None:
            kind = response.request.resource_type
            if kind in ("script", "stylesheet") and response.ok:
                loaded.append((kind, response.url, response.body()))

        page.on("response", keep)
        page.goto(f"{base}/{screen.hash}")
        # Polled on every animation frame: the moment the ready element is visible, by the page's clock.
        ready_ms = page.wait_for_function(
            """selector => { const el = document.querySelector(selector);
                 return el && el.getClientRects().length ? performance.now() : false; }""",
            arg=screen.ready, polling="raf").json_value()
        # What the screen downloads is all of it, not only what Playwright had reported by the
        # ready moment: its response events can trail the page (a first round once missed three
        # of the robots editor's files, CodeMirror among them).
        page.wait_for_load_state("networkidle")
        seen = {url: (kind, body) for kind, url, body in loaded}
        sizes = {"js": 0, "css": 0, "js_gzip": 0, "css_gzip": 0}
        found = {name: False for name in MARKERS}
        for kind, body in seen.values():
            key = "js" if kind == "script" else "css"
            sizes[key] += len(body)
            sizes[f"{key}_gzip"] += len(gzip.compress(body, compresslevel=6))
            for name, marker in MARKERS.items():
                found[name] = found[name] or (kind == "script" and marker in body)
        return {**sizes, "files": len(seen), "ready_ms": float(ready_ms), "loads": found}
    finally:
        context.close()


def measure(rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, live_dealflow(Path(tmp)) as base, chromium() as browser:
        visit(browser, base, SCREENS[0])  # the server's first answers (imports, caches) are not the designer's
        runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in SCREENS}
        for _ in range(rounds):
            for screen in SCREENS:  # interleaved: a slow moment of the machine touches every screen alike
                runs[screen.name].append(visit(browser, base, screen))
    rows = []
    for screen in SCREENS:
        first = runs[screen.name][0]
        times = [r["ready_ms"] for r in runs[screen.name]]
        rows.append({"screen": screen.name, "link": f"/{screen.hash}", "login": screen.login,
                     "js_bytes": first["js"], "css_bytes": first["css"], "js_gzip_bytes": first["js_gzip"],
                     "css_gzip_bytes": first["css_gzip"], "gzip_bytes": first["js_gzip"] + first["css_gzip"],
                     "files": first["files"], "interactive_ms": statistics.median(times), "interactive_all_ms": times,
                     "loads": first["loads"]})
    return {"bench": "designer", "rounds": rounds, "screens": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    results = measure(args.rounds)
    print(f"First load of each screen of the designer, fresh browser context, median of {args.rounds} rounds")
    print(f"{'screen':15} {'files':>5} {'JS KiB':>8} {'CSS KiB':>8} {'gzip KiB':>9} {'interactive ms':>15}  loads")
    for row in results["screens"]:
        loads = ", ".join(name for name, yes in row["loads"].items() if yes) or "-"
        print(f"{row['screen']:15} {row['files']:5} {row['js_bytes'] / 1024:8.0f} {row['css_bytes'] / 1024:8.0f} "
              f"{row['gzip_bytes'] / 1024:9.0f} {row['interactive_ms']:15.0f}  {loads}")
    results["machine"] = machine()
    write_json(args.json, results)


if __name__ == "__main__":
    main()
