"""What each stored field is, in the statute's terms (DEF-1..DEF-4, AMB-6).

The catalogue names every column that holds customer information, and the fields of a call
detail record or bill that are sealed together in one column (`sealed=True`, BREACH23-8).
`cpniguard classification` prints it, and a test checks it against the database schema so that
no column goes unclassified.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DataClass(StrEnum):
    CPNI = "cpni"  # 222(h)(1): usage, configuration, call detail, bill contents
    SUBSCRIBER_LIST = "subscriber-list-information"  # published listings only (AMB-6)
    PROTECTED = "protected"  # non-published name, number, address: kept like CPNI (AMB-6)
    ACCOUNT = "account-information"  # 64.2003(a): account number, bill amount, ...
    NOT_CPNI = "not-cpni"  # system data: ids, timestamps, audit bookkeeping


@dataclass(frozen=True, slots=True)
class FieldClass:
    table: str
    column: str
    data_class: DataClass
    call_detail: bool = False  # DEF-3
    note: str = ""
    sealed: bool = False  # stored inside the row's AES-GCM `sealed` value, not in a column (BREACH23-8)


def _fields(
    table: str, data_class: DataClass, *columns: str, call_detail: bool = False, sealed: bool = False
) -> list[FieldClass]:
    return [FieldClass(table, c, data_class, call_detail, sealed=sealed) for c in columns]


SEALED_NOTE = "sealed at rest with AES-GCM under `key_id` (BREACH23-8): a copied database does not show it"


CATALOGUE: tuple[FieldClass, ...] = tuple(
    _fields("customers", DataClass.NOT_CPNI, "id", "created_at", "kind", "language")
    + _fields("customers", DataClass.PROTECTED, "name")
    + [FieldClass("customers", "listing_status", DataClass.NOT_CPNI, note="decides SLI vs protected")]
    + _fields("services", DataClass.NOT_CPNI, "id", "customer_id", "added_at", "removed_at")
    + _fields("services", DataClass.CPNI, "category")  # type of service subscribed, DEF-1(A)
    + _fields("services", DataClass.ACCOUNT, "telephone_number")  # 64.2003(a)
    + _fields("contacts", DataClass.NOT_CPNI, "id", "customer_id", "kind", "added_at", "removed_at")
    + _fields("contacts", DataClass.PROTECTED, "value")
    + _fields("call_detail_records", DataClass.NOT_CPNI, "id", "customer_id", "imported_at", "key_id")
    + [
        FieldClass(
            "call_detail_records",
            "started_at",
            DataClass.CPNI,
            call_detail=True,
            note="in clear: the newest-first index and the monthly partitions need it",
        ),
        FieldClass("call_detail_records", "sealed", DataClass.CPNI, call_detail=True, note=SEALED_NOTE),
    ]
    + _fields(
        "call_detail_records",
        DataClass.CPNI,
        "service_number",
        "direction",
        "other_party_number",
        "duration_seconds",
        "location",
        "charge_cents",
        call_detail=True,
        sealed=True,
    )
    + _fields("bills", DataClass.NOT_CPNI, "id", "customer_id", "imported_at", "key_id")
    + _fields("bills", DataClass.ACCOUNT, "account_number", "total_cents", sealed=True)
    + [
        FieldClass("bills", "period", DataClass.CPNI, note="in clear: one bill per customer and month"),
        FieldClass("bills", "sealed", DataClass.CPNI, note=SEALED_NOTE),
    ]
    + _fields(
        "bills",
        DataClass.CPNI,
        "local_charges_cents",
        "long_distance_charges_cents",
        "directory_assistance_charges_cents",
        "feature_charges_cents",
        "minutes_used",
        sealed=True,
    )
)


def classify(table: str, column: str) -> FieldClass:
    for entry in CATALOGUE:
        if entry.table == table and entry.column == column:
            return entry
    raise KeyError(f"{table}.{column} is not classified")


def listing_class(listing_status: str) -> DataClass:
    """AMB-6: name, number and address are subscriber list information only when published."""
    return DataClass.SUBSCRIBER_LIST if listing_status == "published" else DataClass.PROTECTED
