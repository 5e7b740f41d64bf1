"""NOTICE-8 end to end with real mail: an opt-out notice goes through the delivery worker to a
local SMTP server (aiosmtpd) with its Reply-To set to the marketing mailbox, and a customer's
reply goes to `cpniguard mail listen`, run as its own process, which records the opt-out with
the reply as evidence. A mail program that ignores Reply-To answers the notices' From address,
which the listener takes too."""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import pytest

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.consent.model import ConsentEventKind
from cpniguard.consent.notices import OptOutAddresses, send_opt_out_notices
from cpniguard.customers.model import Customer
from cpniguard.delivery.smtp import SmtpEmailSender, build_message, plain_message
from cpniguard.notifications.model import Channel
from cpniguard.notifications.service import Worker, deliver_due
from cpniguard.ports import Envelope
from tests.conftest import T0, TEST_SIGNING_KEY, a_customer
from tests.servers import free_port, smtp_server

MARKETING = "marketing@carrier.example"
NOTICES_FROM = "cpni-notices@carrier.example"
WAIT = 30.0


@pytest.fixture
def listener(app: App, database_url: str, tmp_path: Path) -> Iterator[int]:
    """`cpniguard mail listen` in its own process, on the test database, until SIGINT."""
    port = free_port()
    env = {
        **os.environ,
        "CPNIGUARD_DATABASE_URL": database_url,
        "CPNIGUARD_AUDIT_SIGNING_KEY": TEST_SIGNING_KEY,
        "CPNIGUARD_MARKETING_ADDRESS": MARKETING,
        "CPNIGUARD_MAIL_FROM": NOTICES_FROM,
        "CPNIGUARD_MAIL_LISTENER_PORT": str(port),
        "CPNIGUARD_HOST": "127.0.0.1",
    }
    command = [str(Path(sys.executable).with_name("cpniguard")), "mail", "listen"]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(port, process)
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else process.returncode
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise AssertionError(f"`cpniguard mail listen` did not open port {port}")


def a_notice_sent_over_smtp(app: App, actor: Actor, customers: list[Customer]) -> list[EmailMessage]:
    """The notices queued, then delivered by the worker through SMTP, as the server received them."""
    addresses = OptOutAddresses(MARKETING, "Customer Care, PO Box 1, Springfield, IL 62701")
    send_opt_out_notices(app.uow(), app.clock, actor, app.letterhead, addresses, [c.id for c in customers])
    with smtp_server() as server:
        sender = SmtpEmailSender(server.url, NOTICES_FROM, clock=app.clock)
        try:
            run = deliver_due(app.uow, app.clock, Worker("test-worker", {Channel.EMAIL: sender}))
        finally:
            sender.close()
        assert run.outcomes == {"delivered": len(customers)}
        return list(server.mailbox.received)


def a_reply(notice: EmailMessage, sender: str, to: str) -> EmailMessage:
    reply = EmailMessage()
    reply["From"], reply["To"] = f"A Customer <{sender}>", to
    reply["Subject"] = f"Re: {notice['Subject']}"
    reply["Message-ID"] = f"<reply.{sender.partition('@')[0]}@mail.example.com>"
    reply["In-Reply-To"] = reply["References"] = str(notice["Message-ID"])
    reply.set_content("No, thank you.\n\n> " + "\n> ".join(notice.get_content().splitlines()[:3]))
    return reply


def opt_out_evidence(app: App, customer: Customer) -> list[str]:
    with app.uow() as uow:
        return [e.evidence for e in uow.consent.events(customer.id) if e.kind is ConsentEventKind.OPT_OUT]


def test_notice_8_a_reply_to_an_emailed_notice_reaches_the_listener_and_records_the_opt_out(
    app: App, actor: Actor, listener: int
) -> None:
    ada = a_customer(app, actor, at=T0 - timedelta(days=730))
    grace = a_customer(
        app,
        actor,
        name="Grace Hopper",
        emails=("grace@example.com",),
        telephone_numbers=("+12025550177",),
        at=T0 - timedelta(days=730),
    )
    received = {parseaddr(str(m["To"]))[1]: m for m in a_notice_sent_over_smtp(app, actor, [ada, grace])}
    notice = received["ada@example.com"]
    assert parseaddr(str(notice["From"]))[1] == NOTICES_FROM
    assert parseaddr(str(notice["Reply-To"]))[1] == MARKETING
    assert "reply to this email with the words opt out" in notice.get_content()
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as client:
        # Ada's mail program answers to Reply-To; Grace's ignores it and answers the sender.
        assert client.send_message(a_reply(notice, "ada@example.com", str(notice["Reply-To"]))) == {}
        to_sender = received["grace@example.com"]
        assert client.send_message(a_reply(to_sender, "grace@example.com", str(to_sender["From"]))) == {}
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.send_message(a_reply(notice, "ada@example.com", "ceo@carrier.example"))
    [evidence] = opt_out_evidence(app, ada)
    assert evidence.startswith("email Message-ID <reply.ada@mail.example.com> sha256 ")
    [evidence] = opt_out_evidence(app, grace)
    assert evidence.startswith("email Message-ID <reply.grace@mail.example.com> sha256 ")


def test_both_ways_of_building_an_email_carry_the_reply_to_and_only_when_given() -> None:
    envelope = Envelope("n.0", "email", "ada@example.com", "Your choices", "Text", "en", reply_to=MARKETING)
    plain = email.message_from_bytes(plain_message(envelope, NOTICES_FROM), policy=email.policy.default)
    built = build_message(replace(envelope, recipient="zoë@example.com"), NOTICES_FROM)
    assert plain["Reply-To"] == built["Reply-To"] == MARKETING
    assert "Reply-To" not in email.message_from_bytes(plain_message(replace(envelope, reply_to=None), NOTICES_FROM))
    with pytest.raises(ValueError, match="line break"):
        plain_message(replace(envelope, reply_to="a@b\r\nBcc: c@d"), NOTICES_FROM)
