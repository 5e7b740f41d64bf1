"""The audit ledger: append-only entries chained by SHA-256, and signed checkpoints.

Each entry's hash covers its own fields and its predecessor's hash, so changing, removing or
reordering any stored entry breaks every hash after it; verification re-hashes every entry.
An entry holds, stores and hashes one text per field, made once when the entry is made (as
`details` is its JSON text): verifying reads that text back and hashes it as it is.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import islice

from cpniguard.actors import Actor

GENESIS_HASH = "0" * 64
SEPARATOR = "\x1f"
# The payload's fields in order; the ledger's table stores each under the same name.
PAYLOAD_FIELDS = (
    "seq",
    "id",
    "at",
    "actor",
    "action",
    "customer_id",
    "categories",
    "purpose",
    "basis",
    "outcome",
    "reason",
    "details",
    "prev_hash",
)

# One linked entry as stored: seq, the payload's other fields (customer_id None where the
# payload has ""), then the hash.
StoredEntry = tuple[int, str, str, str, str, str | None, str, str, str, str, str, str, str, str]
# One stored entry as verification reads it: seq, the payload as stored in UTF-8 (None when the
# store cannot give it back exactly), prev_hash, hash.
ChainRow = tuple[int, bytes | None, str, str]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One thing that happened: who, to which customer, which data, why, with what outcome.

    `id` and `customer_id` are dashed lower-case UUIDs, `at` is a `stamp`.
    """

    id: str
    at: str
    actor: str
    action: str  # context:subject:action
    customer_id: str | None = None
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
        details: Mapping[str, object] | None = None,
    ) -> AuditEntry:
        return cls(
            id=str(uuid.uuid4()),
            at=stamp(at),
            actor=actor.label,
            action=action,
            customer_id=str(customer) if customer else None,
            categories=",".join(sorted(categories)),
            purpose=purpose,
            basis=basis,
            outcome=outcome,
            reason=reason,
            details=json.dumps(details or {}, sort_keys=True, separators=(",", ":"), default=str),
        )

    def payload(self) -> str:
        """The canonical text that is hashed: every field but the hash itself."""
        return _payload(self, self.seq, self.prev_hash)

    def chain_row(self) -> ChainRow:
        return self.seq, self.payload().encode(), self.prev_hash, self.hash


def stamp(at: datetime) -> str:
    """An instant as the ledger writes it: UTC to the microsecond, e.g. 2026-03-02T15:00:00.000000Z."""
    text = at.isoformat()  # the fastest formatting there is; it omits a microsecond of 0
    if text.endswith("+00:00"):
        return text[:26] + "Z" if len(text) == 32 else text[:19] + ".000000Z"
    if at.tzinfo is None:
        raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
    return stamp(at.astimezone(UTC))


def _fields(e: AuditEntry) -> tuple[str, str, str, str, str | None, str, str, str, str, str, str]:
    """The stored fields between seq and prev_hash, in payload order (customer_id may be None)."""
    return (
        e.id,
        e.at,
        e.actor,
        e.action,
        e.customer_id,
        e.categories,
        e.purpose,
        e.basis,
        e.outcome,
        e.reason,
        e.details,
    )


def _join(seq: int, fields: tuple[str, str, str, str, str | None, str, str, str, str, str, str], prev: str) -> str:
    return SEPARATOR.join((str(seq), *fields[:4], fields[4] or "", *fields[5:], prev))


def _payload(e: AuditEntry, seq: int, prev_hash: str) -> str:
    return _join(seq, _fields(e), prev_hash)


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(entry.payload().encode()).hexdigest()


def unlinked_columns(entries: Sequence[AuditEntry]) -> list[list[str | None]]:
    """The fields between seq and prev_hash of entries not yet linked, one list per field, for a
    store that links them itself (PostgreSQL's `cpniguard_audit_append`, which must hash what
    `link` hashes). Refused as `link` refuses: a NUL or a separator in any field."""
    for e in entries:
        if any("\x00" in f or SEPARATOR in f for f in _fields(e) if f):
            raise ValueError(f"audit entry {e.action!r} holds a NUL or U+001F character")
    return [list(column) for column in zip(*(_fields(e) for e in entries), strict=True)]


def link(entries: Iterable[AuditEntry], after_seq: int, after_hash: str) -> list[StoredEntry]:
    """Numbers and hashes new entries onto the head (after_seq, after_hash), as stored rows."""
    linked: list[StoredEntry] = []
    seq, prev = after_seq, after_hash
    sha256, separators = hashlib.sha256, len(PAYLOAD_FIELDS) - 1
    for e in entries:
        seq += 1
        fields = _fields(e)
        payload = _join(seq, fields, prev)
        # A NUL would be cut off by SQLite's printf when verifying, a separator would let two
        # fields trade text unnoticed: neither belongs in a ledger field.
        if "\x00" in payload or payload.count(SEPARATOR) != separators:
            raise ValueError(f"audit entry {e.action!r} holds a NUL or U+001F character")
        digest = sha256(payload.encode()).hexdigest()
        linked.append((seq, *fields, prev, digest))
        prev = digest
    return linked


