"""The consent ledger: append-only events, and the approval state derived from them.

The events are the truth. `ConsentState` is their fold; the state at any past moment is the
fold of the events effective up to that moment (CONSENT-2: an approval or refusal lasts until
the customer changes it, so nothing here expires by itself except presumed opt-out approval
when the biennial re-notice is overdue, AMB-9).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from cpniguard.calendar import add_days, add_years, eastern_date, start_of_day
from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# NOTICE-6 / AMB-3: the period starts on the day an email is sent, or the third day after a
# letter is mailed; approval is presumed only from the 31st day after that start.
MAIL_DELIVERY_DAYS = 3
PRESUMED_AFTER_DAYS = 31
# NOTICE-7 / AMB-9: opt-out notices are repeated every two years, per customer.
RENOTICE_YEARS = 2


class ConsentEventKind(StrEnum):
    OPT_OUT_NOTICE_SENT = "opt-out-notice-sent"
    OPT_OUT_NOTICE_BOUNCED = "opt-out-notice-bounced"
    OPT_OUT = "opt-out"
    OPT_OUT_WITHDRAWN = "opt-out-withdrawn"
    OPT_IN = "opt-in"
    OPT_IN_REVOKED = "opt-in-revoked"
    ONE_TIME_APPROVAL = "one-time-approval"


class Channel(StrEnum):
    EMAIL = "email"
    MAIL = "mail"
    WEB = "web"
    PHONE = "phone"
    SMS = "sms"
    IN_PERSON = "in-person"


# NOTICE-5: opt-out notices are written or electronic, never oral.
NOTICE_CHANNELS = frozenset({Channel.EMAIL, Channel.MAIL})


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    id: uuid.UUID
    customer_id: CustomerId
    kind: ConsentEventKind
    channel: Channel
    at: datetime  # when it took effect
    recorded_at: datetime
    recorded_by: str
    evidence: str = ""
    seq: int = 0  # order of recording, set by the store; breaks ties between equal `at`


@dataclass(frozen=True, slots=True)
class NoticeRun:
    """An unbroken run of delivered opt-out notices, each sent before the last one lapsed."""

    presumed_from: datetime
    renotice_due: datetime
    last_notice_id: uuid.UUID


def waiting_period_start(channel: Channel, sent_on: date) -> date:
    return add_days(sent_on, MAIL_DELIVERY_DAYS) if channel is Channel.MAIL else sent_on


def presumed_from(channel: Channel, sent_at: datetime) -> datetime:
    start = waiting_period_start(channel, eastern_date(sent_at))
    return start_of_day(add_days(start, PRESUMED_AFTER_DAYS))


def renotice_due(sent_at: datetime) -> datetime:
    return start_of_day(add_years(eastern_date(sent_at), RENOTICE_YEARS))


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The approvals in force after a sequence of events; times are aware UTC."""

    customer_id: CustomerId
    objection_event: uuid.UUID | None = None
    objection_since: datetime | None = None
    opt_in_event: uuid.UUID | None = None
    opt_in_since: datetime | None = None
    notice_event: uuid.UUID | None = None
    presumed_from: datetime | None = None
    renotice_due: datetime | None = None
    last_event_at: datetime | None = None
    events_applied: int = 0

    def objection_active(self, at: datetime) -> bool:
        return self.objection_since is not None and self.objection_since <= at

    def opt_in_active(self, at: datetime) -> bool:
        return self.opt_in_since is not None and self.opt_in_since <= at

    def opt_out_approval_presumed(self, at: datetime) -> bool:
        return (
            self.presumed_from is not None
            and self.renotice_due is not None
            and self.presumed_from <= at < self.renotice_due
        )

    def renotice_overdue(self, at: datetime) -> bool:
        return self.renotice_due is not None and at >= self.renotice_due

    def valid_for(self, at: datetime) -> bool:
        """The state read from the current-state table answers for `at` only when no event
        takes effect after `at`; otherwise the events must be folded up to `at`."""
        return self.last_event_at is None or self.last_event_at <= at


