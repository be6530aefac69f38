"""Signing in: passwords, browser sessions and API tokens.

Passwords are hashed with argon2 (memory-hard, salted). Sessions and tokens are random
secrets handed to the client once; the database keeps only their SHA-256, which is enough
for a 256-bit random secret (no salt or slow hash is needed when the secret cannot be
guessed), and lets a lookup be one indexed equality. A session's CSRF token is derived from
its secret, so nothing more is stored and any server process can check it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from crm.clock import Clock
from crm.errors import CrmError, InvalidInput, NotFound
from crm.models import Credential, User

SESSION_LIFETIME = timedelta(days=14)
MIN_PASSWORD_LENGTH = 4
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is calling, detached from any database session so it can live for a whole request
    (and a whole socket.io connection) while units of work come and go."""

    id: int
    login: str
    name: str
    roles: tuple[str, ...]
    department_id: int | None
    active: bool
    credential_id: int
    via: str
    language: str = "en"

    @classmethod
    def of(cls, user: User, credential: Credential) -> Principal:
        return cls(user.id, user.login, user.name, tuple(user.roles or ()), user.department_id,
                   user.active, credential.id, credential.kind, user.language or "en")


def hash_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(fields={"password": f"must have at least {MIN_PASSWORD_LENGTH} characters"},
                           code="invalid_password")
    return _hasher.hash(password)


@lru_cache(maxsize=4)
def shared_demo_hash(password: str) -> str:
    """One hash for every demo user: hashing is slow on purpose and the demo has many users."""
    return hash_password(password)


def check_password(user: User | None, password: str) -> bool:
    """Constant work whether or not the user exists, so timing does not reveal valid logins."""
    stored = user.password_hash if user is not None and user.active else None
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    session.flush()


class SignInLocked(CrmError):
    """Too many wrong passwords in a row: no password is even checked until `until`."""

    code = "sign_in_locked"
    status = 429

    def __init__(self, until: datetime) -> None:
        super().__init__(f"too many wrong passwords; try again after {until.isoformat()}")
        self.until = until


def authenticate(session: Session, login: str, password: str, clock: Clock) -> User | None:
    """The user if the password is right. A wrong one is counted (the caller must commit even
    though it refuses), and the fifth in a row locks the login for a while; a right one clears
    the count."""
    user = session.scalar(select(User).where(User.login == login.strip())) if isinstance(login, str) else None
    now = clock.now()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise SignInLocked(user.locked_until)
    if check_password(user, password) and user is not None:  # checked first: constant work either way
        user.failed_sign_ins, user.locked_until = 0, None
        session.flush()
        return user
    if user is not None:
        user.failed_sign_ins += 1
        if user.failed_sign_ins >= MAX_FAILED_SIGN_INS:
            user.failed_sign_ins, user.locked_until = 0, now + LOCKOUT
        session.flush()
    return None


def issue(session: Session, user: User, clock: Clock, *, kind: str, name: str = "",
          lifetime: timedelta | None = None) -> tuple[Credential, str]:
    """A new session or token for `user`, and its secret (shown to the client once, never again)."""
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    credential = Credential(user_id=user.id, kind=kind, name=name[:200], secret_hash=_digest(secret),
                            created_at=now, expires_at=now + lifetime if lifetime else None)
    session.add(credential)
    session.flush()
    return credential, secret


#: The one query of every authenticated request: the credential's state and its user's, as
#: plain columns (no ORM objects to build and track), by the unique index on the secret's hash.
#: It is the revocation check too, so it is never answered from a cache (see docs/auth.md).
_PRINCIPAL = (select(Credential.id, Credential.kind, Credential.expires_at, Credential.revoked_at, User.id,
                     User.login, User.name, User.roles, User.department_id, User.active, User.language)
              .join(User, User.id == Credential.user_id)
              .where(Credential.secret_hash == bindparam("secret_hash")))


def principal_for(bind: Session | Connection, secret: str, clock: Clock, *, kind: str) -> Principal | None:
    """The caller holding `secret`, if it is a live credential of that kind of an active user.

    `bind` may be a plain Connection: the web layer asks on one outside any ORM session, which
    is a third of the cost of a session's transaction on PostgreSQL."""
    if not secret:
        return None
    found = bind.execute(_PRINCIPAL, {"secret_hash": _digest(secret)}).first()
    if found is None:
        return None
    (credential_id, credential_kind, expires_at, revoked_at, user_id, login, name, roles, department_id, active,
     language) = found
    now = clock.now()
    if (credential_kind != kind or revoked_at is not None or (expires_at is not None and expires_at <= now)
            or not active):
        return None
    return Principal(user_id, login, name, tuple(roles or ()), department_id, active, credential_id,
                     credential_kind, language or "en")


def revoke(session: Session, credential_id: int, clock: Clock, *, owner: int | None = None,
           kind: str | None = None) -> Credential:
    """Revoke one credential; with `owner` (or `kind`), only one of that user's (or kind) is found."""
    credential = session.get(Credential, credential_id)
    if (credential is None or (owner is not None and credential.user_id != owner)
            or (kind is not None and credential.kind != kind)):
        raise NotFound(f"Credential {credential_id} does not exist", code="credential_not_found")
    if credential.revoked_at is None:
        credential.revoked_at = clock.now()
        session.flush()
    return credential


def tokens_of(session: Session, user_id: int | None) -> list[Credential]:
    """API tokens, newest first; all users' when `user_id` is None."""
    query = select(Credential).where(Credential.kind == "token").order_by(Credential.id.desc())
    if user_id is not None:
        query = query.where(Credential.user_id == user_id)
    return list(session.scalars(query))


def csrf_token(session_secret: str) -> str:
    return hmac.new(session_secret.encode(), b"dealflow-csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_secret: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_token(session_secret), presented)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
