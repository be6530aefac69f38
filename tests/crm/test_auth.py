"""Signing in: argon2 passwords, sessions and tokens that are stored hashed and can be revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.auth import (
    LOCKOUT,
    MAX_FAILED_SIGN_INS,
    SignInLocked,
    authenticate,
    csrf_matches,
    csrf_token,
    issue,
    principal_for,
    revoke,
    set_password,
)
from crm.errors import InvalidInput, NotFound
from crm.events import Cause
from crm.models import Credential
from crm.service import Crm

CAUSE = Cause.system("test")


@pytest.fixture
def crm(database, clock):
    with database.sessions() as session:
        crm = Crm(session, clock)
        crm.create_user(login="anna", name="Anna", roles=["manager"], cause=CAUSE)
        set_password(session, crm.user("anna"), "correct horse")
        yield crm


def test_a_password_is_stored_as_an_argon2_hash_and_checked(crm):
    stored = crm.user("anna").password_hash
    assert stored.startswith("$argon2") and "correct horse" not in stored
    assert authenticate(crm.session, "anna", "correct horse", crm.clock).login == "anna"
    assert authenticate(crm.session, "anna", "wrong", crm.clock) is None
    assert authenticate(crm.session, "nobody", "correct horse", crm.clock) is None


def test_an_inactive_user_cannot_sign_in(crm):
    crm.user("anna").active = False
    assert authenticate(crm.session, "anna", "correct horse", crm.clock) is None


def test_too_short_a_password_is_refused_and_the_old_one_kept(crm):
    with pytest.raises(InvalidInput):
        set_password(crm.session, crm.user("anna"), "abc")
    assert authenticate(crm.session, "anna", "correct horse", crm.clock) is not None


def test_a_token_is_kept_only_as_a_hash_and_finds_its_user(crm, clock):
    credential, secret = issue(crm.session, crm.user("anna"), clock, kind="token", name="store")
    stored = crm.session.scalars(select(Credential.secret_hash)).all()
    assert secret not in stored and credential.secret_hash in stored
    principal = principal_for(crm.session, secret, clock, kind="token")
    assert (principal.login, principal.roles, principal.via) == ("anna", ("manager",), "token")
    assert principal_for(crm.session, secret + "x", clock, kind="token") is None


def test_a_session_secret_is_not_a_token(crm, clock):
    _, secret = issue(crm.session, crm.user("anna"), clock, kind="session")
    assert principal_for(crm.session, secret, clock, kind="token") is None
    assert principal_for(crm.session, secret, clock, kind="session") is not None


def test_revoked_and_expired_credentials_stop_working(crm, clock):
    revoked, revoked_secret = issue(crm.session, crm.user("anna"), clock, kind="token")
    _, expiring_secret = issue(crm.session, crm.user("anna"), clock, kind="token", lifetime=timedelta(hours=1))
    revoke(crm.session, revoked.id, clock)
    clock.advance(timedelta(hours=2))
    assert principal_for(crm.session, revoked_secret, clock, kind="token") is None
    assert principal_for(crm.session, expiring_secret, clock, kind="token") is None


def test_one_user_cannot_revoke_anothers_credential(crm, clock):
    crm.create_user(login="boris", name="Boris", roles=["manager"], cause=CAUSE)
    credential, secret = issue(crm.session, crm.user("anna"), clock, kind="token")
    with pytest.raises(NotFound):
        revoke(crm.session, credential.id, clock, owner=crm.user("boris").id)
    assert principal_for(crm.session, secret, clock, kind="token") is not None


def test_the_csrf_token_belongs_to_its_session():
    assert csrf_matches("secret-a", csrf_token("secret-a"))
    assert not csrf_matches("secret-a", csrf_token("secret-b"))
    assert not csrf_matches("secret-a", None)


def test_five_wrong_passwords_in_a_row_lock_the_login_for_a_while(crm, clock):
    for _ in range(MAX_FAILED_SIGN_INS):
        assert authenticate(crm.session, "anna", "guess", clock) is None
    with pytest.raises(SignInLocked):
        authenticate(crm.session, "anna", "correct horse", clock)
    clock.advance(LOCKOUT)
    assert authenticate(crm.session, "anna", "correct horse", clock) is not None


def test_a_right_password_clears_the_count_of_wrong_ones(crm, clock):
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        authenticate(crm.session, "anna", "guess", clock)
    assert authenticate(crm.session, "anna", "correct horse", clock) is not None
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        authenticate(crm.session, "anna", "guess", clock)
    assert authenticate(crm.session, "anna", "correct horse", clock) is not None