def _apply_notices(state: ConsentState, notices: list[ConsentEvent]) -> ConsentState:
    run: NoticeRun | None = None
    for notice in notices:
        due = renotice_due(notice.at)
        if run is not None and notice.at < run.renotice_due:
            run = NoticeRun(run.presumed_from, due, notice.id)
        else:
            run = NoticeRun(presumed_from(notice.channel, notice.at), due, notice.id)
    if run is None:
        return replace(state, notice_event=None, presumed_from=None, renotice_due=None)
    return replace(
        state, notice_event=run.last_notice_id, presumed_from=run.presumed_from, renotice_due=run.renotice_due
    )


def ordered(events: Iterable[ConsentEvent]) -> list[ConsentEvent]:
    return sorted(events, key=lambda e: (e.at, e.seq))


def fold(customer: CustomerId, events: Iterable[ConsentEvent], at: datetime | None = None) -> ConsentState:
    """The state after the events effective at or before `at` (all events when `at` is None)."""
    state = ConsentState(customer)
    notices: list[ConsentEvent] = []
    for event in ordered(events):
        if at is not None and event.at > at:
            break
        state, notices = _apply(state, notices, event)
        state = replace(state, last_event_at=event.at, events_applied=state.events_applied + 1)
    return _apply_notices(state, notices)


def _apply(
    state: ConsentState, notices: list[ConsentEvent], event: ConsentEvent
) -> tuple[ConsentState, list[ConsentEvent]]:
    kind = event.kind
    if kind is ConsentEventKind.OPT_OUT_NOTICE_SENT:
        return state, [*notices, event]
    if kind is ConsentEventKind.OPT_OUT_NOTICE_BOUNCED:
        # NOTICE-8: a bounced notice was never delivered; its waiting period never started.
        bounced = _bounced_notice(notices, event)
        return state, [n for n in notices if n is not bounced]
    if kind is ConsentEventKind.OPT_OUT:
        # The customer's latest word wins: an objection ends any opt-in too (CONSENT-2).
        return replace(
            state, objection_event=event.id, objection_since=event.at, opt_in_event=None, opt_in_since=None
        ), notices
    if kind is ConsentEventKind.OPT_OUT_WITHDRAWN:
        return replace(state, objection_event=None, objection_since=None), notices
    if kind is ConsentEventKind.OPT_IN:
        return replace(
            state, opt_in_event=event.id, opt_in_since=event.at, objection_event=None, objection_since=None
        ), notices
    if kind is ConsentEventKind.OPT_IN_REVOKED:
        return replace(state, opt_in_event=None, opt_in_since=None), notices
    # ONE_TIME_APPROVAL (USE-9, NOTICE-11) lives only for its call; it is no standing approval.
    return state, notices


def _bounced_notice(notices: list[ConsentEvent], bounce: ConsentEvent) -> ConsentEvent | None:
    """The delivered notice a bounce refers to (NOTICE-8).

    A bounce names what bounced in its evidence: the worker and a delivery status report name
    the outbox notice (`notice <id>.<step>`), as that notice's own "sent" event does; a bounce
    recorded by hand may name the consent event. The notice is the one that shares a named id.
    A bounce that names ids no delivered notice carries refers to none: an email that failed
    before it was ever delivered started nothing, and an earlier notice still counts. Only a
    bounce that names no id at all falls back to the latest email notice."""
    named = set(UUID_TEXT.findall(bounce.evidence.lower()))
    if not named:
        return next((n for n in reversed(notices) if n.channel is Channel.EMAIL), None)
    for notice in reversed(notices):
        if str(notice.id) in named or named & set(UUID_TEXT.findall(notice.evidence.lower())):
            return notice
    return None


def validate_event(kind: ConsentEventKind, channel: Channel) -> None:
    if kind is ConsentEventKind.OPT_OUT_NOTICE_SENT and channel not in NOTICE_CHANNELS:
        raise InvalidInput("an opt-out notice is sent by email or mail (NOTICE-5)")
    if kind is ConsentEventKind.OPT_OUT_NOTICE_BOUNCED and channel is not Channel.EMAIL:
        raise InvalidInput("only an email notice can bounce")
