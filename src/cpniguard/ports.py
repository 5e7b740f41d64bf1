"""Ports: what the use cases need from storage and the outside world, named by role."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from cpniguard.access.model import ApiKey, User
from cpniguard.audit.model import AuditEntry, Checkpoint, Run
from cpniguard.auth.codes import OneTimeCode
from cpniguard.auth.lockout import Attempt
from cpniguard.auth.model import Credential, CredentialKind
from cpniguard.auth.release import BusinessExemption
from cpniguard.breaches.model import BreachEvent, Document, Incident
from cpniguard.campaigns.model import Campaign
from cpniguard.consent.model import ConsentEvent, ConsentState
from cpniguard.customers.model import Contact, Customer, Language, Service, ServiceCategory
from cpniguard.customers.records import Bill, CallDetailRecord
from cpniguard.decisions.model import CustomerFacts
from cpniguard.ids import CustomerId
from cpniguard.notifications.model import Notice, NoticeEvent, Stop
from cpniguard.privacy_office.certification_evidence import CertificationRecord, Signatory, YearEvidence
from cpniguard.privacy_office.dashboard_counts import DashboardCounts
from cpniguard.privacy_office.model import BrokerAction, Complaint, ComplaintCategory, TrainingRecord
from cpniguard.privacy_office.policies import PolicyVersion

if TYPE_CHECKING:  # access.web uses these ports itself
    from cpniguard.access.web import WebSession


class CustomerRepository(Protocol):
    def add(self, customer: Customer) -> None: ...
    def get(self, customer: CustomerId) -> Customer | None: ...
    def get_many(self, customers: Sequence[CustomerId]) -> list[Customer]: ...
    def exists(self, customer: CustomerId) -> bool: ...
    def decision_facts(self, customers: Sequence[CustomerId], at: datetime) -> dict[CustomerId, CustomerFacts]: ...
    def add_contact(self, contact: Contact) -> None: ...
    def remove_contact(self, contact: uuid.UUID, at: datetime) -> None: ...
    def add_service(self, service: Service) -> None: ...
    def count(self) -> int: ...
    def find(self, text: str, limit: int) -> list[Customer]: ...


class CpniRepository(Protocol):
    """The CPNI itself: call detail records and bills."""

    def add_call_detail(self, records: Sequence[CallDetailRecord]) -> None: ...
    def add_bills(self, bills: Sequence[Bill]) -> None: ...
    def call_detail(self, customer: CustomerId, limit: int) -> list[CallDetailRecord]: ...
    def bills(self, customer: CustomerId) -> list[Bill]: ...


class CpniSealer(Protocol):
    """Seals CPNI at rest and opens it again (BREACH23-8). The associated data names where a
    value is stored; a value opened with other associated data, or altered, is refused."""

    def current_key(self) -> str:
        """The id of the key new seals use."""
        ...

    def seal(self, items: Sequence[tuple[bytes, bytes]]) -> tuple[str, list[bytes]]:
        """(associated data, plaintext) pairs sealed under the current key: its id and the values."""
        ...

    def open(self, items: Sequence[tuple[str, bytes, bytes]]) -> list[bytes]:
        """(key id, associated data, sealed value) triples opened: CpniKeyUnavailable when the
        keyring lacks a key, CpniSealBroken (with the item's index) when one fails authentication."""
        ...

    def pinned(self) -> CpniSealer:
        """A sealer with the keyring as it is now, that pickles: worker processes seal an
        import's rows with it under the key its writer holds."""
        ...


class ConsentRepository(Protocol):
    def add(self, event: ConsentEvent) -> ConsentEvent: ...
    def events(self, customer: CustomerId) -> list[ConsentEvent]: ...
    def state(self, customer: CustomerId) -> ConsentState | None: ...
    def states(self, customers: Sequence[CustomerId]) -> dict[CustomerId, ConsentState]: ...
    def save_state(self, state: ConsentState) -> None: ...
    def notices_due(self, at: datetime, include_never: bool) -> list[CustomerId]: ...
    def all_events(self) -> Iterator[ConsentEvent]: ...
    def all_states(self) -> Iterator[ConsentState]: ...


@dataclass(frozen=True, slots=True)
class GateInputs:
    """What the gate reads for a group of checks."""

    facts: dict[datetime, dict[CustomerId, CustomerFacts]]  # per moment; unknown customers absent
    states: dict[CustomerId, ConsentState] | None  # None: consent could not be read (fail closed)


class GateReads(Protocol):
    def load(self, moments: Mapping[datetime, Sequence[CustomerId]]) -> GateInputs:
        """The facts of the customers at each moment, and all their current consent states."""
        ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...
    def check_chain(
        self,
        checkpoints: Mapping[int, str],
        batch_size: int,
        parallel_from: int,
        progress: Callable[[int], None] | None = None,
    ) -> list[Run]:
        """Every stored entry checked in chain order, in stretches of seq (see `audit.model.RunCheck`)."""
        ...

    def entry(self, seq: int) -> AuditEntry | None: ...
    def count(self) -> int: ...
    def checkpoints(self) -> list[Checkpoint]: ...
    def last_checkpoint(self) -> Checkpoint | None: ...
    def head(self) -> tuple[int, str]: ...
    def add_checkpoint(self, checkpoint: Checkpoint) -> None: ...
    def find(
        self, customer: uuid.UUID | None, action: str | None, limit: int, before: int | None = None
    ) -> list[AuditEntry]: ...


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message as a delivery adapter sends it: text already rendered, in the customer's language."""

    idempotency_key: str  # the same for every attempt at one message on one channel
    channel: str  # email | sms | voice | letter
    recipient: str  # an email address, an E.164 number, or a postal address (lines joined by newlines)
    subject: str
    body: str
    language: str  # en | de
    attachment_name: str | None = None  # e.g. call detail sent to the address of record
    attachment: bytes | None = None
    reply_to: str | None = None  # an email's Reply-To (NOTICE-8: opt-out notices are answered to marketing)


class DeliveryFailed(Exception):
    """The adapter could not deliver. `transient`: worth retrying later (a 503, a timeout, a
    refused connection); otherwise the channel failed for good (a rejected recipient, a 4xx)."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class MessageSender(Protocol):
    """A delivery adapter for one channel (SMTP email, SMS/voice over HTTP, PDF letters, a folder)."""

    def send(self, envelope: Envelope) -> str:
        """Delivers, or raises DeliveryFailed; returns the provider's reference for the delivery record."""
        ...


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """An outbox message a worker holds under a lease, at the stop of its route it is on."""

    notice: Notice
    step: int
    attempts: int  # including this one
    resumed: bool  # an earlier attempt on this stop never finished: a resend (same idempotency key)

    @property
    def stop(self) -> Stop:
        return self.notice.route[self.step]

    @property
    def idempotency_key(self) -> str:
        return f"{self.notice.id}.{self.step}"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What a worker did with one claimed message, and what becomes of it."""

    message: ClaimedMessage
    started_at: datetime
    outcome: str  # delivered | transient-failure | permanent-failure
    status: str  # delivered | pending | failed
    next_step: int
    next_attempt_at: datetime
    reference: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """A notice as staff list it, with its delivery status."""

    notice: Notice
    channel: str
    recipient: str
    status: str
    attempts: int
    delivered_at: datetime | None
    last_error: str | None


class OutboxRepository(Protocol):
    def add(self, notice: Notice) -> None: ...
    def claim(self, worker: str, now: datetime, lease: timedelta, limit: int) -> list[ClaimedMessage]:
        """Due messages, leased to `worker`; on PostgreSQL rows other workers hold are skipped."""
        ...

    def record(self, worker: str, results: Sequence[DeliveryResult]) -> None: ...
    def notices(self, customer: uuid.UUID | None, limit: int) -> list[NoticeRecord]: ...
    def notice(self, notice_id: uuid.UUID) -> NoticeRecord | None: ...
    def waiting(self, event: NoticeEvent, customers: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `customers` with a notice of `event` in the outbox not yet delivered nor failed."""
        ...

    def counts(self) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class CallSession:
    """A customer-initiated contact an agent is handling, and how the caller was verified."""

    id: uuid.UUID
    customer_id: CustomerId
    agent: str
    channel: str  # inbound-call | in-person | online
    opened_at: datetime
    proof: str  # password | pin | photo-id | none (auth.release.SessionProof)
    via_representative: bool = False
    closed_at: datetime | None = None

    def open_at(self, at: datetime) -> bool:
        return self.opened_at <= at and (self.closed_at is None or at < self.closed_at)


@dataclass(frozen=True, slots=True)
class Alert:
    id: uuid.UUID
    customer_id: uuid.UUID | None
    kind: str  # pretexting-suspected, ...
    raised_at: datetime
    details: str
    resolved_at: datetime | None = None


class AuthRepository(Protocol):
    """Credentials, attempts, one-time codes, call sessions, alerts and business exemptions."""

    def credential(self, customer: CustomerId, kind: CredentialKind) -> Credential | None: ...
    def save_credential(self, credential: Credential) -> None: ...
    def add_attempt(self, customer: CustomerId, kind: str, at: datetime, succeeded: bool) -> None: ...
    def hold_attempts(self, customer: CustomerId) -> None: ...
    def attempts(self, customer: CustomerId, kind: str, since: datetime) -> list[Attempt]: ...
    def add_code(self, code: OneTimeCode) -> None: ...
    def save_code(self, code: OneTimeCode) -> None: ...
    def codes(self, customer: CustomerId, since: datetime) -> list[OneTimeCode]: ...
    def add_alert(self, alert: Alert) -> None: ...
    def alerts(self, customer: CustomerId | None, limit: int) -> list[Alert]: ...
    def add_session(self, session: CallSession) -> None: ...
    def session(self, session_id: uuid.UUID) -> CallSession | None: ...
    def close_session(self, session_id: uuid.UUID, at: datetime) -> None: ...
    def set_session_proof(self, session_id: uuid.UUID, proof: str) -> None: ...
    def exemption(self, customer: CustomerId) -> BusinessExemption | None: ...
    def save_exemption(self, customer: CustomerId, exemption: BusinessExemption, at: datetime) -> None: ...


class UserRepository(Protocol):
    def add(self, user: User) -> None: ...
    def by_name(self, name: str) -> User | None: ...
    def all(self) -> list[User]: ...
    def set_roles(self, user_id: uuid.UUID, roles: frozenset[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class CampaignEvent:
    campaign_id: uuid.UUID
    status: str
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Disclosure:
    """CPNI of one customer given to a third party by a campaign export (SAFE-3)."""

    campaign_id: uuid.UUID
    customer_id: uuid.UUID
    recipient: str
    categories: str
    at: datetime
    by: str
    export_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class AudienceSnapshot:
    """A campaign's frozen audience: when it was built, for which moment, and its counts."""

    built_at: datetime
    decided_for: datetime
    included: int
    excluded: dict[str, int]  # by reason; empty for snapshots built before the counts were kept


class CampaignRepository(Protocol):
    def add(self, campaign: Campaign) -> None: ...
    def get(self, campaign_id: uuid.UUID) -> Campaign | None: ...
    def all(self) -> list[Campaign]: ...
    def save(self, campaign: Campaign) -> None: ...
    def add_event(self, event: CampaignEvent) -> None: ...
    def events(self, campaign_id: uuid.UUID) -> list[CampaignEvent]: ...
    def freeze_audience(
        self,
        campaign_id: uuid.UUID,
        customers: Sequence[str],
        excluded: Mapping[str, int],
        built_at: datetime,
        at: datetime,
    ) -> None:
        """Adds `customers` (dashed UUID text) to the campaign's audience snapshot and records
        when it was built, for which moment, and the count of those excluded, by reason."""
        ...

    def clear_audience(self, campaign_id: uuid.UUID) -> None:
        """Empties the snapshot before a build fills it again."""
        ...

    def audience(self, campaign_id: uuid.UUID) -> list[uuid.UUID]: ...
    def audience_built(self, campaign_id: uuid.UUID) -> tuple[datetime, datetime] | None:
        """(when the snapshot was built, the moment it was decided for), or None."""
        ...

    def audience_snapshot(self, campaign_id: uuid.UUID) -> AudienceSnapshot | None:
        """The snapshot's moments and counts (counted in SQL), or None before a build."""
        ...

    def add_disclosures(self, disclosures: Sequence[Disclosure]) -> None: ...
    def disclosure_count(self, campaign_id: uuid.UUID) -> int: ...
    def disclosures(self, campaign_id: uuid.UUID) -> list[Disclosure]: ...


class PurgeRepository(Protocol):
    def working_data(self, before: datetime) -> dict[str, int]: ...
    def call_detail(self, before: datetime) -> int: ...


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey) -> None: ...
    def by_digest(self, digest: str) -> ApiKey | None: ...
    def by_name(self, name: str) -> ApiKey | None: ...
    def revoke(self, key_id: uuid.UUID, at: datetime) -> None: ...
    def all(self) -> list[ApiKey]: ...


@dataclass(slots=True)
class BatchOutcome:
    """Decisions for many customers: who is allowed, and how many were denied for what."""

    allowed: list[str] = field(default_factory=list)  # customer ids, as canonical UUID text
    denied: dict[str, int] = field(default_factory=dict)
    denied_ids: dict[str, list[str]] | None = None  # by reason, when asked for (keep_denied)
    stored: int = 0  # allowed and written by the store straight into a campaign's audience, not listed

    @property
    def included(self) -> int:
        return len(self.allowed) + self.stored

    @property
    def total(self) -> int:
        return self.included + sum(self.denied.values())


class BatchDecisions(Protocol):
    """The gate's set-based form, evaluated by the store (for audiences and exports)."""

    def decide(
        self,
        purpose: str,
        at: datetime,
        customers: Iterable[uuid.UUID] | None,
        offer: ServiceCategory | None = None,
        reference: str | None = None,
        keep_denied: bool = False,
        segment: ServiceCategory | None = None,
        into: uuid.UUID | None = None,
    ) -> BatchOutcome:
        """`into`: the allowed customers are added by the store itself to this campaign's
        audience snapshot and counted in `stored` (a million ids never pass through Python);
        only those decided by replaying their events are listed in `allowed`."""
        ...


class BreachRepository(Protocol):
    """Breach incidents, their timeline, documents and affected customers (BREACH-6)."""

    def add(self, incident: Incident) -> None: ...
    def save(self, incident: Incident) -> None: ...
    def get(self, incident_id: uuid.UUID, for_update: bool = False) -> Incident | None: ...
    def all(self) -> list[Incident]: ...
    def add_event(self, event: BreachEvent) -> None: ...
    def events(self, incident_id: uuid.UUID) -> list[BreachEvent]: ...
    def events_by_incident(self, kinds: Sequence[str]) -> dict[uuid.UUID, list[BreachEvent]]:
        """The events of these kinds of every incident, in one read, each incident's in order."""
        ...

    def add_document(self, document: Document) -> None: ...
    def document(self, document_id: uuid.UUID) -> Document | None: ...
    def add_affected(self, incident_id: uuid.UUID, customers: Sequence[uuid.UUID]) -> int: ...
    def affected(self, incident_id: uuid.UUID, unnoticed_only: bool = False) -> list[uuid.UUID]: ...
    def count_affected(self, incident_id: uuid.UUID) -> int: ...
    def mark_noticed(
        self, incident_id: uuid.UUID, notices: Sequence[tuple[uuid.UUID, uuid.UUID]], at: datetime
    ) -> None: ...


class CalendarRepository(Protocol):
    """The closure days compliance staff add to the federal holidays (CAL-3)."""

    def closures(self) -> dict[date, str]: ...
    def add_closure(self, day: date, reason: str, by: str, at: datetime) -> bool: ...
    def remove_closure(self, day: date) -> bool: ...


class PrivacyRepository(Protocol):
    """Policy versions, complaints, data-broker actions and training records."""

    def add_policy(self, version: PolicyVersion) -> None: ...
    def policies(self, language: Language | None = None) -> list[PolicyVersion]:
        """Published versions, oldest effective date first."""
        ...

    def queue_policy_notices(
        self, language: Language, subject: str, body: str, at: datetime, of_record_before: datetime
    ) -> tuple[int, int]:
        """One outbox email per customer reading `language`, to the first email address on the
        account at `at` that was added before `of_record_before` (DEF-5), added set-based;
        returns (notices queued, customers without such an address)."""
        ...

    def add_complaint(self, complaint: Complaint) -> None: ...
    def complaint(self, complaint_id: uuid.UUID) -> Complaint | None: ...
    def close_complaint(self, complaint: Complaint) -> None: ...
    def complaints(
        self, since: datetime | None = None, until: datetime | None = None, category: ComplaintCategory | None = None
    ) -> list[Complaint]:
        """Complaints received in [since, until), oldest first."""
        ...

    def add_broker_action(self, action: BrokerAction) -> None: ...
    def broker_actions(self, since: date | None = None, until: date | None = None) -> list[BrokerAction]:
        """Actions taken on days in [since, until), oldest first."""
        ...

    def add_training(self, record: TrainingRecord) -> None: ...
    def training(self, staff_name: str | None = None) -> list[TrainingRecord]: ...


class EvidenceReader(Protocol):
    """A reporting year's evidence for the annual certification (CERT-2, CERT-3), read
    set-based, and the record of each certification built."""

    def year(self, year: int, months: Sequence[tuple[datetime, datetime]]) -> YearEvidence:
        """Counts for the year; `months` are its twelve months [start, end) in UTC."""
        ...

    def signatory(self, name: str) -> Signatory | None: ...
    def closure_days(self, first: date, last: date) -> frozenset[date]: ...
    def add_certification(self, record: CertificationRecord) -> None: ...
    def certification(self, certification_id: uuid.UUID) -> CertificationRecord | None: ...
    def certifications(self, year: int | None) -> list[CertificationRecord]: ...

    def dashboard(self, months: Sequence[tuple[datetime, datetime]]) -> DashboardCounts:
        """The privacy office's figures for consecutive months [start, end) in UTC."""
        ...

    def ledger(
        self,
        customer: uuid.UUID | None,
        action: str | None,
        since: datetime,
        until: datetime,
        limit: int,
        before: int | None = None,
    ) -> list[AuditEntry]:
        """Ledger entries made in [since, until), newest first, by customer and action prefix;
        only those before the entry `before` (a seq) when it is given."""
        ...


class WebRepository(Protocol):
    """Console and portal sessions, sign-in attempts and the console passwords of staff."""

    def add_session(self, session: WebSession) -> None: ...
    def session(self, token_hash: str) -> WebSession | None: ...
    def touch(self, token_hash: str, at: datetime) -> None: ...
    def end(self, token_hash: str, at: datetime) -> None: ...
    def add_attempt(self, key: str, at: datetime, succeeded: bool) -> None: ...
    def failures_since(self, key: str, since: datetime) -> int: ...
    def set_password(self, name: str, password_hash: str) -> None: ...
    def password_hash(self, name: str) -> str | None: ...


class UnitOfWork(Protocol):
    """One transaction per use case: commit once, or everything rolls back (rule 2)."""

    @property
    def customers(self) -> CustomerRepository: ...
    @property
    def cpni(self) -> CpniRepository: ...
    @property
    def consent(self) -> ConsentRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def batch(self) -> BatchDecisions: ...
    @property
    def gate(self) -> GateReads: ...
    @property
    def auth(self) -> AuthRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def campaigns(self) -> CampaignRepository: ...
    @property
    def purge(self) -> PurgeRepository: ...
    @property
    def breaches(self) -> BreachRepository: ...
    @property
    def calendar(self) -> CalendarRepository: ...
    @property
    def privacy(self) -> PrivacyRepository: ...
    @property
    def evidence(self) -> EvidenceReader: ...
    @property
    def web(self) -> WebRepository: ...

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...


class Signer(Protocol):
    """Signs audit checkpoints (Ed25519)."""

    @property
    def public_key(self) -> str: ...
    def sign(self, message: bytes) -> str: ...


class SignatureVerifier(Protocol):
    def verify(self, public_key: str, message: bytes, signature: str) -> bool: ...
