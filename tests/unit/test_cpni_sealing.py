"""The CPNI keyring and AES-GCM sealing (BREACH23-8), without a database."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from sqlalchemy import Table

from cpniguard.classification.model import CATALOGUE, DataClass
from cpniguard.customers.records import Bill, CallDetailRecord
from cpniguard.customers.sealing import AesGcmSealer, Keyring, key_id_of, new_secret
from cpniguard.db import tables as t
from cpniguard.errors import CpniKeyUnavailable, CpniSealBroken

A, B = bytes(range(32)), bytes(range(1, 33))


def test_breach23_8_a_sealed_value_opens_only_with_its_associated_data_and_its_key() -> None:
    sealer = AesGcmSealer(lambda: Keyring.of(A))
    key, [one, two] = sealer.seal([(b"row 1", b"+13125550177"), (b"row 2", b"+13125550177")])
    assert key == key_id_of(A) and one != two  # a random nonce per value
    assert b"+1312555" not in one
    assert sealer.open([(key, b"row 1", one), (key, b"row 2", two)]) == [b"+13125550177"] * 2
    with pytest.raises(CpniSealBroken) as moved:
        sealer.open([(key, b"row 1", one), (key, b"row 1", two)])
    assert moved.value.index == 1
    with pytest.raises(CpniSealBroken, match="unknown layout"):
        sealer.open([(key, b"row 1", b"\x02" + one[1:])])
    with pytest.raises(CpniSealBroken):
        sealer.open([(key, b"row 1", one[:-1])])


def test_breach23_8_a_key_the_keyring_lacks_is_a_missing_key_not_a_broken_seal() -> None:
    key, [sealed] = AesGcmSealer(lambda: Keyring.of(A)).seal([(b"row", b"x")])
    with pytest.raises(CpniKeyUnavailable, match=f"lacks key {key}"):
        AesGcmSealer(lambda: Keyring.of(B)).open([(key, b"row", sealed)])


def test_breach23_8_a_rotated_keyring_seals_with_the_new_key_and_still_opens_with_the_old() -> None:
    ring = Keyring.of(A)
    rotated = ring.with_new_current(B)
    sealer = AesGcmSealer(lambda: rotated)
    old_key, [old] = AesGcmSealer(lambda: ring).seal([(b"r", b"old")])
    new_key, _ = sealer.seal([(b"r", b"new")])
    assert (new_key, rotated.others) == (key_id_of(B), [old_key])
    assert sealer.open([(old_key, b"r", old)]) == [b"old"]
    with pytest.raises(ValueError, match="current"):
        rotated.without([new_key])
    assert rotated.without([old_key]).keys == {new_key: B}


def test_breach23_8_the_keyring_text_round_trips_and_refuses_a_key_altered_under_its_id() -> None:
    ring = Keyring.of(new_secret()).with_new_current(new_secret())
    assert Keyring.from_text(ring.to_text(), "f") == ring
    altered = ring.to_text().replace(base64.b64encode(ring.keys[ring.current]).decode(), base64.b64encode(A).decode())
    with pytest.raises(CpniKeyUnavailable, match="does not match its id"):
        Keyring.from_text(altered, "f")
    with pytest.raises(CpniKeyUnavailable, match="not a CPNI keyring"):
        Keyring.from_text("[]", "f")
    short = ring.to_text().replace(base64.b64encode(ring.keys[ring.current]).decode(), "c2hvcnQ=")
    with pytest.raises(CpniKeyUnavailable, match="32 bytes"):
        Keyring.from_text(short, "f")


@pytest.mark.parametrize(
    ("table", "record", "clear"),
    [(t.call_detail_records, CallDetailRecord, {"started_at"}), (t.bills, Bill, {"period"})],
)
def test_breach23_8_the_classification_names_each_column_and_which_cpni_fields_are_sealed(
    table: Table, record: type, clear: set[str]
) -> None:
    entries = [f for f in CATALOGUE if f.table == table.name]
    assert {f.column for f in entries if not f.sealed} == {c.name for c in table.c}
    fields = {f.name for f in dataclasses.fields(record)} - {"id", "customer_id"}
    assert {f.column for f in entries if f.sealed} == fields - clear
    assert {f.column for f in entries if f.data_class is not DataClass.NOT_CPNI and not f.sealed} == clear | {"sealed"}