def chain(entries: Iterable[AuditEntry], after_seq: int, after_hash: str) -> list[AuditEntry]:
    """Numbers and links new entries onto the head, as entries (`link` gives the stored rows)."""
    made = list(entries)
    rows = link(made, after_seq, after_hash)
    return [replace(e, seq=row[0], prev_hash=row[-2], hash=row[-1]) for e, row in zip(made, rows, strict=True)]


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
    first_bad_seq: int | None = None
    first_bad: AuditEntry | None = None
    problem: str = ""
    checkpoints_checked: int = 0
    bad_checkpoints: list[int] = field(default_factory=list)

    def fail(self, seq: int, problem: str) -> None:
        if self.ok:
            self.ok, self.first_bad_seq, self.problem = False, seq, problem


@dataclass(slots=True)
class Run:
    """What checking one stretch of consecutive stored entries found. A ledger may be checked
    in stretches (in parallel); `join_runs` then checks the links between them."""

    entries: int = 0
    first_seq: int = 0
    first_prev: str = ""
    last_seq: int = 0
    last_hash: str = ""
    bad_seq: int | None = None
    problem: str = ""


class RunCheck:
    """Checks stored entries fed in chain order: numbering, links, hashes, signed heads.

    `after` is the (seq, hash) the stretch must follow; None takes the first entry's word for it,
    leaving that link to `join_runs`. `checkpoints` maps a seq to the head hash a valid signed
    checkpoint vouches for.
    """

    def __init__(self, checkpoints: Mapping[int, str], after: tuple[int, str] | None = (0, GENESIS_HASH)) -> None:
        self.run = Run()
        self._checkpoints = checkpoints
        self._after = after

    def feed(self, rows: Sequence[ChainRow]) -> int | None:
        """Checks the next rows; returns the index among them of the ledger's first bad one."""
        run = self.run
        if not rows:
            return None
        if not run.entries:
            run.first_seq, run.first_prev = rows[0][0], rows[0][2]
            run.last_seq, run.last_hash = self._after or (rows[0][0] - 1, rows[0][2])
        run.entries += len(rows)
        found = self._first_bad(rows) if run.bad_seq is None else None
        run.last_seq, run.last_hash = rows[-1][0], rows[-1][3]
        return found

    def _first_bad(self, rows: Sequence[ChainRow]) -> int | None:
        expected, prev = self.run.last_seq + 1, self.run.last_hash
        checkpoints, sha256 = self._checkpoints, hashlib.sha256
        for index, (seq, payload, prev_hash, hash_) in enumerate(rows):
            if (
                seq != expected
                or prev_hash != prev
                or payload is None
                or sha256(payload).hexdigest() != hash_
                or (seq in checkpoints and checkpoints[seq] != hash_)
            ):
                self.run.bad_seq, self.run.problem = seq, _problem(rows[index], expected, prev)
                return index
            expected, prev = seq + 1, hash_
        return None


def _problem(row: ChainRow, expected: int, prev: str) -> str:
    seq, payload, prev_hash, hash_ = row
    if seq != expected:
        return f"sequence gap: expected {expected}, found {seq}"
    if prev_hash != prev:
        return "link to the previous entry does not match"
    if payload is None or hashlib.sha256(payload).hexdigest() != hash_:
        return "entry content does not match its hash"
    return "entry differs from its signed checkpoint"


def join_runs(runs: Iterable[Run]) -> Verification:
    """The verdict on the whole ledger from its stretches, checked in chain order."""
    result = Verification()
    seq, head = 0, GENESIS_HASH
    for run in runs:
        result.entries += run.entries
        if not run.entries:
            continue
        if run.first_seq != seq + 1:
            result.fail(run.first_seq, f"sequence gap: expected {seq + 1}, found {run.first_seq}")
        elif run.first_prev != head:
            result.fail(run.first_seq, "link to the previous entry does not match")
        elif run.bad_seq is not None:
            result.fail(run.bad_seq, run.problem)
        seq, head = run.last_seq, run.last_hash
    result.head_hash = head
    return result


def verify_stream(entries: Iterator[AuditEntry], checkpoints: Mapping[int, str]) -> Verification:
    """Re-hashes every entry in order; checks links, numbering and checkpointed heads."""
    check, first_bad = RunCheck(checkpoints), None
    while chunk := list(islice(entries, 1000)):
        found = check.feed([entry.chain_row() for entry in chunk])
        first_bad = chunk[found] if found is not None else first_bad
    result = join_runs([check.run])
    result.first_bad = first_bad
    return result
