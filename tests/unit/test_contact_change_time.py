"""The effective time of a contact change, with literal dates (DEF-5): at most 24 hours back,
5 minutes ahead for clock skew, and never before the latest change of the same kind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cpniguard.customers.model import (
    Contact,
    ContactKind,
    Customer,
    CustomerKind,
    Language,
    check_contact_change_time,
)
from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId

NOW = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
OPENED = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)
CID = CustomerId(uuid.uuid4())


def an_account(*contacts: tuple[ContactKind, datetime, datetime | None]) -> Customer:
    parts = tuple(Contact(uuid.uuid4(), CID, kind, "x", added, removed) for kind, added, removed in contacts)
    return Customer(CID, "Ada Lovelace", CustomerKind.RESIDENTIAL, Language.EN, OPENED, contacts=parts)


@pytest.mark.parametrize(
    "at",
    [NOW, NOW - timedelta(hours=24), NOW + timedelta(minutes=5), datetime(2026, 11, 29, 8, 0, tzinfo=UTC)],
)
def test_a_change_now_a_day_back_or_within_the_clock_skew_is_accepted(at: datetime) -> None:
    check_contact_change_time(an_account((ContactKind.EMAIL, OPENED, None)), ContactKind.EMAIL, at, NOW)


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (NOW + timedelta(minutes=5, seconds=1), "in the future"),
        (datetime(2026, 12, 1, tzinfo=UTC), "in the future"),
        (NOW - timedelta(hours=24, seconds=1), "more than 24 hours ago"),
        (datetime(2026, 9, 1, 4, tzinfo=UTC), "more than 24 hours ago"),  # `--at 2026-09-01`
    ],
)
def test_def_5_a_change_in_the_future_or_more_than_a_day_back_is_refused(at: datetime, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        check_contact_change_time(an_account(), ContactKind.EMAIL, at, NOW)


def test_a_change_before_the_latest_one_of_its_kind_is_refused_but_another_kind_is_not_held_back() -> None:
    removed_at = NOW - timedelta(hours=2)
    account = an_account((ContactKind.EMAIL, OPENED, removed_at), (ContactKind.EMAIL, removed_at, None))
    with pytest.raises(InvalidInput, match="latest email change"):
        check_contact_change_time(account, ContactKind.EMAIL, NOW - timedelta(hours=3), NOW)
    check_contact_change_time(account, ContactKind.EMAIL, removed_at, NOW)
    check_contact_change_time(account, ContactKind.POSTAL, NOW - timedelta(hours=3), NOW)


def test_a_removal_counts_as_a_change_of_its_kind() -> None:
    removed_at = NOW - timedelta(hours=1)
    account = an_account((ContactKind.POSTAL, OPENED, removed_at))
    with pytest.raises(InvalidInput, match="latest postal change"):
        check_contact_change_time(account, ContactKind.POSTAL, NOW - timedelta(hours=2), NOW)


def test_no_contact_is_dated_before_the_account_was_opened() -> None:
    opened_an_hour_ago = Customer(CID, "Bea", CustomerKind.RESIDENTIAL, Language.EN, NOW - timedelta(hours=1))
    with pytest.raises(InvalidInput, match="or its opening"):
        check_contact_change_time(opened_an_hour_ago, ContactKind.EMAIL, NOW - timedelta(hours=2), NOW)
