"""The API's error sentences in the caller's language (Accept-Language: en, uk, ru).

Every error body carries a stable `code` for machines and a `message` for people. The store's
staff read Ukrainian and Russian, so the message is swapped for a sentence from this one
catalog, keyed by the error code; `code` and `details` stay exactly as they were (a client
that reacts to them must not care which language the person reads). The English sentences
the code raises are the source of truth; the catalogs are api/locales/{uk,ru}.json.
`{fields}` in a sentence names the fields listed in the body's details.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Request, Response

LANGUAGES = ("en", "uk", "ru")

# api/locales/<lang>.json: {"by_code": {code: sentence}, "by_status": {status: sentence}, "unknown": ...};
# a code nobody listed still gets a sentence in the person's language, by its status.
CATALOGS: dict[str, dict[str, Any]] = {
    language: json.loads((Path(__file__).parent / "locales" / f"{language}.json").read_text(encoding="utf-8"))
    for language in LANGUAGES[1:]
}


def language_of(request: Request) -> str:
    """The best of our languages for the request's Accept-Language; English if none fits."""
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def translate(body: dict[str, Any], status: int, language: str) -> str:
    """The message for an error body in `language` (the body's own for English)."""
    if language == "en" or language not in LANGUAGES:
        return str(body.get("message", ""))
    catalog = CATALOGS[language]
    sentence = str(catalog["by_code"].get(str(body.get("code"))) or catalog["by_status"].get(str(status))
                   or catalog["unknown"])
    if "{fields}" in sentence:
        fields = _field_names(body.get("details", body.get("fields")))
        sentence = sentence.replace("{fields}", fields) if fields else sentence.split(":")[0].rstrip(" .") + "."
    return sentence


def _field_names(details: Any) -> str:
    if isinstance(details, dict):
        names = [str(name) for name in details if not str(name).startswith("_")]
        if "missing_fields" in details:  # a refused process start
            names = [str(name) for name in details.get("missing_fields") or []]
        return ", ".join(names)
    return ""


def localize_error(response: Response, request: Request) -> Response:
    """After every request: an error answered in JSON gets its message in the caller's language."""
    if response.status_code < 400 or not response.is_json or response.direct_passthrough:
        return response
    language = language_of(request)
    if language == "en":
        return response
    body = response.get_json(silent=True)
    if not isinstance(body, dict) or "code" not in body or "message" not in body:
        return response
    body["message"] = translate(body, response.status_code, language)
    response.set_data(json.dumps(body, ensure_ascii=False))
    response.headers["Content-Language"] = language
    return response
