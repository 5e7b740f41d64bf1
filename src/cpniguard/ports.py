"""Ports: what the use cases need from storage and the outside world, named by role."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Protocol

from cpniguard.access.model import ApiKey
from cpniguard.audit.model import AuditEntry, Checkpoint, Run
from cpniguard.consent.model import ConsentEvent, ConsentState
from cpniguard.customers.model import Contact, Customer, Service, ServiceCategory
from cpniguard.customers.records import Bill, CallDetailRecord
from cpniguard.decisions.model import CustomerFacts
from cpniguard.ids import CustomerId


class CustomerRepository(Protocol):
    def add(self, customer: Customer) -> None: ...
    def get(self, customer: CustomerId) -> Customer | None: ...
    def exists(self, customer: CustomerId) -> bool: ...
    def decision_facts(self, customers: Sequence[CustomerId], at: datetime) -> dict[CustomerId, CustomerFacts]: ...
    def add_contact(self, contact: Contact) -> None: ...
    def add_service(self, service: Service) -> None: ...
    def count(self) -> int: ...
    def find(self, text: str, limit: int) -> list[Customer]: ...


class CpniRepository(Protocol):
    """The CPNI itself: call detail records and bills."""

    def add_call_detail(self, records: Sequence[CallDetailRecord]) -> None: ...
    def add_bills(self, bills: Sequence[Bill]) -> None: ...
    def call_detail(self, customer: CustomerId, limit: int) -> list[CallDetailRecord]: ...
    def bills(self, customer: CustomerId) -> list[Bill]: ...


class ConsentRepository(Protocol):
    def add(self, event: ConsentEvent) -> ConsentEvent: ...
    def events(self, customer: CustomerId) -> list[ConsentEvent]: ...
    def state(self, customer: CustomerId) -> ConsentState | None: ...
    def states(self, customers: Sequence[CustomerId]) -> dict[CustomerId, ConsentState]: ...
    def save_state(self, state: ConsentState) -> None: ...
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
    def find(self, customer: uuid.UUID | None, action: str | None, limit: int) -> list[AuditEntry]: ...


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message to deliver after commit (email, SMS, voice, letter)."""

    id: uuid.UUID
    created_at: datetime
    channel: str
    recipient: str
    template: str
    language: str
    customer_id: uuid.UUID | None = None
    payload: str = "{}"


class OutboxRepository(Protocol):
    def add(self, message: OutboxMessage) -> None: ...
    def pending(self, limit: int) -> list[OutboxMessage]: ...


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

    @property
    def total(self) -> int:
        return len(self.allowed) + sum(self.denied.values())


class BatchDecisions(Protocol):
    """The gate's set-based form, evaluated by the store (for audiences and exports)."""

    def decide(
        self,
        purpose: str,
        at: datetime,
        customers: Iterable[uuid.UUID] | None,
        offer: ServiceCategory | None = None,
        reference: str | None = None,
    ) -> BatchOutcome: ...


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
