"""The purpose gate's rules (USE-*, CONSENT-4, AMB-6), one purpose at a time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cpniguard.consent.model import ConsentState
from cpniguard.customers.model import ServiceCategory
from cpniguard.decisions.model import Basis, CustomerFacts, Purpose, Request, decide, parse_purpose
from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId

AT = datetime(2026, 6, 1, 12, tzinfo=UTC)
BEFORE = AT - timedelta(days=40)
CID = CustomerId(uuid.uuid4())
LOCAL_ONLY = CustomerFacts(listing_published=False, subscribed=frozenset({ServiceCategory.LOCAL}))
NO_CONSENT = ConsentState(CID)
OBJECTED = ConsentState(CID, objection_event=uuid.uuid4(), objection_since=BEFORE)
OPTED_IN = ConsentState(CID, opt_in_event=uuid.uuid4(), opt_in_since=BEFORE)
PRESUMED = ConsentState(CID, notice_event=uuid.uuid4(), presumed_from=BEFORE, renotice_due=AT + timedelta(days=300))


def gate(purpose: Purpose, state: ConsentState = NO_CONSENT, facts: CustomerFacts = LOCAL_ONLY, **kw: object):  # type: ignore[no-untyped-def]
    return decide(Request(purpose, **kw), facts, state, AT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "purpose", [Purpose.PROVIDE_SERVICE, Purpose.BILLING, Purpose.FRAUD_PROTECTION, Purpose.EMERGENCY]
)
def test_statutory_purposes_are_allowed_even_after_an_objection_use_1_use_7_use_8(purpose: Purpose) -> None:
    decision = gate(purpose, OBJECTED)
    assert decision.allowed and decision.basis is Basis.STATUTE and decision.citation


def test_legal_process_needs_a_reference_use_13() -> None:
    assert not gate(Purpose.LEGAL_PROCESS).allowed
    allowed = gate(Purpose.LEGAL_PROCESS, reference="subpoena 2026-117")
    assert allowed.allowed and "subpoena 2026-117" in allowed.reason


def test_directory_publishing_only_for_published_listings_amb_6() -> None:
    assert not gate(Purpose.DIRECTORY_PUBLISHING).allowed
    published = CustomerFacts(True, LOCAL_ONLY.subscribed)
    assert gate(Purpose.DIRECTORY_PUBLISHING, facts=published).allowed


def test_marketing_within_subscribed_categories_needs_no_approval_use_2() -> None:
    assert gate(Purpose.MARKETING_SUBSCRIBED, offer_category=ServiceCategory.LOCAL).allowed


def test_marketing_another_category_is_outside_the_total_service_approach_use_3() -> None:
    decision = gate(Purpose.MARKETING_SUBSCRIBED, offer_category=ServiceCategory.LONG_DISTANCE)
    assert not decision.allowed and decision.reason == "offer outside subscribed categories"


def test_marketing_communications_is_denied_without_approval_use_1() -> None:
    decision = gate(Purpose.MARKETING_COMMUNICATIONS)
    assert not decision.allowed and decision.reason == "no approval on record"


def test_marketing_communications_is_allowed_on_opt_out_or_opt_in_approval_consent_4() -> None:
    presumed = gate(Purpose.MARKETING_COMMUNICATIONS, PRESUMED)
    assert presumed.allowed and presumed.basis is Basis.CONSENT and presumed.basis_ref == PRESUMED.notice_event
    assert gate(Purpose.MARKETING_COMMUNICATIONS, OPTED_IN).allowed


def test_third_party_marketing_needs_opt_in_not_opt_out_consent_4() -> None:
    denied = gate(Purpose.MARKETING_THIRD_PARTY, PRESUMED)
    assert not denied.allowed and denied.reason == "opt-in required"
    assert gate(Purpose.MARKETING_THIRD_PARTY, OPTED_IN).allowed


@pytest.mark.parametrize(
    "purpose", [Purpose.MARKETING_SUBSCRIBED, Purpose.MARKETING_COMMUNICATIONS, Purpose.MARKETING_THIRD_PARTY]
)
def test_an_active_objection_denies_every_marketing_purpose(purpose: Purpose) -> None:
    decision = gate(purpose, OBJECTED, offer_category=ServiceCategory.LOCAL)
    assert not decision.allowed and decision.reason == "customer objected"


def test_an_unknown_purpose_is_refused_with_the_list_of_purposes() -> None:
    with pytest.raises(InvalidInput, match="marketing-third-party"):
        parse_purpose("profiling")
