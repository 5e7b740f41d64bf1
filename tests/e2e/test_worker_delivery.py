"""The delivery worker against real servers it starts: an aiosmtpd SMTP server, an HTTP server in
the SMS provider's place, and a letters folder. Notices are queued by account changes (or in bulk
through the same compose/queue functions), then delivered, retried, handed to the next channel,
resumed after a killed worker, and shared by two workers on PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cpniguard.actors import Actor
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.clock import FixedClock
from cpniguard.customers.model import ContactKind, Customer, Language
from cpniguard.customers.service import change_contact
from cpniguard.db import tables as t
from cpniguard.db.migrate import upgrade
from cpniguard.jobs.worker import run_worker
from cpniguard.notifications.model import NoticeEvent
from cpniguard.notifications.service import Letterhead, Worker, compose, deliver_due, list_notices, queue_notice
from cpniguard.ports import NoticeRecord
from tests.conftest import T0, TEST_SIGNING_KEY, a_customer
from tests.servers import Provider, SmtpServer, sms_provider, smtp_server

TWO_YEARS_AGO = T0 - timedelta(days=730)
PHONE, POSTAL = "+12025550123", "12 Analytical Way, Springfield, IL 62701"
ADDRESS_BLOCK = "Ada Lovelace\n12 Analytical Way\nSpringfield, IL 62701"  # a letter's window
WAIT = 60.0  # generous: only a broken test waits this long


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def provider() -> Iterator[Provider]:
    with sms_provider() as server:
        yield server


@pytest.fixture
def env(database_url: str, tmp_path: Path, smtp: SmtpServer, provider: Provider) -> dict[str, str]:
    """The CPNIGUARD_* variables of a deployment that delivers to the test's servers."""
    return {
        "CPNIGUARD_DATABASE_URL": database_url,
        "CPNIGUARD_AUDIT_SIGNING_KEY": TEST_SIGNING_KEY,
        "CPNIGUARD_AUDIT_KEY_FILE": str(tmp_path / "audit.key"),
        "CPNIGUARD_SMTP_URL": smtp.url,
        "CPNIGUARD_MAIL_FROM": "privacy@carrier.example",
        "CPNIGUARD_SMS_URL": provider.url,
        "CPNIGUARD_SMS_TOKEN": "tok_test",
        "CPNIGUARD_LETTERS_DIR": str(tmp_path / "letters"),
        "CPNIGUARD_OUTBOX_DIR": str(tmp_path / "outbox"),
        # One connection, so that what the killed worker had sent is exact; parallel sending
        # has its own test below.
        "CPNIGUARD_WORKER_CONNECTIONS": "1",
    }


@pytest.fixture
def app(env: dict[str, str], clock: FixedClock) -> Iterator[App]:
    built = build(load_settings(env), clock)
    upgrade(built.engine)
    yield built
    built.close()


def change_email(app: App, actor: Actor, customer: Customer, new: str) -> None:
    change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.EMAIL, new)


def the_notice(app: App, customer: Customer) -> NoticeRecord:
    [record] = list_notices(app.uow(), customer.id)
    return record


def outbox_rows(app: App) -> list[Any]:
    with app.engine.connect() as conn:
        return list(conn.execute(select(t.outbox).order_by(t.outbox.c.next_attempt_at)))


def delivery_rows(app: App) -> list[Any]:
    with app.engine.connect() as conn:
        d = t.deliveries.c
        return list(conn.execute(select(t.deliveries).order_by(d.started_at, d.idempotency_key, d.attempt)))


def statuses(app: App) -> Counter[str]:
    return Counter(row.status for row in outbox_rows(app))


def queue_many(app: App, actor: Actor, n: int) -> list[uuid.UUID]:
    """`n` notices to one customer, in one transaction, due one microsecond apart up to T0, so
    that they are claimed in the order made."""
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    notices = [
        compose(customer, NoticeEvent.PASSWORD_CHANGED, T0 - timedelta(microseconds=n - i), Letterhead())
        for i in range(n)
    ]
    with app.uow() as uow:
        for notice in notices:
            queue_notice(uow, actor, T0, notice)
        uow.commit()
    return [notice.id for notice in notices]


# --- delivery, retry, fallback, letters ----------------------------------------------------------


def test_notify_5_the_german_email_reaches_the_old_address_and_its_delivery_is_on_record(
    app: App, actor: Actor, smtp: SmtpServer
) -> None:
    customer = a_customer(app, actor, emails=("alt@example.com",), language=Language.DE, at=TWO_YEARS_AGO)
    change_email(app, actor, customer, "neu@example.com")
    notice = the_notice(app, customer).notice
    totals = run_worker(app, once=True)
    assert totals.outcomes == {"delivered": 1}
    [message] = smtp.mailbox.received
    assert smtp.mailbox.recipients == [["alt@example.com"]]
    assert message["To"] == "alt@example.com"
    assert message["Subject"] == "Ihr Kundenkonto wurde geändert"
    assert message["Content-Language"] == "de"
    assert message["Message-ID"] == f"<{notice.id}.0@cpniguard>"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().strip() == notice.body
    assert "die E-Mail-Adresse Ihres Kundenkontos geändert" in notice.body
    record = the_notice(app, customer)
    assert (record.status, record.channel, record.delivered_at) == ("delivered", "email", T0)
    [delivery] = delivery_rows(app)
    assert (delivery.outcome, delivery.channel, delivery.recipient) == ("delivered", "email", "alt@example.com")
    assert delivery.provider_reference == message["Message-ID"]
    assert delivery.error is None


