"""Opt-outs by email (NOTICE-8, NOTICE-9): mail to the marketing address, or a reply to a notice.

An objection from an email address of record (DEF-5: on the account 30 days) is recorded at
once, with the message itself as evidence, and acknowledged to that address. From any other
address it cannot be tied to an account without letting anyone object for anyone, so the sender
is asked to make the request through a contact of record instead. Recording a refusal can only
narrow the use of CPNI, so a forged sender of record does no harm beyond an extra
acknowledgement to the real holder of that address.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parseaddr

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.clock import Clock
from cpniguard.consent.model import Channel, ConsentEvent, ConsentEventKind
from cpniguard.consent.notices import notice_route as opt_out_notice_route
from cpniguard.consent.service import append_event
from cpniguard.customers.model import ContactKind, Customer
from cpniguard.ids import CustomerId, new_id
from cpniguard.notifications import model as notices
from cpniguard.notifications.service import Letterhead, compose, queue_notice
from cpniguard.notifications.texts import render
from cpniguard.ports import UnitOfWork

RECORDED, CONFIRMATION_REQUESTED, IGNORED = "recorded", "confirmation-requested", "ignored"
BOUNCE_RECORDED = "bounce-recorded"  # a delivery status report for one of our opt-out notices
OBJECTION = re.compile(r"\b(opt[\s-]?out|stop|unsubscribe|remove)\b", re.IGNORECASE)
OBJECTION_DE = re.compile(r"\b(widerspruch|widerspreche\w*|abmelden|keine\s+werbung)\b", re.IGNORECASE)
FIRST_LINES = 5  # a request is written at the top; quoted text and signatures further down do not count
OUR_NOTICE = re.compile(r"<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(\d+)@cpniguard>")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,500}>")
BODY_LIMIT = 20_000


@dataclass(frozen=True, slots=True)
class InboundMail:
    sender: str  # the From address, lower-cased; "" when there is none
    subject: str
    body: str  # the first text/plain part, decoded
    message_id: str  # "<...>", or "" when the message has none
    replies_to: tuple[str, ...]  # the ids in In-Reply-To and References
    sha256: str  # of the raw message: the evidence can be matched to the stored mail
    automatic: bool = False  # an auto-reply or a bulk message (RFC 3834): never answered
    sender_as_written: str = ""  # the From address as it came: stored addresses keep their case

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2]


@dataclass(frozen=True, slots=True)
class InboundOutcome:
    kind: str  # recorded | confirmation-requested | ignored
    customers: tuple[CustomerId, ...] = ()
    message_id: str = ""


def parse_inbound(raw: bytes) -> InboundMail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    _, address = parseaddr(str(message.get("From", "")))
    references = f"{message.get('In-Reply-To', '')} {message.get('References', '')}"
    ids = MESSAGE_ID.findall(str(message.get("Message-ID", "")))
    return InboundMail(
        sender=address.strip().lower() if "@" in address else "",
        subject=" ".join(str(message.get("Subject", "")).split()),
        body=_plain_text(message)[:BODY_LIMIT],
        message_id=ids[0] if ids else "",
        replies_to=tuple(MESSAGE_ID.findall(references)),
        sha256=hashlib.sha256(raw).hexdigest(),
        automatic=_automatic(message),
        sender_as_written=address.strip() if "@" in address else "",
    )


def _plain_text(message: Message) -> str:
    part = message.get_body(preferencelist=("plain",)) if isinstance(message, EmailMessage) else None
    if part is None:
        return ""
    try:
        return str(part.get_content())
    except (LookupError, ValueError):  # an unknown or wrong charset: the words still count
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _automatic(message: Message) -> bool:
    submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return submitted != "no" or precedence in {"bulk", "junk", "list"}


def _opening(mail: InboundMail) -> str:
    lines = [line for line in mail.body.splitlines() if line.strip() and not line.lstrip().startswith(">")]
    return "\n".join([mail.subject, *lines[:FIRST_LINES]])


def notices_replied_to(mail: InboundMail) -> list[uuid.UUID]:
    """The ids of our notices this mail answers (delivery/smtp.py writes them in Message-ID)."""
    found = (OUR_NOTICE.fullmatch(ref) for ref in mail.replies_to)
    return list(dict.fromkeys(uuid.UUID(m.group(1)) for m in found if m))


def asks_to_opt_out(mail: InboundMail, answers_an_opt_out_notice: bool = False) -> bool:
    """An objection in the subject or first lines, in English or German, or any reply to one of
    our opt-out notices: NOTICE-8 lets customers opt out by replying to it, whatever they write.
    A reply to another notice (an account change, a breach) is an objection only in its words."""
    if mail.automatic or not mail.sender:
        return False
    opening = _opening(mail)
    return answers_an_opt_out_notice or bool(OBJECTION.search(opening) or OBJECTION_DE.search(opening))


def _answers_an_opt_out_notice(uow: UnitOfWork, mail: InboundMail) -> bool:
    for notice_id in notices_replied_to(mail):
        record = uow.outbox.notice(notice_id)
        if record is not None and record.notice.event is notices.NoticeEvent.OPT_OUT_NOTICE:
            return True
    return False


def bounced_notices(raw: bytes) -> list[tuple[uuid.UUID, int]]:
    """The notices of ours a delivery status report (RFC 3464) says did not arrive."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if message.get_content_type() != "multipart/report" or message.get_param("report-type") != "delivery-status":
        return []
    found = dict.fromkeys(OUR_NOTICE.findall(raw.decode("utf-8", errors="replace")))
    return [(uuid.UUID(notice), int(step)) for notice, step in found]


