"""Use cases of the audit ledger: verify the whole chain, sign a checkpoint, search."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry, Checkpoint, Verification, verify_stream
from cpniguard.clock import Clock
from cpniguard.ports import SignatureVerifier, UnitOfWork


def verify(
    uow: UnitOfWork,
    verifier: SignatureVerifier,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 20_000,
) -> Verification:
    """Re-hashes every stored entry and checks every signed checkpoint against the chain."""
    with uow:
        checkpoints = uow.audit.checkpoints()
        good: dict[int, str] = {}
        result_bad: list[int] = []
        for cp in checkpoints:
            if verifier.verify(cp.public_key, cp.message(), cp.signature):
                good[cp.seq] = cp.head_hash
            else:
                result_bad.append(cp.seq)
        entries = uow.audit.entries(batch_size)
        result = verify_stream(_counted(entries, progress, batch_size), good)
    result.checkpoints_checked = len(checkpoints)
    result.bad_checkpoints = result_bad
    if result_bad and result.ok:
        result.ok, result.problem = False, f"checkpoint signature invalid at seq {result_bad[0]}"
    return result


def _counted(entries: Iterator[AuditEntry], progress: Callable[[int], None] | None, every: int) -> Iterator[AuditEntry]:
    if progress is None:
        yield from entries
        return
    n = 0
    for entry in entries:
        yield entry
        n += 1
        if n % every == 0:
            progress(every)
    progress(n % every)


def checkpoint(uow: UnitOfWork, clock: Clock, actor: Actor, sign: Callable[[int, str], Checkpoint]) -> Checkpoint:
    """Signs the current head now (checkpoints are also made every N entries at commit)."""
    with uow:
        seq, head = uow.audit.head()
        made = sign(seq, head)
        uow.audit.add_checkpoint(made)
        uow.audit.add(AuditEntry.of("audit:checkpoint:signed", actor, clock.now(), details={"seq": seq}))
        uow.commit()
    return made


def search(uow: UnitOfWork, customer: uuid.UUID | None, action: str | None, limit: int = 100) -> list[AuditEntry]:
    with uow:
        return uow.audit.find(customer, action, limit)
