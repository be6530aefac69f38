"""Each screen downloads only what it uses (issue 14): the store's staff on the deals board never
wait for the modeler's bpmn-js or the robots editor's CodeMirror, which are most of the code."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

from tests.designer.browser import VIEWPORT
from tests.designer.server import api_session

# Found only in the libraries' own code: diagram-js (under bpmn-js) draws in a `djs-container`,
# CodeMirror 6 edits in a `cm-editor`. bench/designer.py looks for the same words.
BPMN_JS = b"djs-container"
CODEMIRROR = b"cm-editor"


def signed_in(browser: Browser, base: str, login: str) -> tuple[Page, list[bytes], list[str]]:
    """A fresh context (nothing cached) holding `login`'s session cookie, as after a sign-in; its
    page, the code of every script it loads (collected as it arrives) and its uncaught errors."""
    session = api_session(base, login=login)
    context = browser.new_context(viewport=VIEWPORT)
    context.add_cookies([{"name": c.name, "value": c.value or "", "url": base} for c in session.cookies])
    session.close()
    page = context.new_page()
    page.set_default_timeout(20000)
    bodies: list[bytes] = []
    errors: list[str] = []
    page.on("response", lambda r: bodies.append(r.body()) if r.request.resource_type == "script" and r.ok else None)
    page.on("pageerror", lambda err: errors.append(str(err)))
    return page, bodies, errors


def loaded(bodies: list[bytes], marker: bytes) -> bool:
    return any(marker in body for body in bodies)


def test_the_deals_board_loads_neither_bpmn_js_nor_codemirror_and_the_modeler_loads_both(browser: Browser, base_url):
    manager, bodies, errors = signed_in(browser, base_url, "manager.north1")
    manager.goto(f"{base_url}/#/board")  # the shell and the board, and nothing else
    manager.wait_for_selector("#board .board-card")
    manager.goto(f"{base_url}/#/deals")
    manager.wait_for_selector("#deals tr.clickable")
    assert bodies, "the page loaded no script at all"
    assert not loaded(bodies, BPMN_JS) and not loaded(bodies, CODEMIRROR)
    manager.context.close()
    assert errors == []

    designer, bodies, errors = signed_in(browser, base_url, "designer")
    designer.goto(f"{base_url}/#/robots/main")
    designer.wait_for_selector("#board .column .card")
    assert loaded(bodies, CODEMIRROR) and not loaded(bodies, BPMN_JS)  # the robots editor: text, no diagram
    designer.click('a[href="#/processes"]')
    designer.wait_for_selector("#canvas .djs-shape")
    assert loaded(bodies, BPMN_JS)  # fetched when the modeler was opened
    designer.context.close()
    assert errors == []