def receive_mail(uow: UnitOfWork, clock: Clock, actor: Actor, raw: bytes, letterhead: Letterhead) -> InboundOutcome:
    """Handles one message to the marketing address in one unit of work: a bounce of one of our
    opt-out notices, the opt-out of every customer whose email of record sent it, a request to
    confirm from an unknown sender, or nothing."""
    mail, now = parse_inbound(raw), clock.now()
    with uow:
        if bounces := bounced_notices(raw):
            bounced = [_notice_bounced(uow, actor, now, notice, step, letterhead) for notice, step in bounces]
            outcome = InboundOutcome(BOUNCE_RECORDED, tuple(c for c in bounced if c), mail.message_id)
        elif not asks_to_opt_out(mail, _answers_an_opt_out_notice(uow, mail)):
            outcome = InboundOutcome(IGNORED, message_id=mail.message_id)
        elif customers := _senders_of_record(uow, mail, now):
            for customer in customers:
                _record_opt_out(uow, actor, now, customer, mail, letterhead)
            outcome = InboundOutcome(RECORDED, tuple(c.id for c in customers), mail.message_id)
        else:
            queue_notice(uow, actor, now, _confirmation_request(mail, now, letterhead))
            outcome = InboundOutcome(CONFIRMATION_REQUESTED, message_id=mail.message_id)
        details = {"outcome": outcome.kind, "sender_domain": mail.sender_domain, "sha256": mail.sha256}
        uow.audit.add(AuditEntry.of("consent:inbound-mail:received", actor, now, details=details))
        uow.commit()
    return outcome


def _senders_of_record(uow: UnitOfWork, mail: InboundMail, at: datetime) -> list[Customer]:
    """The customers with the sender as an email address of record at `at` (DEF-5). The local
    part of an address keeps its case when stored, so both spellings are looked up."""
    spellings = dict.fromkeys(filter(None, (mail.sender_as_written, mail.sender)))
    found = {c.id: c for spelling in spellings for c in uow.customers.find(spelling, limit=50)}
    return [
        customer
        for customer in found.values()
        if any(c.value.lower() == mail.sender for c in customer.contacts_of_record(at, ContactKind.EMAIL))
    ]


def _record_opt_out(
    uow: UnitOfWork, actor: Actor, now: datetime, customer: Customer, mail: InboundMail, letterhead: Letterhead
) -> None:
    # The same message fetched twice (a mailbox flag that did not stick) is recorded once.
    if any(mail.sha256 in event.evidence for event in uow.consent.events(customer.id)):
        return
    evidence = f"email Message-ID {mail.message_id or '(none)'} sha256 {mail.sha256}"
    event = ConsentEvent(
        new_id(), customer.id, ConsentEventKind.OPT_OUT, Channel.EMAIL, now, now, actor.label, evidence
    )
    append_event(uow, actor, event, now)
    route = (notices.Stop(notices.Channel.EMAIL, mail.sender),)
    queue_notice(uow, actor, now, compose(customer, notices.NoticeEvent.OPT_OUT_RECORDED, now, letterhead, route))


def _confirmation_request(mail: InboundMail, now: datetime, letterhead: Letterhead) -> notices.Notice:
    """To a sender who is no customer of record: in German when they wrote in German."""
    language = "de" if OBJECTION_DE.search(_opening(mail)) else "en"
    event = notices.NoticeEvent.OPT_OUT_CONFIRM
    subject, body = render(event, language, now, letterhead.carrier, letterhead.support)
    route = (notices.Stop(notices.Channel.EMAIL, mail.sender),)
    return notices.Notice(new_id(), now, None, event, language, route, subject, body)


def _notice_bounced(
    uow: UnitOfWork, actor: Actor, now: datetime, notice_id: uuid.UUID, step: int, letterhead: Letterhead
) -> CustomerId | None:
    """NOTICE-8: an emailed opt-out notice that bounced after it was sent never started its
    waiting period; the notice goes again by letter to the postal address of record."""
    record = uow.outbox.notice(notice_id)
    if record is None or record.notice.event is not notices.NoticeEvent.OPT_OUT_NOTICE:
        return None
    sent, customer_id = record.notice.route[min(step, len(record.notice.route) - 1)], record.notice.customer_id
    if sent.channel is not notices.Channel.EMAIL or customer_id is None:
        return None
    customer = uow.customers.get(CustomerId(customer_id))
    if customer is None:
        return None
    evidence = f"delivery status report for notice {notice_id}.{step}"
    event = ConsentEvent(
        new_id(), customer.id, ConsentEventKind.OPT_OUT_NOTICE_BOUNCED, Channel.EMAIL, now, now, actor.label, evidence
    )
    append_event(uow, actor, event, now, notice=str(notice_id))
    letters = tuple(stop for stop in opt_out_notice_route(customer, now) if stop.channel is notices.Channel.LETTER)
    if letters:
        queue_notice(uow, actor, now, replace(record.notice, id=new_id(), created_at=now, route=letters))
    return customer.id
