"""Use cases of the audit ledger: verify the whole chain, sign a checkpoint, search."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry, Checkpoint, Verification, join_runs
from cpniguard.clock import Clock
from cpniguard.ports import SignatureVerifier, UnitOfWork

PARALLEL_FROM = 200_000  # entries; below this, starting worker processes costs more than it saves


def verify(
    uow: UnitOfWork,
    verifier: SignatureVerifier,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 20_000,
    parallel_from: int = PARALLEL_FROM,
) -> Verification:
    """Re-hashes every stored entry and checks every signed checkpoint against the chain."""
    with uow:
        checkpoints = uow.audit.checkpoints()
        vouched: dict[int, str] = {}
        unsigned: list[int] = []
        for cp in checkpoints:
            if verifier.verify(cp.public_key, cp.message(), cp.signature):
                vouched[cp.seq] = cp.head_hash
            else:
                unsigned.append(cp.seq)
        result = join_runs(uow.audit.check_chain(vouched, batch_size, parallel_from, progress))
        if result.first_bad_seq is not None:
            result.first_bad = uow.audit.entry(result.first_bad_seq)
    result.checkpoints_checked = len(checkpoints)
    result.bad_checkpoints = unsigned
    if unsigned and result.ok:
        result.ok, result.problem = False, f"checkpoint signature invalid at seq {unsigned[0]}"
    return result


def checkpoint(uow: UnitOfWork, clock: Clock, actor: Actor, sign: Callable[[int, str], Checkpoint]) -> Checkpoint:
    """Signs the current head now (checkpoints are also made every N entries at commit).
    When the head already carries a checkpoint (made at commit), that one is the answer."""
    with uow:
        seq, head = uow.audit.head()
        last = uow.audit.last_checkpoint()
        if last is not None and last.seq == seq:
            return last
        made = sign(seq, head)
        uow.audit.add_checkpoint(made)
        uow.audit.add(AuditEntry.of("audit:checkpoint:signed", actor, clock.now(), details={"seq": seq}))
        uow.commit()
    return made


def search(uow: UnitOfWork, customer: uuid.UUID | None, action: str | None, limit: int = 100) -> list[AuditEntry]:
    with uow:
        return uow.audit.find(customer, action, limit)


def record_admin_event(
    uow: UnitOfWork, clock: Clock, actor: Actor, action: str, details: dict[str, object]
) -> AuditEntry:
    """Records an administrative act done outside a unit of work (a backup, a restore), so
    the ledger shows who did it and when. `action` reads `admin:subject:action`."""
    entry = AuditEntry.of(action, actor, clock.now(), details=details)
    with uow:
        uow.audit.add(entry)
        uow.commit()
    return entry
