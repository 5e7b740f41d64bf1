"""The audit ledger: append-only entries chained by SHA-256, and signed checkpoints.

Each entry's hash covers its own fields and its predecessor's hash, so changing, removing or
reordering any stored entry breaks every hash after it; `verify` re-hashes every entry.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from cpniguard.actors import Actor

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One thing that happened: who, to which customer, which data, why, with what outcome."""

    id: uuid.UUID
    at: datetime
    actor: str
    action: str  # context:subject:action
    customer_id: uuid.UUID | None = None
    categories: str = ""
    purpose: str = ""
    basis: str = ""
    outcome: str = ""
    reason: str = ""
    details: str = "{}"
    seq: int = 0
    prev_hash: str = ""
    hash: str = ""

    @classmethod
    def of(
        cls,
        action: str,
        actor: Actor,
        at: datetime,
        customer: uuid.UUID | None = None,
        *,
        categories: Iterable[str] = (),
        purpose: str = "",
        basis: str = "",
        outcome: str = "",
        reason: str = "",
        details: dict[str, object] | None = None,
    ) -> AuditEntry:
        return cls(
            id=uuid.uuid4(),
            at=at,
            actor=actor.label,
            action=action,
            customer_id=customer,
            categories=",".join(sorted(categories)),
            purpose=purpose,
            basis=basis,
            outcome=outcome,
            reason=reason,
            details=json.dumps(details or {}, sort_keys=True, separators=(",", ":"), default=str),
        )

    def payload(self) -> str:
        """The canonical text that is hashed: every field but the hash itself."""
        customer = str(self.customer_id) if self.customer_id else ""
        stamp = self.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return "\x1f".join(
            (
                str(self.seq),
                str(self.id),
                stamp,
                self.actor,
                self.action,
                customer,
                self.categories,
                self.purpose,
                self.basis,
                self.outcome,
                self.reason,
                self.details,
                self.prev_hash,
            )
        )


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(entry.payload().encode()).hexdigest()


def chain(entries: Iterable[AuditEntry], after_seq: int, after_hash: str) -> list[AuditEntry]:
    """Numbers and links new entries onto the head (after_seq, after_hash)."""
    linked: list[AuditEntry] = []
    seq, prev = after_seq, after_hash
    for entry in entries:
        seq += 1
        numbered = replace(entry, seq=seq, prev_hash=prev)
        prev = entry_hash(numbered)
        linked.append(replace(numbered, hash=prev))
    return linked


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement of the chain head at one sequence number."""

    seq: int
    head_hash: str
    at: datetime
    public_key: str
    signature: str

    def message(self) -> bytes:
        return checkpoint_message(self.seq, self.head_hash)


def checkpoint_message(seq: int, head_hash: str) -> bytes:
    return f"cpniguard-audit-checkpoint\x1f{seq}\x1f{head_hash}".encode()


@dataclass(slots=True)
class Verification:
    """The outcome of re-hashing the stored ledger."""

    ok: bool = True
    entries: int = 0
    head_hash: str = GENESIS_HASH
    first_bad: AuditEntry | None = None
    problem: str = ""
    checkpoints_checked: int = 0
    bad_checkpoints: list[int] = field(default_factory=list)

    def fail(self, entry: AuditEntry, problem: str) -> None:
        if self.ok:
            self.ok, self.first_bad, self.problem = False, entry, problem


def verify_stream(entries: Iterator[AuditEntry], checkpoints: dict[int, str]) -> Verification:
    """Re-hashes every entry in order; checks links, numbering and checkpointed heads.

    `checkpoints` maps a sequence number to the head hash a signed checkpoint vouches for.
    """
    result = Verification()
    expected_seq, prev = 1, GENESIS_HASH
    for entry in entries:
        result.entries += 1
        if result.ok:
            if entry.seq != expected_seq:
                result.fail(entry, f"sequence gap: expected {expected_seq}, found {entry.seq}")
            elif entry.prev_hash != prev:
                result.fail(entry, "link to the previous entry does not match")
            elif entry_hash(entry) != entry.hash:
                result.fail(entry, "entry content does not match its hash")
            elif entry.seq in checkpoints and checkpoints[entry.seq] != entry.hash:
                result.fail(entry, "entry differs from its signed checkpoint")
        expected_seq, prev = entry.seq + 1, entry.hash
    result.head_hash = prev
    return result