def test_amb_4_a_503_from_the_sms_provider_is_retried_after_the_backoff_on_the_same_channel(
    app: App, actor: Actor, clock: FixedClock, provider: Provider
) -> None:
    customer = a_customer(app, actor, emails=(), at=TWO_YEARS_AGO)
    change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.POSTAL, "9 Other Road, Dayton, OH 45402")
    provider.answers = [(503, {"message": "over capacity"})]
    assert run_worker(app, once=True).outcomes == {"transient-failure": 1}
    [row] = outbox_rows(app)
    assert (row.status, row.channel, row.attempts) == ("pending", "sms", 1)
    assert row.last_error == "SMS provider answered 503: over capacity"
    assert row.next_attempt_at > T0
    clock.move_to(row.next_attempt_at - timedelta(seconds=1))
    assert run_worker(app, once=True).claimed == 0  # not before the backoff has passed
    clock.move_to(row.next_attempt_at)
    assert run_worker(app, once=True).outcomes == {"delivered": 1}
    first, second = delivery_rows(app)
    assert (first.outcome, second.outcome) == ("transient-failure", "delivered")
    assert (first.attempt, second.attempt) == (1, 2)
    assert first.idempotency_key == second.idempotency_key
    assert second.provider_reference == "SM0002"
    assert [r.path for r in provider.requests] == ["/v1/messages", "/v1/messages"]
    assert {r.body["to"] for r in provider.requests} == {PHONE}
    assert {r.headers["idempotency-key"] for r in provider.requests} == {first.idempotency_key}


def test_notify_3_an_email_refused_for_good_goes_by_sms_at_once(
    app: App, actor: Actor, smtp: SmtpServer, provider: Provider
) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    smtp.mailbox.refuse_recipients = "550 5.1.1 mailbox unavailable"
    change_email(app, actor, customer, "b@example.com")
    assert run_worker(app, once=True).outcomes == {"permanent-failure": 1, "delivered": 1}
    refused, sent = delivery_rows(app)
    assert (refused.channel, refused.outcome) == ("email", "permanent-failure")
    assert refused.error == "SMTP server answered 550: 5.1.1 mailbox unavailable"
    assert (sent.channel, sent.recipient, sent.outcome) == ("sms", PHONE, "delivered")
    assert sent.started_at == refused.started_at  # no waiting between the two channels
    record = the_notice(app, customer)
    assert (record.status, record.channel, record.recipient) == ("delivered", "sms", PHONE)
    assert smtp.mailbox.received == []
    [request] = provider.requests
    assert request.body["body"] == record.notice.body


def test_notify_5_a_letter_goes_to_the_old_postal_address_when_sms_and_voice_are_refused(
    app: App, actor: Actor, tmp_path: Path, provider: Provider
) -> None:
    customer = a_customer(app, actor, emails=(), at=TWO_YEARS_AGO)
    change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.POSTAL, "9 Other Road, Dayton, OH 45402")
    provider.answers = [(400, {"message": "not a mobile number"}), (400, {"message": "calls barred"})]
    assert run_worker(app, once=True).outcomes == {"permanent-failure": 2, "delivered": 1}
    record = the_notice(app, customer)
    assert (record.status, record.channel, record.recipient) == ("delivered", "letter", ADDRESS_BLOCK)
    [letter] = (tmp_path / "letters" / "2026-03-02").iterdir()
    assert letter.name == f"{record.notice.id}.2.pdf"
    data = letter.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"12 Analytical Way" in page_text(data)
    assert b"9 Other Road" not in page_text(data)
    assert [d.channel for d in delivery_rows(app)] == ["sms", "voice", "letter"]
    assert delivery_rows(app)[-1].provider_reference == str(letter)


def page_text(pdf: bytes) -> bytes:
    """The PDF's content streams, inflated: where the text drawn on the pages is."""
    return b"".join(zlib.decompress(s) for s in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S))


# --- a worker killed mid-batch, a lease that ran out, two workers --------------------------------


@dataclass
class Killed:
    exit_code: int
    stderr: str


def worker_killed_at_message(env: dict[str, str], smtp: SmtpServer, message: int) -> Killed:
    """Runs `cpniguard worker --batch 10` as its own process; the SMTP server holds the n-th
    message unanswered, and the process is killed (SIGKILL) while it waits for the answer."""
    smtp.mailbox.hold_at = message
    command = [str(Path(sys.executable).with_name("cpniguard")), "worker", "--once", "--batch", "10", "--json"]
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        held = smtp.mailbox.holding.wait(WAIT)
        assert held, f"the worker never reached message {message}: {process.poll()=}"
        assert process.poll() is None
        process.send_signal(signal.SIGKILL)
        _, err = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    smtp.mailbox.release.set()
    return Killed(process.returncode, err)


