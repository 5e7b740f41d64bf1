"""Sign-in to the staff console and the customer portal: passwords, sessions, rate limits.

A session is a random token in a cookie; only its SHA-256 is stored, so a copy of the database
opens no session. It ends when signed out, after `IDLE` without a request, or after `LONGEST`.
Sign-in attempts are counted per name and per address: after `MAX_FAILURES` failures within
`WINDOW` further attempts are refused unchecked until the window has passed (AUTH-1's measures
against guessing, applied to staff too). Every answer to a failed sign-in is the same.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cpniguard.access.model import User
from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.auth.model import CredentialKind, SecretHasher
from cpniguard.auth.service import AuthSettings, verify_credential
from cpniguard.clock import Clock
from cpniguard.customers.model import ContactKind, Customer
from cpniguard.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from cpniguard.ids import CustomerId
from cpniguard.ports import UnitOfWork

IDLE = timedelta(minutes=15)
LONGEST = timedelta(hours=10)
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
REFUSED = "the name or password is wrong, or signing in is paused after several failures"
MIN_PASSWORD = 12
NO_CUSTOMER = CustomerId(uuid.UUID(int=0))  # an unknown email costs the same argon2 check


@dataclass(frozen=True, slots=True)
class WebSession:
    token_hash: str
    kind: str  # staff | customer
    subject: str  # a user's name, or a customer's id
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.ended_at is None and now - self.last_seen_at < IDLE and now - self.created_at < LONGEST


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_session(kind: str, subject: str, now: datetime) -> tuple[str, WebSession]:
    token = secrets.token_urlsafe(32)
    return token, WebSession(token_hash(token), kind, subject, secrets.token_urlsafe(32), now, now)


def set_staff_password(
    uow: UnitOfWork, clock: Clock, actor: Actor, hasher: SecretHasher, name: str, password: str
) -> None:
    """The console password of a member of staff (argon2id, like the customers' secrets)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a console password has at least {MIN_PASSWORD} characters")
    now = clock.now()
    with uow:
        if uow.users.by_name(name) is None:
            raise NotFound(f"unknown user: {name}")
        uow.web.set_password(name, hasher.hash(password))
        uow.audit.add(AuditEntry.of("access:console-password:set", actor, now, details={"user": name}))
        uow.commit()


def _limited(uow: UnitOfWork, keys: list[str], now: datetime) -> bool:
    return any(uow.web.failures_since(key, now - WINDOW) >= MAX_FAILURES for key in keys)


def staff_sign_in(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, hasher: SecretHasher, name: str, password: str, address: str
) -> tuple[str, WebSession, User]:
    now = clock.now()
    keys = [f"staff:{name.strip().lower()}", f"ip:{address}"]
    with uow_factory() as uow:
        limited = _limited(uow, keys, now)
        user = uow.users.by_name(name.strip())
        stored = uow.web.password_hash(user.name) if user else None
    if stored and not limited:
        ok = hasher.verify(stored, password)
    else:  # unknown, without a password, or paused: the same argon2 cost, and refused
        hasher.dummy_verify(password)
        ok = False
    with uow_factory() as uow:
        for key in keys:
            uow.web.add_attempt(key, now, ok)
        actor = Actor("staff", user.name if user else name.strip()[:200], user.roles if user else frozenset())
        if not ok or user is None:
            uow.audit.add(AuditEntry.of("access:console-sign-in:refused", actor, now, outcome="refused"))
            uow.commit()
            raise Unauthorized(REFUSED)
        token, session = _new_session("staff", user.name, now)
        uow.web.add_session(session)
        uow.audit.add(AuditEntry.of("access:console-sign-in:succeeded", actor, now, outcome="signed-in"))
        uow.commit()
    return token, session, user


def customer_sign_in(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, auth: AuthSettings, email: str, password: str, address: str
) -> tuple[str, WebSession]:
    """By an email address of record and the online-account password (AUTH-5); the password's
    own lockout (AUTH-1) applies, and the same per-address limit as the console's."""
    now = clock.now()
    keys = [f"customer:{email.strip().lower()}", f"ip:{address}"]
    with uow_factory() as uow:
        limited = _limited(uow, keys, now)
        found = [c for c in uow.customers.find(email.strip(), 2) if email.strip() and _has_email(c, email, now)]
    customer = found[0].id if len(found) == 1 else NO_CUSTOMER
    actor = Actor("customer", str(customer))
    if limited:
        auth.hasher.dummy_verify(password)
        ok = False
    else:
        ok = verify_credential(uow_factory, clock, actor, auth, customer, CredentialKind.PASSWORD, password).verified
    with uow_factory() as uow:
        for key in keys:
            uow.web.add_attempt(key, now, ok)
        if not ok:
            uow.commit()
            raise Unauthorized(REFUSED)
        token, session = _new_session("customer", str(customer), now)
        uow.web.add_session(session)
        uow.audit.add(AuditEntry.of("access:portal-sign-in:succeeded", actor, now, customer, outcome="signed-in"))
        uow.commit()
    return token, session


def _has_email(customer: Customer, email: str, now: datetime) -> bool:
    wanted = email.strip().lower()
    return any(c.value.lower() == wanted for c in customer.contacts_of_record(now, ContactKind.EMAIL))


def session_for(uow: UnitOfWork, clock: Clock, token: str | None) -> WebSession | None:
    """The live session of a cookie, its idle clock restarted; None when there is none."""
    if not token:
        return None
    now = clock.now()
    with uow:
        session = uow.web.session(token_hash(token))
        if session is None or not session.live(now):
            return None
        uow.web.touch(session.token_hash, now)
        uow.commit()
    return session


def sign_out(uow: UnitOfWork, clock: Clock, token: str | None) -> None:
    if not token:
        return
    with uow:
        uow.web.end(token_hash(token), clock.now())
        uow.commit()


def require_role(user: User | None, roles: frozenset[str]) -> User:
    if user is None:
        raise Unauthorized("sign in first")
    if not user.roles & roles:
        raise Forbidden(f"this page needs one of the roles: {', '.join(sorted(roles))}")
    return user
