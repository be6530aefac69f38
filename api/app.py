"""The Flask app factory; transport only, the work happens in the domain packages."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from api.blueprints import crm as crm_bp
from api.blueprints import processes as processes_bp
from api.errors import register_error_handlers
from api.live import init_live
from api.settings import Settings
from engine.engine import Engine

MAX_BODY_BYTES = 4 * 1024 * 1024


def create_app(engine: Engine, settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    app.extensions["dealflow.engine"] = engine
    app.register_blueprint(processes_bp.bp)
    app.register_blueprint(crm_bp.bp)
    register_error_handlers(app)
    init_live(app, engine, settings)

    @app.get("/api/v1/health")
    def health() -> Any:
        return jsonify({"status": "ok"})

    return app