def test_a_worker_killed_mid_batch_loses_no_notice_and_resends_with_the_same_message_id(
    app: App, actor: Actor, clock: FixedClock, env: dict[str, str], smtp: SmtpServer
) -> None:
    ids = queue_many(app, actor, 30)
    killed = worker_killed_at_message(env, smtp, 16)
    assert killed.exit_code == -signal.SIGKILL, killed.stderr
    assert statuses(app) == {"delivered": 10, "sending": 10, "pending": 10}  # batch 2 was never recorded
    leases = [row.lease_until for row in outbox_rows(app) if row.status == "sending"]
    clock.move_to(max(leases) + timedelta(seconds=1))
    run_worker(app, once=True, batch=10)
    assert statuses(app) == {"delivered": 30}
    counted = Counter(smtp.mailbox.message_ids)
    assert set(counted) == {f"<{i}.0@cpniguard>" for i in ids}
    twice = {mid for mid, n in counted.items() if n == 2}
    assert twice == {f"<{i}.0@cpniguard>" for i in ids[10:16]}  # sent, or taken by the server, before the kill
    assert max(counted.values()) == 2
    resent = {d.message_id for d in delivery_rows(app) if d.outcome == "delivered" and "resent" in (d.error or "")}
    assert resent == set(ids[10:20])  # batch 2, claimed again after its lease
    assert {f"<{i}.0@cpniguard>" for i in resent} >= twice


def test_a_worker_whose_lease_ran_out_cannot_overwrite_the_delivery_of_the_worker_that_took_over(
    app: App, actor: Actor, clock: FixedClock, smtp: SmtpServer
) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    change_email(app, actor, customer, "b@example.com")
    smtp.mailbox.hold_at = 1
    smtp.mailbox.replies = ["451 4.3.0 try again later"]  # the slow worker's attempt fails at last
    slow, fast = Worker("slow", app.senders()), Worker("fast", app.senders())
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(deliver_due, app.uow, clock, slow)
        assert smtp.mailbox.holding.wait(WAIT)
        clock.move_to(T0 + slow.lease + timedelta(seconds=1))
        assert deliver_due(app.uow, clock, fast).outcomes == {"delivered": 1}
        smtp.mailbox.release.set()
        assert first.result(WAIT).outcomes == {"transient-failure": 1}
    record = the_notice(app, customer)
    assert (record.status, record.delivered_at) == ("delivered", T0 + slow.lease + timedelta(seconds=1))
    assert sorted((d.worker, d.outcome) for d in delivery_rows(app)) == [
        ("fast", "delivered"),
        ("slow", "transient-failure"),
    ]
    clock.move_to(T0 + timedelta(hours=1))
    assert run_worker(app, once=True).claimed == 0
    assert len(smtp.mailbox.received) == 1


def test_two_workers_on_postgresql_deliver_each_of_300_notices_exactly_once(
    app: App, actor: Actor, env: dict[str, str], database_url: str, clock: FixedClock, smtp: SmtpServer
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer: claims are serial there, so there is no race to test")
    ids = queue_many(app, actor, 300)
    smtp.mailbox.sessions_first = 2  # neither worker gets an answer before both have a batch in hand
    apps = [build(load_settings(env), clock) for _ in range(2)]
    try:
        with ThreadPoolExecutor(2) as pool:
            runs = [pool.submit(run_worker, each, True, 10) for each in apps]
            totals = [run.result(WAIT) for run in runs]
    finally:
        for each in apps:
            each.close()
    counted = Counter(smtp.mailbox.message_ids)
    assert set(counted) == {f"<{i}.0@cpniguard>" for i in ids}
    assert sum(counted.values()) == 300
    assert [each.claimed > 0 for each in totals] == [True, True]
    assert sum(each.claimed for each in totals) == 300
    deliveries = delivery_rows(app)
    assert len(deliveries) == 300 and {d.outcome for d in deliveries} == {"delivered"}
    assert Counter(d.message_id for d in deliveries).most_common(1)[0][1] == 1
    assert len({d.worker for d in deliveries}) == 2
    assert statuses(app) == {"delivered": 300}
    worker_of = {d.message_id: d.worker for d in deliveries}
    assert all(row.claimed_by == worker_of[row.id] for row in outbox_rows(app))


def test_a_worker_sending_on_four_connections_delivers_each_notice_once(
    env: dict[str, str], clock: FixedClock, actor: Actor, smtp: SmtpServer
) -> None:
    built = build(load_settings({**env, "CPNIGUARD_WORKER_CONNECTIONS": "4"}), clock)
    upgrade(built.engine)
    try:
        ids = queue_many(built, actor, 60)
        run_worker(built, once=True, batch=25)
        assert statuses(built) == {"delivered": 60}
        counted = Counter(smtp.mailbox.message_ids)
        assert counted == Counter({f"<{i}.0@cpniguard>": 1 for i in ids})
    finally:
        built.close()
