"""The hash chain of the audit ledger: any change to a stored entry is found."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from cpniguard.actors import Actor
from cpniguard.audit.model import GENESIS_HASH, AuditEntry, chain, verify_stream

AT = datetime(2026, 3, 2, 15, tzinfo=UTC)


def entries(n: int) -> list[AuditEntry]:
    actor = Actor("staff", "tester")
    raw = [AuditEntry.of("decisions:cpni-use:allowed", actor, AT, purpose="billing", reason=str(i)) for i in range(n)]
    return chain(raw, 0, GENESIS_HASH)


def test_a_clean_chain_verifies() -> None:
    result = verify_stream(iter(entries(10)), {})
    assert result.ok and result.entries == 10


def test_changing_any_field_names_that_entry_as_the_first_bad() -> None:
    stored = entries(10)
    stored[4] = replace(stored[4], reason="edited")
    result = verify_stream(iter(stored), {})
    assert not result.ok and result.first_bad is not None and result.first_bad.seq == 5


def test_removing_an_entry_breaks_the_chain() -> None:
    stored = entries(10)
    del stored[6]
    result = verify_stream(iter(stored), {})
    assert not result.ok and result.first_bad is not None and result.first_bad.seq == 8


def test_rewriting_the_whole_tail_consistently_is_caught_by_a_checkpoint() -> None:
    stored = entries(10)
    checkpoint = {8: stored[7].hash}
    forged = chain([replace(e, reason="forged") for e in stored[5:]], 5, stored[4].hash)
    result = verify_stream(iter(stored[:5] + forged), checkpoint)
    assert not result.ok and result.first_bad is not None and result.first_bad.seq == 8
