"""The hash chain of the audit ledger: any change to a stored entry is found."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cpniguard.actors import Actor
from cpniguard.audit.model import (
    GENESIS_HASH,
    PAYLOAD_FIELDS,
    AuditEntry,
    ChainRow,
    Run,
    RunCheck,
    chain,
    join_runs,
    link,
    stamp,
    unlinked_columns,
    verify_stream,
)

AT = datetime(2026, 3, 2, 15, tzinfo=UTC)
ACTOR = Actor("staff", "tester")


def made(n: int) -> list[AuditEntry]:
    return [AuditEntry.of("decisions:cpni-use:allowed", ACTOR, AT, purpose="billing", reason=str(i)) for i in range(n)]


def entries(n: int) -> list[AuditEntry]:
    return chain(made(n), 0, GENESIS_HASH)


def test_a_clean_chain_verifies() -> None:
    stored = entries(10)
    result = verify_stream(iter(stored), {})
    assert result.ok and result.entries == 10 and result.head_hash == stored[-1].hash


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
    assert result.problem == "sequence gap: expected 7, found 8"


def test_rewriting_the_whole_tail_consistently_is_caught_by_a_checkpoint() -> None:
    stored = entries(10)
    checkpoint = {8: stored[7].hash}
    forged = chain([replace(e, reason="forged") for e in stored[5:]], 5, stored[4].hash)
    result = verify_stream(iter(stored[:5] + forged), checkpoint)
    assert not result.ok and result.first_bad is not None and result.first_bad.seq == 8


def test_the_stored_rows_are_the_hashed_text_of_the_entries() -> None:
    entry = made(1)[0]
    [row] = link([entry], 41, "a" * 64)
    [linked] = chain([entry], 41, "a" * 64)
    assert row == (
        42,
        entry.id,
        entry.at,
        "staff:tester",
        entry.action,
        None,
        "",
        "billing",
        "",
        "",
        "0",
        "{}",
        "a" * 64,
        linked.hash,
    )
    assert hashlib.sha256(linked.payload().encode()).hexdigest() == linked.hash
    assert linked.payload().split("\x1f")[:3] == ["42", entry.id, "2026-03-02T15:00:00.000000Z"]


def test_an_entry_holds_its_ids_and_time_as_the_text_the_ledger_hashes() -> None:
    entry = AuditEntry.of("x:y:z", ACTOR, AT, customer=uuid.UUID(int=1))
    assert entry.customer_id == "00000000-0000-0000-0000-000000000001"
    assert str(uuid.UUID(entry.id)) == entry.id and entry.at == "2026-03-02T15:00:00.000000Z"


@pytest.mark.parametrize(
    ("at", "text"),
    [
        (datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("America/New_York")), "2026-03-02T15:00:00.000000Z"),
        (datetime(2026, 3, 2, 15, 0, 0, 7, tzinfo=UTC), "2026-03-02T15:00:00.000007Z"),
        (datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=ZoneInfo("UTC")), "1999-12-31T23:59:59.999999Z"),
    ],
)
def test_an_instant_is_written_in_utc_to_the_microsecond(at: datetime, text: str) -> None:
    assert stamp(at) == text


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        stamp(datetime(2026, 3, 2, 15))


@pytest.mark.parametrize("text", ["a\x00b", "a\x1fb"])
def test_a_field_holding_a_nul_or_the_separator_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="NUL or U\\+001F"):
        link([replace(made(1)[0], reason=text)], 0, GENESIS_HASH)


@pytest.mark.parametrize("text", ["a\x00b", "a\x1fb"])
def test_a_field_holding_a_nul_or_the_separator_is_refused_for_linking_in_the_store(text: str) -> None:
    with pytest.raises(ValueError, match="NUL or U\\+001F"):
        unlinked_columns([made(1)[0], replace(made(1)[0], actor=text)])


def test_unlinked_columns_are_the_fields_between_seq_and_prev_hash_one_list_per_field() -> None:
    entries = made(2)
    columns = unlinked_columns(entries)
    assert len(columns) == len(PAYLOAD_FIELDS) - 2
    assert columns[0] == [e.id for e in entries] and columns[-1] == [e.details for e in entries]


def rows(stored: list[AuditEntry]) -> list[ChainRow]:
    return [e.chain_row() for e in stored]


def check_apart(stored: list[AuditEntry], cuts: list[int], checkpoints: dict[int, str] | None = None) -> list[Run]:
    """Checks `stored` in stretches starting at the indexes in `cuts`, as parallel workers do."""
    runs = []
    for start, end in zip([0, *cuts], [*cuts, len(stored)], strict=True):
        check = RunCheck(checkpoints or {}, (0, GENESIS_HASH) if start == 0 else None)
        check.feed(rows(stored[start:end]))
        runs.append(check.run)
    return runs


def test_stretches_checked_apart_join_to_the_verdict_of_one_pass() -> None:
    stored = entries(12)
    apart, whole = join_runs(check_apart(stored, [4, 8])), verify_stream(iter(stored), {})
    assert (
        apart.ok
        and whole.ok
        and (apart.entries, apart.head_hash) == (whole.entries, whole.head_hash) == (12, stored[-1].hash)
    )


def test_an_edit_at_the_start_of_a_stretch_is_named() -> None:
    stored = entries(12)
    stored[6] = replace(stored[6], outcome="denied")
    result = join_runs(check_apart(stored, [6]))
    assert not result.ok and result.first_bad_seq == 7 and result.problem == "entry content does not match its hash"


def test_a_relinked_stretch_is_caught_where_it_joins() -> None:
    stored = entries(12)
    forged = chain([replace(e, reason="forged") for e in stored[6:]], 6, "f" * 64)
    result = join_runs(check_apart(stored[:6] + forged, [6]))
    assert not result.ok and result.first_bad_seq == 7 and result.problem == "link to the previous entry does not match"


def test_an_entry_missing_between_stretches_is_a_gap() -> None:
    stored = entries(12)
    del stored[5]
    result = join_runs(check_apart(stored, [5]))
    assert not result.ok and result.first_bad_seq == 7 and result.problem == "sequence gap: expected 6, found 7"
    assert result.entries == 11


def test_the_first_bad_entry_of_the_earliest_stretch_wins() -> None:
    stored = entries(12)
    stored[2] = replace(stored[2], reason="edited")
    stored[9] = replace(stored[9], reason="edited")
    assert join_runs(check_apart(stored, [6])).first_bad_seq == 3


def test_a_checkpoint_inside_a_later_stretch_is_checked() -> None:
    stored = entries(12)
    result = join_runs(check_apart(stored, [6], {10: "0" * 64}))
    assert not result.ok and result.first_bad_seq == 10 and result.problem == "entry differs from its signed checkpoint"


def test_a_payload_the_store_could_not_give_back_exactly_is_bad() -> None:
    stored = rows(entries(3))
    seq, _, prev, hash_ = stored[1]
    check = RunCheck({})
    assert check.feed([stored[0], (seq, None, prev, hash_), stored[2]]) == 1
    assert check.run.bad_seq == 2 and check.run.entries == 3
