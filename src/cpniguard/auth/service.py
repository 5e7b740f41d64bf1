"""Use cases of customer authentication: one-time codes, setting and verifying credentials.

Verifying a secret costs an argon2id computation on purpose (tens of milliseconds); it runs
between two short transactions, so it never holds the database's write lock.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.auth.codes import (
    CodePurpose,
    OneTimeCode,
    OneTimeCodePolicy,
    code_destinations,
    issue_code,
    may_send,
    new_code,
)
from cpniguard.auth.credentials import biographical_reason, check_backup_question, normalise_secret
from cpniguard.auth.lockout import Attempt, LockoutPolicy, locked_until
from cpniguard.auth.model import Credential, CredentialKind, SecretHasher, VerifiedBy, change_notice_required
from cpniguard.auth.photo_id import PhotoId, photo_id_problem
from cpniguard.auth.release import BusinessExemption
from cpniguard.clock import Clock
from cpniguard.customers.model import Customer, CustomerKind, parse_enum
from cpniguard.errors import Conflict, Forbidden, InvalidInput, NotFound
from cpniguard.ids import CustomerId, new_id
from cpniguard.notifications.model import Channel, NoticeEvent, Stop, letter_recipient
from cpniguard.notifications.service import Letterhead, compose, queue_notice
from cpniguard.ports import Alert, UnitOfWork

SERVICE_INITIATION_WINDOW = timedelta(hours=24)
CHANGED = {
    CredentialKind.PASSWORD: NoticeEvent.PASSWORD_CHANGED,
    CredentialKind.PIN: NoticeEvent.PIN_CHANGED,
    CredentialKind.BACKUP_ANSWER: NoticeEvent.BACKUP_ANSWER_CHANGED,
}
PRETEXTING = "pretexting-suspected"


@dataclass(frozen=True, slots=True)
class AuthSettings:
    hasher: SecretHasher
    lockout: LockoutPolicy
    codes: OneTimeCodePolicy
    letterhead: Letterhead
    randbelow: Callable[[int], int] = secrets.randbelow


@dataclass(frozen=True, slots=True)
class CodeSent:
    code_id: str
    channel: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Verification:
    verified: bool
    locked: bool  # staff views only: customer-facing answers never tell (AUTH-1)
    locked_until: datetime | None = None


def _customer(uow: UnitOfWork, customer: CustomerId) -> Customer:
    found = uow.customers.get(customer)
    if found is None:
        raise NotFound(f"unknown customer: {customer}")
    return found


def send_code(
    uow: UnitOfWork, clock: Clock, actor: Actor, settings: AuthSettings, customer_id: CustomerId, purpose: str
) -> CodeSent:
    """AUTH-7, AMB-5: a single-use code to a contact of record (never a new one), rate-limited."""
    purpose = parse_enum(CodePurpose, purpose, "code purpose").value
    now = clock.now()
    code = new_code(settings.randbelow, settings.codes.length)
    with uow:
        customer = _customer(uow, customer_id)
        destinations = code_destinations(customer, now)
        if not destinations:
            raise Conflict("the customer has no contact of record to send a code to")
        recent = [c.created_at for c in uow.auth.codes(customer_id, now - timedelta(hours=1))]
        if not may_send(settings.codes, recent, now):
            raise Conflict("too many codes were sent in the last hour; try again later")
        issued = issue_code(settings.codes, new_id(), customer_id, purpose, destinations[0], code, now)
        uow.auth.add_code(issued)
        minutes = int(settings.codes.ttl.total_seconds() // 60)
        channel = Channel(issued.channel.value)
        recipient = letter_recipient(customer.name, issued.recipient) if channel is Channel.LETTER else issued.recipient
        route = (Stop(channel, recipient),)
        notice = compose(
            customer, NoticeEvent.ONE_TIME_CODE, now, settings.letterhead, route, code=code, minutes=minutes
        )
        queue_notice(uow, actor, now, notice)
        details = {"code": str(issued.id), "purpose": purpose, "channel": issued.channel.value}
        uow.audit.add(AuditEntry.of("auth:one-time-code:sent", actor, now, customer_id, details=details))
        uow.commit()
    return CodeSent(str(issued.id), issued.channel.value, issued.expires_at)


def confirm_code(uow: UnitOfWork, clock: Clock, actor: Actor, customer_id: CustomerId, code: str) -> bool:
    """The customer read back the code: true when it matches a usable one, which is then used."""
    now = clock.now()
    with uow:
        _customer(uow, customer_id)
        usable = [c for c in uow.auth.codes(customer_id, now - timedelta(days=1)) if c.usable(now)]
        confirmed: OneTimeCode | None = None
        for candidate in reversed(usable):  # newest first; every try counts against its code
            ok, after = candidate.redeem(code, now)
            uow.auth.save_code(after)
            if ok:
                confirmed = after
                break
        outcome = "confirmed" if confirmed else "refused"
        details = {"code": str(confirmed.id) if confirmed else None}
        uow.audit.add(AuditEntry.of(f"auth:one-time-code:{outcome}", actor, now, customer_id, details=details))
        uow.commit()
    return confirmed is not None


def _check_proof(
    uow: UnitOfWork, customer: Customer, verified_by: VerifiedBy, photo_id: PhotoId | None, now: datetime
) -> OneTimeCode | None:
    """AUTH-7: proof without biographical or account information. Returns the code it spends."""
    if verified_by is VerifiedBy.SERVICE_INITIATION:
        if now - customer.created_at > SERVICE_INITIATION_WINDOW:
            raise Forbidden("service-initiation applies only within 24 hours of opening the account")
        return None
    if verified_by is VerifiedBy.PHOTO_ID:
        problem = "no photo ID was shown" if photo_id is None else photo_id_problem(photo_id, customer, now)
        if problem:
            raise Forbidden(f"photo ID refused: {problem}")
        return None
    for code in reversed(uow.auth.codes(customer.id, now - timedelta(days=1))):
        if code.used_at is not None and now < code.expires_at:
            return code
    raise Forbidden("no one-time code sent to a contact of record was confirmed: send one and confirm it first")


def check_new_secret(
    uow: UnitOfWork, clock: Clock, customer_id: CustomerId, kind: CredentialKind, secret: str, question: str = ""
) -> str | None:
    """The checks `set_credential` makes of a new secret (AUTH-7, AUTH-8), made before a code is
    sent for it, so the customer is told at once; a read only. Returns the backup question, if any."""
    normalised = normalise_secret(kind, secret)
    asked = check_backup_question(question) if kind is CredentialKind.BACKUP_ANSWER else None
    with uow:
        found = uow.customers.get(customer_id)
    problem = biographical_reason(kind, normalised, found, clock.now()) if found is not None else None
    if problem:
        raise InvalidInput(f"refused: {problem} (AUTH-7)")
    return asked


def set_credential(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    settings: AuthSettings,
    customer_id: CustomerId,
    kind: CredentialKind,
    secret: str,
    verified_by: VerifiedBy,
    question: str | None = None,
    photo_id: PhotoId | None = None,
) -> Credential:
    """Sets or replaces a credential; the change is announced unless it is chosen at service
    initiation (NOTIFY-1, NOTIFY-2). The secret is never stored, logged or returned."""
    now = clock.now()
    normalised = normalise_secret(kind, secret)
    asked = check_backup_question(question or "") if kind is CredentialKind.BACKUP_ANSWER else None
    hashed = settings.hasher.hash(normalised)  # outside the transaction: argon2 is slow on purpose
    with uow:
        customer = _customer(uow, customer_id)
        reason = biographical_reason(kind, normalised, customer, now)
        if reason:
            raise InvalidInput(f"refused: {reason} (AUTH-7)")
        spent = _check_proof(uow, customer, verified_by, photo_id, now)
        if spent is not None:  # a confirmed code proves one change
            uow.auth.save_code(replace(spent, expires_at=now))
        credential = Credential(new_id(), customer_id, kind, hashed, verified_by, now, asked)
        existed = uow.auth.credential(customer_id, kind) is not None
        uow.auth.save_credential(credential)
        details = {"kind": kind.value, "verified_by": verified_by.value, "replaced": existed}
        uow.audit.add(AuditEntry.of("auth:credential:set", actor, now, customer_id, details=details))
        if change_notice_required(verified_by):
            # NOTIFY-1: a first password opens the online account; that is announced as such.
            first_password = kind is CredentialKind.PASSWORD and not existed
            event = NoticeEvent.ONLINE_ACCOUNT_CHANGED if first_password else CHANGED[kind]
            queue_notice(uow, actor, now, compose(customer, event, now, settings.letterhead))
        uow.commit()
    return credential


def verify_credential(
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    actor: Actor,
    settings: AuthSettings,
    customer_id: CustomerId,
    kind: CredentialKind,
    secret: str,
) -> Verification:
    """Checks a secret. Unknown customer, no credential, wrong secret and locked channel all
    cost one argon2 verification and answer `verified: False` (AUTH-1)."""
    now = clock.now()
    try:
        candidate = normalise_secret(kind, secret)
    except InvalidInput:
        candidate = secret  # a malformed secret is a wrong one, and answered the same way
    with uow_factory() as uow:
        customer = uow.customers.get(customer_id)
        stored = uow.auth.credential(customer_id, kind) if customer else None
        history = _history(uow, customer_id, kind, now, settings.lockout) if customer else []
    lock = locked_until(settings.lockout, history, now)
    if stored is None or lock is not None:
        ok = settings.hasher.dummy_verify(candidate)
    else:
        ok = settings.hasher.verify(stored.secret_hash, candidate)
    with uow_factory() as uow:
        if customer is None:
            uow.audit.add(AuditEntry.of(f"auth:{kind.value}:failed", actor, now, details={"unknown_customer": True}))
            uow.commit()
            return Verification(False, False)
        # Attempts at one customer are recorded one at a time (SQLite: the write lock; PostgreSQL:
        # the customer's row), and the history is read again under that lock: two wrong PINs at
        # the same moment cannot both slip under the limit, nor raise the alert twice.
        uow.auth.hold_attempts(customer_id)
        history = _history(uow, customer_id, kind, now, settings.lockout)
        if lock is None and (lock := locked_until(settings.lockout, history, now)) is not None:
            ok = False  # locked by a concurrent attempt while this secret was being checked
        # A try refused unchecked during a lock neither counts nor extends it (lockout.py), so
        # only the ledger keeps it. Stored, it would count once the failures that caused the lock
        # fall out of the history read above, and lock the owner out again when the lock ends.
        if lock is None:
            uow.auth.add_attempt(customer_id, kind.value, now, ok)
        outcome = "verified" if ok else ("refused-locked" if lock else "failed")
        uow.audit.add(AuditEntry.of(f"auth:{kind.value}:{outcome}", actor, now, customer_id, outcome=outcome))
        after = locked_until(settings.lockout, [*history, Attempt(now, ok)], now)
        if after is not None and lock is None:
            _lock_raised(uow, actor, settings, customer, kind, now, after)
        uow.commit()
    return Verification(ok, after is not None, after)


def _history(
    uow: UnitOfWork, customer: CustomerId, kind: CredentialKind, now: datetime, policy: LockoutPolicy
) -> list[Attempt]:
    return uow.auth.attempts(customer, kind.value, now - policy.window - policy.lock_for)


def _lock_raised(
    uow: UnitOfWork,
    actor: Actor,
    settings: AuthSettings,
    customer: Customer,
    kind: CredentialKind,
    now: datetime,
    until: datetime,
) -> None:
    """AUTH-1: the channel locks, a pretexting alert is raised, and the customer is told."""
    details = f"{settings.lockout.max_failures} failed {kind.value} attempts; locked until {until.isoformat()}"
    uow.auth.add_alert(Alert(new_id(), customer.id, PRETEXTING, now, details))
    uow.audit.add(AuditEntry.of(f"auth:{kind.value}:locked", actor, now, customer.id, reason=details))
    queue_notice(uow, actor, now, compose(customer, NoticeEvent.ACCOUNT_LOCKED, now, settings.letterhead))


def record_exemption(
    uow: UnitOfWork, clock: Clock, actor: Actor, customer_id: CustomerId, exemption: BusinessExemption
) -> None:
    """AUTH-9: the arrangement is recorded, and applies only with a dedicated representative and
    a contract with a CPNI clause, for a business customer (checked when a session opens)."""
    now = clock.now()
    with uow:
        customer = _customer(uow, customer_id)
        if customer.kind is not CustomerKind.BUSINESS:
            raise InvalidInput("only a business customer can have a contractual authentication arrangement (AUTH-9)")
        uow.auth.save_exemption(customer_id, exemption, now)
        details = {
            "representative": exemption.dedicated_representative,
            "contract": exemption.contract_id,
            "cpni_clause": exemption.cpni_clause,
        }
        uow.audit.add(AuditEntry.of("auth:business-exemption:recorded", actor, now, customer_id, details=details))
        uow.commit()
