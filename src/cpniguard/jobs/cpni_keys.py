"""Rotation of the CPNI key (BREACH23-8): a new key becomes current, every call detail record and
bill is re-sealed under it, and the old keys leave the keyring once no row needs them.

The new key is in the keyring file, synced, before any row is sealed with it. Rows are re-sealed
in batches by id, each batch its own unit of work, so an interrupted rotation keeps what it did;
every row names its key, so running the command again resumes: a keyring that still holds old
keys is finished to its current key instead of getting another one. The last unit of work waits
for every writer that might still insert under an old key (db/cpni_sealing.py), re-seals what
they wrote, records the rotation in the ledger, and retires the old keys that no row uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.clock import Clock
from cpniguard.customers.sealing import Keyring, new_secret
from cpniguard.db.cpni_keys import INLINE, InlineKey, KeyringFile
from cpniguard.db.cpni_sealing import SEALED_TABLES, SealedTable
from cpniguard.db.uow import SqlUnitOfWork
from cpniguard.errors import InvalidInput

BATCH_SIZE = 2_000

NewUow = Callable[[], SqlUnitOfWork]


@dataclass(frozen=True)
class Rotation:
    key: str  # the key every row is now sealed with
    resumed: bool  # an interrupted rotation to this key was finished
    resealed: dict[str, int]  # rows per table
    retired: list[str]  # keys taken out of the keyring
    kept: list[str]  # old keys some row still needs (none, unless a key is missing)


@dataclass(frozen=True)
class KeyUse:
    key: str
    current: bool
    rows: dict[str, int]


def rotate_cpni_key(
    new_uow: NewUow,
    clock: Clock,
    actor: Actor,
    keys: InlineKey | KeyringFile,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] = lambda n: None,
) -> Rotation:
    """Makes a new key current and re-seals every row under it, or finishes a rotation begun."""
    keyring = _file(keys)
    with keyring.rotating():
        ring = keyring.load()
        resumed = bool(ring.others)
        if not resumed:
            ring = ring.with_new_current(new_secret())
            keyring.save(ring)
        resealed = {spec.table.name: _reseal(new_uow, spec, batch_size, progress) for spec in SEALED_TABLES}
        return _retire(new_uow, clock, actor, keyring, ring, Rotation(ring.current, resumed, resealed, [], []))


def key_use(new_uow: NewUow, keys: InlineKey | KeyringFile) -> list[KeyUse]:
    """The keys of the keyring, and any key rows name that it lacks, with their rows per table."""
    ring = keys.load()
    with new_uow() as uow:
        used = uow.cpni.keys_in_use()
    names = [spec.table.name for spec in SEALED_TABLES]
    ids = [ring.current, *ring.others, *sorted(set(used) - set(ring.keys))]
    return [KeyUse(k, k == ring.current, {n: used.get(k, {}).get(n, 0) for n in names}) for k in ids]


def _file(keys: InlineKey | KeyringFile) -> KeyringFile:
    if not isinstance(keys, KeyringFile):
        raise InvalidInput(f"the CPNI key is set inline ({INLINE}): a rotation needs a keyring file to write")
    return keys


def _reseal(new_uow: NewUow, spec: SealedTable, batch_size: int, progress: Callable[[int], None]) -> int:
    done, after = 0, None
    while True:
        with new_uow() as uow:
            count, after = uow.cpni.reseal(spec, after, batch_size)
            uow.commit()
        if after is None:
            return done
        done += count
        progress(count)


def _retire(
    new_uow: NewUow, clock: Clock, actor: Actor, keyring: KeyringFile, ring: Keyring, done: Rotation
) -> Rotation:
    with new_uow() as uow:
        uow.cpni.hold_keys_exclusively()
        for spec in SEALED_TABLES:  # rows written under an old key while the batches ran
            after = None
            while (found := uow.cpni.reseal(spec, after, BATCH_SIZE))[1] is not None:
                after = found[1]
                done.resealed[spec.table.name] += found[0]
        in_use = uow.cpni.keys_in_use()
        retired = [k for k in ring.others if k not in in_use]
        kept = [k for k in ring.others if k in in_use]
        rotation = Rotation(done.key, done.resumed, done.resealed, retired, kept)
        details = asdict(rotation)
        uow.audit.add(
            AuditEntry.of("admin:cpni-key:rotated", actor, clock.now(), categories=("cpni",), details=details)
        )
        keyring.save(ring.without(retired))  # under the lock: no writer holds a retired key
        uow.commit()
    return rotation
