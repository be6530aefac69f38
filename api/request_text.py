"""The one place where the text of a request is checked before any view sees it.

Two kinds of text pass HTTP and JSON but no database stores them: the NUL character
(PostgreSQL refuses it in every text column) and lone UTF-16 surrogates (JSON's "\\ud800",
which no UTF-8 encoder accepts, so both SQLite's and PostgreSQL's drivers fail on it). Left to
the views, each field of each endpoint would end as a 500 at the first write or query that
carries it. Here they are refused for every endpoint at once with a 422 naming where they
are: the path, the query string, a JSON body (keys and values, at any depth), a form, or a
body declared `text/*`. An XML body is left to the BPMN reader, which honours the encoding
the file declares (a UTF-16 file is full of NUL bytes) and refuses what XML forbids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import UnprocessableEntity

#: What no column can hold: NUL, and a surrogate code point standing alone.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: Enough to tell the caller where to look; a body full of NULs does not need a list of each.
MAX_REPORTED = 20


class UnstorableText(UnprocessableEntity):
    """Text in the request that no database column can hold; `problems` maps where to what."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("the request holds text that cannot be stored")
        self.problems = problems


def problem_of(text: str) -> str | None:
    """What is wrong with `text`, if anything, in words for the caller."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return f"contains a NUL character (U+0000) at position {found.start()}"
    return f"contains a lone surrogate (U+{ord(found.group()):04X}) at position {found.start()}"


def decoded_text(raw: bytes, charset: str = "utf-8") -> str:
    """A text body as str, refused with 422 unless it is valid in its charset and storable.

    For views that read a body as text themselves (a robots file sent as text/plain or with no
    content type at all); `text/*` bodies are checked before the view, this covers the rest."""
    try:
        text = raw.decode(charset)
    except (LookupError, UnicodeDecodeError) as err:
        raise UnstorableText({"body": f"is not valid {charset} text: {err}"}) from err
    problem = problem_of(text)
    if problem is not None:
        raise UnstorableText({"body": problem})
    return text


def _json_strings(document: Any) -> Iterator[tuple[str, str]]:
    """Every key and string value of a JSON document with its dotted path; iterative, so a
    deeply nested body cannot exhaust the stack."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            yield path or "body", value
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if isinstance(key, str):
                    yield f"{child} (key)", key
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{index}" if path else str(index), item) for index, item in enumerate(value))


def _pairs(prefix: str, items: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    for key, value in items:
        yield f"{prefix}.{key} (key)", key
        yield f"{prefix}.{key}", value


def _request_strings() -> Iterator[tuple[str, str]]:
    yield "path", request.path
    yield from _pairs("query", request.args.items(multi=True))
    if request.is_json:
        # Unparseable JSON is the view's to refuse (400 invalid_json); the parse is cached.
        document = request.get_json(silent=True)
        if document is not None:
            yield from ((f"body.{path}" if path != "body" else path, text) for path, text in _json_strings(document))
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        yield from _pairs("form", request.form.items(multi=True))
    elif request.mimetype.startswith("text/"):
        yield "body", decoded_text(request.get_data(), request.mimetype_params.get("charset", "utf-8"))


def check_request_text() -> None:
    """Refuse the request with 422 if any of its text cannot be stored (before_request)."""
    problems: dict[str, str] = {}
    for where, text in _request_strings():
        problem = problem_of(text)
        if problem is not None:
            problems[where] = problem
            if len(problems) >= MAX_REPORTED:
                break
    if problems:
        raise UnstorableText(problems)


def init_request_text(app: Flask) -> None:
    """Registered before sign-in's hook, so a refused request has touched nothing, not even
    the credentials table."""
    app.before_request(check_request_text)

    @app.errorhandler(UnstorableText)
    def unstorable(err: UnstorableText) -> Any:
        body = {"code": "invalid_text", "message": "the request holds text that cannot be stored: "
                "NUL characters and lone surrogates are not allowed", "details": err.problems}
        return jsonify(body), 422
