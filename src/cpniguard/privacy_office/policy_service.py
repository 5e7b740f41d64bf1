"""Use cases of the privacy policy: publish a version, read the one in force, the portal's notice.

A material version tells every customer who reads its language, by email to their first email
address of record, in the same transaction as the publication (AMB-4's pattern: the outbox
delivers after commit). A carrier has a million customers, so the notices are added set-based
by the repository, with one audit entry counting them rather than one per customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.calendar import eastern_date, start_of_day
from cpniguard.clock import Clock
from cpniguard.customers.model import ADDRESS_OF_RECORD_TENURE, Language
from cpniguard.errors import NotFound
from cpniguard.ids import new_id
from cpniguard.notifications.model import NoticeEvent
from cpniguard.notifications.service import Letterhead
from cpniguard.notifications.texts import render
from cpniguard.ports import UnitOfWork
from cpniguard.privacy_office.policies import (
    PolicyDraft,
    PolicyVersion,
    effective_text,
    in_force,
    new_version,
    parse_language,
    portal_notice,
)


@dataclass(frozen=True, slots=True)
class Publication:
    version: PolicyVersion
    notices_queued: int  # material versions only
    customers_without_email: int  # customers of the language with no email address of record


def of_record_before(at: datetime) -> datetime:
    """DEF-5 as a moment: an address added before it has been on the account 30 Eastern days at `at`."""
    return start_of_day(eastern_date(at) - ADDRESS_OF_RECORD_TENURE + timedelta(days=1))


def publish_policy(
    uow: UnitOfWork, clock: Clock, actor: Actor, letterhead: Letterhead, draft: PolicyDraft
) -> Publication:
    """Publishes a version; a material one queues its notices with it (section 10 item 12)."""
    now = clock.now()
    with uow:
        version = new_version(new_id(), draft, uow.privacy.policies(parse_language(draft.language)), actor.label, now)
        uow.privacy.add_policy(version)
        queued, without = _notify(uow, version, letterhead, now) if version.material else (0, 0)
        details = {
            "version": version.version,
            "language": version.language.value,
            "effective_on": version.effective_on,
            "material": version.material,
            "notices_queued": queued,
            "customers_without_email": without,
        }
        uow.audit.add(AuditEntry.of("privacy:policy:published", actor, now, details=details))
        if queued:
            counted = {"version": version.version, "notices": queued, "channel": "email"}
            uow.audit.add(AuditEntry.of("notifications:privacy-policy-changed:queued", actor, now, details=counted))
        uow.commit()
    return Publication(version, queued, without)


def _notify(uow: UnitOfWork, version: PolicyVersion, letterhead: Letterhead, now: datetime) -> tuple[int, int]:
    extra = {"version": version.version, "effective": effective_text(version.effective_on, version.language)}
    subject, body = render(
        NoticeEvent.PRIVACY_POLICY_CHANGED,
        version.language.value,
        now,
        letterhead.carrier,
        letterhead.support,
        summary=version.summary,
        **extra,
    )
    return uow.privacy.queue_policy_notices(version.language, subject, body, now, of_record_before(now))


def list_policies(uow: UnitOfWork, language: str | None = None) -> list[PolicyVersion]:
    with uow:
        return uow.privacy.policies(parse_language(language) if language else None)


def policy_in_force(uow: UnitOfWork, language: str, at: datetime) -> PolicyVersion:
    """The version in force at `at` in `language`; NotFound when none has taken effect."""
    chosen = parse_language(language)
    with uow:
        found = in_force(uow.privacy.policies(chosen), chosen, at)
    if found is None:
        raise NotFound(f"no privacy policy in {chosen.value} is in force on {eastern_date(at)}")
    return found


def policy_notice(uow: UnitOfWork, language: str, at: datetime) -> PolicyVersion | None:
    """What the customer portal's home page shows: the latest material change, for 90 days."""
    chosen = parse_language(language)
    with uow:
        return portal_notice(uow.privacy.policies(chosen), chosen, at)


SAMPLE_VERSION = "1.0"
SAMPLE_SUMMARY = {
    Language.EN: "First version: the sample policy shipped with cpniguard.",
    Language.DE: "Erste Fassung: die Beispielerklärung, die cpniguard mitbringt.",
}


def _sample_draft(language: Language, day: date) -> PolicyDraft:
    return PolicyDraft(SAMPLE_VERSION, language.value, day, sample_policy(language), SAMPLE_SUMMARY[language])


def sample_policy(language: Language) -> str:
    """The project's own sample policy (never a carrier's text), shipped as package data."""
    return (resources.files("cpniguard.privacy_office") / "sample_policy" / f"{language.value}.md").read_text("utf-8")


def publish_sample_policy(
    uow: UnitOfWork, clock: Clock, actor: Actor, letterhead: Letterhead, effective_on: date | None = None
) -> list[Publication]:
    """For a demo: the sample policy in each language that has no policy yet, not material."""
    with uow:
        missing = [lang for lang in Language if not uow.privacy.policies(lang)]
    day = effective_on or eastern_date(clock.now())
    drafts = [_sample_draft(lang, day) for lang in missing]
    return [publish_policy(uow, clock, actor, letterhead, draft) for draft in drafts]
