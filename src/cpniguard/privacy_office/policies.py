"""Versions of the carrier's privacy policy: its own text per language, in Markdown.

Section 10 item 12: posting the policy and emailing customers about a material change are
company policy, not FCC CPNI requirements; a website posting is not the individual CPNI
notice of NOTICE-2. A version takes effect on its effective date (Eastern); the portal shows
the latest material change for 90 days from then.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cpniguard.calendar import eastern_date
from cpniguard.customers.model import Language, parse_enum
from cpniguard.errors import Conflict, InvalidInput
from cpniguard.text import clean_text

PORTAL_NOTICE_DAYS = 90  # the carrier's policy: the home page shows a material change this long
LONGEST_TEXT = 500_000  # characters: a policy, not a book


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    id: uuid.UUID
    version: str
    language: Language
    effective_on: date
    text: str  # Markdown
    summary: str  # what changed
    material: bool
    published_by: str
    published_at: datetime


@dataclass(frozen=True, slots=True)
class PolicyDraft:
    """A version as the privacy office hands it in, before it is checked."""

    version: str
    language: str
    effective_on: date
    text: str
    summary: str
    material: bool = False


def parse_language(text: str) -> Language:
    return parse_enum(Language, text.strip().lower(), "language")


def new_version(
    version_id: uuid.UUID, draft: PolicyDraft, published: list[PolicyVersion], by: str, at: datetime
) -> PolicyVersion:
    """The draft checked against the versions already published in its language."""
    language = parse_language(draft.language)
    label = clean_text(draft.version, "a version label", 1, 40)
    text = draft.text.replace("\r\n", "\n").strip("\n")
    if not text.strip():
        raise InvalidInput("the policy text is empty")
    if len(text) > LONGEST_TEXT or "\x00" in text:
        raise InvalidInput(f"the policy text must be at most {LONGEST_TEXT} characters, without NUL characters")
    summary = clean_text(draft.summary, "the summary of what changed", 1, 2000)
    same = [v for v in published if v.language is language]
    if any(v.version == label for v in same):
        raise Conflict(f"version {label} in {language.value} is published already; give the new text a new version")
    latest = latest_version(same)
    if latest is not None and draft.effective_on < latest.effective_on:
        raise InvalidInput(
            f"the effective date {draft.effective_on} is before that of version {latest.version} "
            f"({latest.effective_on}) in {language.value}"
        )
    return PolicyVersion(version_id, label, language, draft.effective_on, text, summary, draft.material, by, at)


def _order(v: PolicyVersion) -> tuple[date, datetime]:
    return v.effective_on, v.published_at


def latest_version(versions: list[PolicyVersion]) -> PolicyVersion | None:
    return max(versions, key=_order, default=None)


def in_force(versions: list[PolicyVersion], language: Language, at: datetime) -> PolicyVersion | None:
    """The version in force on `at`'s Eastern day: the last to take effect by then."""
    today = eastern_date(at)
    return latest_version([v for v in versions if v.language is language and v.effective_on <= today])


def portal_notice(versions: list[PolicyVersion], language: Language, at: datetime) -> PolicyVersion | None:
    """The material change the customer portal's home page shows: the latest one in force,
    through the 90th day after its effective date; None when there is none or it is older."""
    today = eastern_date(at)
    material = [v for v in versions if v.language is language and v.material and v.effective_on <= today]
    latest = latest_version(material)
    if latest is None or today > latest.effective_on + timedelta(days=PORTAL_NOTICE_DAYS):
        return None
    return latest


def policy_text(data: bytes) -> str:
    """A policy file's bytes as text: UTF-8 (a byte-order mark is dropped), or refused."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the policy file is not UTF-8 text (byte {exc.start} is not valid)") from None


def effective_text(day: date, language: Language) -> str:
    """A date as each language writes it in a notice."""
    if language is Language.DE:
        return day.strftime("%d.%m.%Y")
    return f"{day:%B} {day.day}, {day.year}"
