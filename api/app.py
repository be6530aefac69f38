"""The Flask app factory; transport only, the work happens in the domain packages."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, jsonify
from flask.sessions import SessionInterface, SessionMixin
from flask_smorest import Api

from api.auth import SECURITY_SCHEMES, init_auth
from api.blueprints import ALL as BLUEPRINTS
from api.context import ENGINE_KEY
from api.converters import ScopeConverter, scope_schema
from api.database import init_database
from api.designer import init_designer
from api.errors import register_error_handlers
from api.live import init_live
from api.request_text import init_request_text
from api.schemas.common import ErrorSchema
from api.settings import Settings
from engine.engine import Engine


class DealflowApi(Api):
    """Errors are documented with the body the error handlers really send."""

    ERROR_SCHEMA = ErrorSchema


class NoFlaskSession(SessionInterface):
    """dealflow signs in with its own cookie (api/auth.py) and never uses Flask's `session`;
    Flask's signed-cookie session would still build its signer on every request. A view that
    tried to write `flask.session` fails loudly (Flask's NullSession)."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def create_app(engine: Engine, settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.session_interface = NoFlaskSession()
    app.config.update(
        SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=settings.max_body_bytes, JSON_SORT_KEYS=False,
        DEALFLOW_SETTINGS=settings,
        API_TITLE="dealflow", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api", OPENAPI_JSON_PATH="openapi.json", OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        DEALFLOW_SECURE_COOKIES=settings.secure_cookies,
        API_SPEC_OPTIONS={"components": {"securitySchemes": SECURITY_SCHEMES}, "security": [
            {"token": []}, {"session": []}]},
    )
    app.extensions[ENGINE_KEY] = engine
    init_database(app, engine.db)  # before anything that listens to the database's sessions
    app.url_map.converters["scope"] = ScopeConverter
    api = DealflowApi(app)
    api.register_converter(ScopeConverter, scope_schema)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    register_error_handlers(app)
    init_request_text(app)
    init_auth(app)
    init_live(app, engine, settings)
    init_designer(app, settings.designer_dist)

    @app.get("/api/v1/health")
    def health() -> Any:
        return jsonify({"status": "ok"})

    return app
