"""The web app runs on Flask-SQLAlchemy over the domain's own base: one engine for the app
and its Database, the request's unit of work on the request's session, closed at teardown."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from api.app import create_app
from api.context import engine as app_engine_of
from api.database import EXTENSION_KEY, request_session
from api.settings import Settings
from crm.db import Base
from crm.events import Cause
from crm.models import Contact
from tests.support.world import app_engine


def test_the_app_and_its_database_share_the_engine_flask_sqlalchemy_made(database, clock):
    engine = app_engine(database, clock)
    app = create_app(engine, Settings(database_url=database.url))
    extension = app.extensions[EXTENSION_KEY]
    assert isinstance(extension, SQLAlchemy) and extension.metadata is Base.metadata
    with app.app_context():
        assert database.engine is extension.engine
    assert extension.session.session_factory in database.session_makers


def test_a_unit_of_work_in_a_request_runs_on_the_request_session_and_teardown_closes_it(database, clock):
    engine = app_engine(database, clock)
    app = create_app(engine, Settings(database_url=database.url))
    with app.test_request_context():
        session = request_session()
        with app_engine_of().unit(session) as rt:
            assert rt.session is session and session.in_transaction()
            rt.crm.create_contact(name="Olga", cause=Cause.system())
        assert not session.in_transaction()
    with database.transaction() as plain:  # the CLI's and the workers' kind of session
        assert "Olga" in set(plain.scalars(select(Contact.name)))
