"""WHEN parsing in Eastern time, contact validation, address-of-record tenure (DEF-5, DEF-6)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from cpniguard.calendar import parse_when
from cpniguard.classification.model import CATALOGUE, DataClass, classify, listing_class
from cpniguard.customers.model import (
    ContactKind,
    new_contact,
    normalise_email,
    normalise_name,
    normalise_telephone_number,
)
from cpniguard.decisions.model import Purpose, Request
from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId

CID = CustomerId(uuid.uuid4())


def test_a_date_means_the_start_of_that_day_in_new_york() -> None:
    assert parse_when("2026-03-02") == datetime(2026, 3, 2, 5, tzinfo=UTC)
    assert parse_when("2026-07-02") == datetime(2026, 7, 2, 4, tzinfo=UTC)


def test_a_date_time_with_an_offset_is_kept_and_without_one_is_eastern() -> None:
    assert parse_when("2026-03-02T10:00:00Z") == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert parse_when("2026-03-02T10:00") == datetime(2026, 3, 2, 15, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "02/03/2026", ""])
def test_malformed_dates_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_when(text)


def test_telephone_numbers_must_be_valid_e164() -> None:
    assert normalise_telephone_number("+1 202 555 0123") == "+12025550123"
    for bad in ["2025550123", "+1 555", "+999999999999", "call me"]:
        with pytest.raises(InvalidInput):
            normalise_telephone_number(bad)


def test_emails_are_validated() -> None:
    assert normalise_email("Ada@Example.com") == "Ada@example.com"
    with pytest.raises(InvalidInput):
        normalise_email("not-an-address")


def test_an_email_is_of_record_only_after_30_days_on_the_account_def_5() -> None:
    added = parse_when("2026-03-02T10:00")
    email = new_contact(CID, ContactKind.EMAIL, "ada@example.com", added)
    assert not email.of_record(parse_when("2026-03-31T23:59"))
    assert email.of_record(parse_when("2026-04-01"))


def test_a_telephone_number_of_record_counts_from_the_day_it_is_on_the_account_def_6() -> None:
    added = parse_when("2026-03-02T10:00")
    number = new_contact(CID, ContactKind.TELEPHONE, "+12025550123", added)
    assert number.of_record(parse_when("2026-03-02T10:01"))


def test_call_detail_fields_are_cpni_and_listings_are_sli_only_when_published_def_1_amb_6() -> None:
    assert classify("call_detail_records", "other_party_number").data_class is DataClass.CPNI
    assert classify("call_detail_records", "started_at").call_detail
    assert classify("bills", "directory_assistance_charges_cents").data_class is DataClass.CPNI
    assert listing_class("published") is DataClass.SUBSCRIBER_LIST
    assert listing_class("non-published") is DataClass.PROTECTED
    assert all(f.data_class for f in CATALOGUE)


@pytest.mark.parametrize("text", ["9999-12-31T23:00-05:00", "0001-01-01", "1899-12-31", "3000-01-01"])
def test_dates_outside_the_years_the_rules_compute_with_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_when(text)


@pytest.mark.parametrize("value", ["Ada\x00Lovelace", "Ada\x07", "x" * 201])
def test_names_with_control_characters_or_too_long_are_refused(value: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_name(value)


def test_a_reference_with_control_characters_is_refused() -> None:
    with pytest.raises(InvalidInput, match="control characters"):
        Request(Purpose.LEGAL_PROCESS, reference="order\x00 7")
    assert Request(Purpose.LEGAL_PROCESS, reference="  order   7 ").reference == "order 7"
