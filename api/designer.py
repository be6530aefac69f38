"""Serves the browser designer's build (designer/dist) at `/`.

Any path that is not a file of the build gets index.html, so the single-page app's own
routes survive a reload; paths under /api never reach this, so the API keeps its 404/405s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, send_from_directory
from werkzeug.routing import PathConverter

DIST = Path(__file__).resolve().parent.parent / "designer" / "dist"  # DEALFLOW_DESIGNER_DIST: api.settings
NOT_BUILT = "The designer is not built: run `make run` (or `npm ci && npm run build` in designer/).\n"


class PageConverter(PathConverter):
    """A path that does not start with api/: those belong to the API alone."""

    regex = r"(?!api(?:/|$))[^/].*?"


def init_designer(app: Flask, dist: Path = DIST) -> None:
    app.url_map.converters["page"] = PageConverter
    bp = Blueprint("designer", __name__)

    @bp.get("/")
    @bp.get("/<page:path>")
    def page(path: str = "") -> Any:
        if not (dist / "index.html").is_file():
            return Response(NOT_BUILT, status=503, mimetype="text/plain")
        if path and (dist / path).is_file():
            return send_from_directory(dist, path, max_age=_max_age(path))
        response = send_from_directory(dist, "index.html", max_age=0)
        response.headers["Cache-Control"] = "no-cache"
        return response

    app.register_blueprint(bp)


def _max_age(path: str) -> int:
    """Vite names its bundles by content hash, so they can be cached for good; the rest cannot."""
    return 31536000 if path.startswith("assets/") else 0
