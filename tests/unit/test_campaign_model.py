"""Campaign design rules (CONSENT-4, USE-2), the status machine and who may review (SAFE-4)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from cpniguard.campaigns.model import (
    NEXT,
    Approval,
    Campaign,
    CampaignChannel,
    CampaignStatus,
    Recipient,
    design_problem,
    new_campaign,
    record_problem,
    required_approval,
    review_problem,
)
from cpniguard.customers.model import ServiceCategory
from cpniguard.decisions.model import Purpose
from cpniguard.errors import Conflict, Forbidden, InvalidInput
from tests.conftest import T0

S = CampaignStatus
R = Recipient
P = Purpose


def a_campaign(
    purpose: Purpose = P.MARKETING_COMMUNICATIONS,
    recipients: tuple[Recipient, ...] = (R.CARRIER,),
    communications_related: bool = True,
    offer_category: ServiceCategory | None = None,
    cpni: tuple[str, ...] = ("services",),
) -> Campaign:
    return new_campaign(
        uuid.uuid4(),
        "Spring fiber",
        purpose,
        "Fiber upgrade",
        offer_category,
        communications_related,
        cpni,
        recipients,
        CampaignChannel.EMAIL,
        "mia",
        T0,
    )


@pytest.mark.parametrize(
    ("purpose", "recipients", "communications_related", "needed"),
    [
        (P.MARKETING_SUBSCRIBED, (R.CARRIER,), True, Approval.NONE),
        (P.MARKETING_COMMUNICATIONS, (R.CARRIER,), True, Approval.OPT_OUT),
        (P.MARKETING_COMMUNICATIONS, (R.AFFILIATE, R.AGENT), True, Approval.OPT_OUT),
        (P.MARKETING_COMMUNICATIONS, (R.CARRIER, R.JOINT_VENTURE), True, Approval.OPT_IN),
        (P.MARKETING_COMMUNICATIONS, (R.CARRIER,), False, Approval.OPT_IN),
        (P.MARKETING_THIRD_PARTY, (R.THIRD_PARTY,), True, Approval.OPT_IN),
        (P.MARKETING_THIRD_PARTY, (R.CARRIER,), True, Approval.OPT_IN),
        (P.MARKETING_SUBSCRIBED, (R.CARRIER,), False, Approval.OPT_IN),
        (P.MARKETING_SUBSCRIBED, (R.AGENT, R.THIRD_PARTY), True, Approval.OPT_IN),
    ],
)
def test_the_approval_each_customer_needs_follows_purpose_recipients_and_offer(
    purpose: Purpose, recipients: tuple[Recipient, ...], communications_related: bool, needed: Approval
) -> None:
    campaign = a_campaign(purpose, recipients, communications_related, ServiceCategory.LOCAL)
    assert required_approval(campaign) is needed


@pytest.mark.parametrize("partner", [R.JOINT_VENTURE, R.THIRD_PARTY])
def test_an_opt_out_basis_for_a_joint_venture_partner_or_third_party_is_refused(partner: Recipient) -> None:
    problem = design_problem(a_campaign(P.MARKETING_COMMUNICATIONS, (R.CARRIER, partner)))
    assert problem is not None and "joint-venture partners or third parties need opt-in" in problem


def test_a_non_communications_offer_without_opt_in_is_refused() -> None:
    problem = design_problem(a_campaign(P.MARKETING_COMMUNICATIONS, communications_related=False))
    assert problem is not None and "a non-communications offer need opt-in" in problem


def test_an_offer_within_subscribed_categories_must_name_its_category() -> None:
    problem = design_problem(a_campaign(P.MARKETING_SUBSCRIBED))
    assert problem is not None and "USE-2" in problem
    assert design_problem(a_campaign(P.MARKETING_SUBSCRIBED, offer_category=ServiceCategory.LOCAL)) is None


@pytest.mark.parametrize(
    ("purpose", "recipients", "communications_related"),
    [
        (P.MARKETING_COMMUNICATIONS, (R.CARRIER, R.AFFILIATE, R.AGENT), True),
        (P.MARKETING_THIRD_PARTY, (R.JOINT_VENTURE, R.THIRD_PARTY), True),
        (P.MARKETING_THIRD_PARTY, (R.CARRIER,), False),
    ],
)
def test_lawful_designs_pass(purpose: Purpose, recipients: tuple[Recipient, ...], communications_related: bool) -> None:
    assert design_problem(a_campaign(purpose, recipients, communications_related)) is None


def test_an_unknown_cpni_category_is_refused_and_a_non_marketing_purpose_too() -> None:
    with pytest.raises(InvalidInput, match="unknown CPNI categories: browsing-history"):
        a_campaign(cpni=("services", "browsing-history"))
    with pytest.raises(InvalidInput, match="marketing purposes"):
        a_campaign(P.BILLING)


def test_empty_recipients_and_cpni_default_to_the_carrier_and_services() -> None:
    campaign = a_campaign(recipients=(), cpni=())
    assert campaign.recipients == (R.CARRIER,) and campaign.cpni == ("services",)


def test_a_campaign_lives_from_draft_to_archived() -> None:
    campaign = a_campaign()
    for to in (S.SUBMITTED, S.APPROVED, S.RUNNING, S.COMPLETED, S.ARCHIVED):
        campaign = campaign.moved(to)
        assert campaign.status is to


def test_a_rejected_campaign_can_only_be_archived() -> None:
    rejected = a_campaign().moved(S.SUBMITTED).moved(S.REJECTED)
    assert rejected.moved(S.ARCHIVED).status is S.ARCHIVED
    with pytest.raises(Conflict, match="a rejected campaign cannot become approved"):
        rejected.moved(S.APPROVED)


ILLEGAL = [(old, new) for old in S for new in S if new not in NEXT[old]]


@pytest.mark.parametrize(("old", "new"), ILLEGAL)
def test_an_illegal_transition_raises_conflict(old: CampaignStatus, new: CampaignStatus) -> None:
    article = "an" if old in (S.APPROVED, S.ARCHIVED) else "a"
    with pytest.raises(Conflict, match=f"^{article} {old.value} campaign cannot become {new.value}$"):
        replace(a_campaign(), status=old).moved(new)


def test_completing_a_running_campaign_keeps_the_moment_its_records_year_starts_from() -> None:
    running = replace(a_campaign(), status=S.RUNNING)
    completed = running.completed(T0)
    assert (completed.status, completed.completed_at) == (S.COMPLETED, T0)
    with pytest.raises(Conflict, match=r"^an approved campaign cannot become completed$"):
        replace(a_campaign(), status=S.APPROVED).completed(T0)


def test_safe_3_a_record_without_a_description_is_named_as_such() -> None:
    assert record_problem(replace(a_campaign(), description="Fiber for copper customers")) is None
    problem = record_problem(a_campaign())
    assert problem is not None and problem.startswith("the campaign record needs a description (SAFE-3")
    nothing = replace(a_campaign(), description="", cpni=(), offer="")
    assert "a description and the CPNI used and the products or services offered" in str(record_problem(nothing))


def test_a_channel_outside_email_mail_phone_and_sms_is_refused() -> None:
    assert a_campaign().channel is CampaignChannel.EMAIL
    with pytest.raises(InvalidInput, match="unknown campaign channel 'fax' \\(one of: email, mail, phone, sms\\)"):
        new_campaign(uuid.uuid4(), "X", P.MARKETING_COMMUNICATIONS, "Y", None, True, (), (), "fax", "mia", T0)  # type: ignore[arg-type]


def test_the_illegal_transitions_include_skipping_review() -> None:
    assert (S.DRAFT, S.APPROVED) in ILLEGAL and (S.DRAFT, S.RUNNING) in ILLEGAL
    assert (S.SUBMITTED, S.RUNNING) in ILLEGAL and (S.ARCHIVED, S.DRAFT) in ILLEGAL


def submitted_by(owner: str, submitter: str) -> Campaign:
    return replace(a_campaign(), owner=owner, status=S.SUBMITTED, submitted_by=submitter)


@pytest.mark.parametrize("reviewer", ["mia", "sam"])
def test_the_maker_or_the_submitter_cannot_review_their_own_campaign(reviewer: str) -> None:
    with pytest.raises(Forbidden, match="the person who made or submitted it"):
        review_problem(reviewer, frozenset({"cro"}), submitted_by("mia", "sam"))


@pytest.mark.parametrize("roles", [frozenset({"marketing"}), frozenset({"agent", "admin"}), frozenset()])
def test_a_reviewer_without_cro_or_supervisor_role_is_refused(roles: frozenset[str]) -> None:
    with pytest.raises(Forbidden, match="the cro or supervisor role is needed"):
        review_problem("cora", roles, submitted_by("mia", "mia"))


@pytest.mark.parametrize("role", ["cro", "supervisor"])
def test_a_cro_or_supervisor_who_neither_made_nor_submitted_it_may_review(role: str) -> None:
    assert review_problem("cora", frozenset({role}), submitted_by("mia", "sam")) is None
