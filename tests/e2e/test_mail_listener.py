"""Opt-outs by email over a real SMTP exchange: smtplib talking to our aiosmtpd listener, and the
`cpniguard mail` commands; the IMAP mailbox against pymap, a real IMAP server in pure Python."""

from __future__ import annotations

import contextlib
import imaplib
import importlib.util
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.consent.inbound import receive_mail
from cpniguard.consent.model import ConsentEventKind
from cpniguard.delivery.mailbox import ImapMailbox, PollRun, SmtpListener, parse_imap_url
from cpniguard.ids import CustomerId
from tests.conftest import T0, a_customer
from tests.e2e.test_cli import Cli, cli  # noqa: F401 - the fixture
from tests.servers import free_port

ADDRESS = "marketing@carrier.example"


def an_opt_out(sender: str = "ada@example.com", to: str = ADDRESS) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, "opt out"
    message["Message-ID"] = "<listener.1@mail.example.com>"
    message.set_content("Please do not use my records for marketing.")
    return message


@pytest.fixture
def listener(app: App) -> Iterator[int]:
    port = free_port()

    def handle(raw: bytes) -> object:
        return receive_mail(app.uow(), app.clock, Actor.system("mail-listener"), raw, app.letterhead)

    with SmtpListener("127.0.0.1", port, ADDRESS, handle):
        yield port


def opt_out_evidence(app: App, customer: CustomerId) -> list[str]:
    with app.uow() as uow:
        return [e.evidence for e in uow.consent.events(customer) if e.kind is ConsentEventKind.OPT_OUT]


def test_an_opt_out_sent_over_smtp_is_recorded_before_the_server_says_250(
    app: App, actor: Actor, listener: int
) -> None:
    customer = a_customer(app, actor, at=T0 - timedelta(days=730))
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as client:
        assert client.send_message(an_opt_out()) == {}
    [evidence] = opt_out_evidence(app, customer.id)
    assert evidence.startswith("email Message-ID <listener.1@mail.example.com> sha256 ")


def test_mail_for_any_other_address_is_refused_with_550(app: App, actor: Actor, listener: int) -> None:
    customer = a_customer(app, actor, at=T0 - timedelta(days=730))
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as no:
        client.send_message(an_opt_out(to="ceo@carrier.example"))
    assert [code for code, _ in no.value.recipients.values()] == [550]
    assert opt_out_evidence(app, customer.id) == []


def test_a_message_that_cannot_be_recorded_is_left_with_the_sender_as_451() -> None:
    def broken(raw: bytes) -> object:
        raise RuntimeError("database down")

    port = free_port()
    with (
        SmtpListener("127.0.0.1", port, ADDRESS, broken),
        smtplib.SMTP("127.0.0.1", port, timeout=10) as client,
        pytest.raises(smtplib.SMTPDataError) as later,
    ):
        client.send_message(an_opt_out())
    assert later.value.smtp_code == 451


def test_mail_receive_handles_a_saved_message_and_poll_needs_an_imap_url(
    cli: Cli,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    saved = tmp_path / "stop.eml"
    saved.write_bytes(bytes(an_opt_out(sender="stranger@example.net")))
    assert cli.json("mail", "receive", str(saved)) == {
        "outcome": "confirmation-requested",
        "customers": [],
        "message_id": "<listener.1@mail.example.com>",
    }
    code, out, err = cli("mail", "poll", "--once")
    assert (code, out) == (2, "") and err.startswith("error: CPNIGUARD_IMAP_URL is not set")


def test_an_imap_url_names_host_port_user_and_folder() -> None:
    s = parse_imap_url("imaps://opt%40carrier:s%3Acret@mail.carrier.example/Opt-outs")
    assert (s.host, s.port, s.tls, s.username, s.password, s.folder) == (
        "mail.carrier.example",
        993,
        True,
        "opt@carrier",
        "s:cret",
        "Opt-outs",
    )
    with pytest.raises(ValueError, match="imap:// or imaps://"):
        parse_imap_url("pop3://host")


@pytest.fixture
def imap_server() -> Iterator[str]:
    """pymap, an IMAP server in pure Python (a dev dependency), with its in-memory demo mailbox."""
    if importlib.util.find_spec("pymap") is None:
        pytest.skip("pymap is not installed (pip install -e .[dev]): no IMAP server without a system daemon")
    port = free_port()
    serve = [sys.executable, "-c", "from pymap.main import main; main()"]
    options = ["--host", "127.0.0.1", "--port", str(port), "--no-tls", "dict", "--demo-data"]
    server = subprocess.Popen([*serve, *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.1)
        yield f"imap://demouser:demopass@127.0.0.1:{port}/INBOX"
    finally:
        server.terminate()
        server.wait(timeout=10)


def imap(url: str) -> imaplib.IMAP4:
    s = parse_imap_url(url)
    conn = imaplib.IMAP4(s.host, s.port, timeout=10)
    conn.login(s.username, s.password)
    conn.select("INBOX")
    return conn


def unseen(url: str) -> list[bytes]:
    conn = imap(url)
    try:
        return list(conn.uid("SEARCH", "UNSEEN")[1][0].split())
    finally:
        conn.logout()


def test_the_imap_mailbox_records_an_opt_out_and_marks_only_handled_mail_seen(
    app: App, actor: Actor, imap_server: str
) -> None:
    customer = a_customer(app, actor, at=T0 - timedelta(days=730))
    conn = imap(imap_server)
    conn.append("INBOX", None, None, bytes(an_opt_out()))
    conn.logout()
    waiting = len(unseen(imap_server))

    def broken(raw: bytes) -> object:
        raise RuntimeError("database down")

    assert ImapMailbox(imap_server).poll(broken) == PollRun(handled=0, failed=waiting)
    assert len(unseen(imap_server)) == waiting and opt_out_evidence(app, customer.id) == []

    def handle(raw: bytes) -> object:
        return receive_mail(app.uow(), app.clock, Actor.system("mail-poller"), raw, app.letterhead)

    assert ImapMailbox(imap_server).poll(handle) == PollRun(handled=waiting, failed=0)
    [evidence] = opt_out_evidence(app, customer.id)
    assert evidence.startswith("email Message-ID <listener.1@mail.example.com> sha256 ")
    assert unseen(imap_server) == []
    assert ImapMailbox(imap_server).poll(handle) == PollRun()


def test_mail_poll_once_reads_the_marketing_mailbox_and_records_the_opt_out(
    cli: Cli,  # noqa: F811 - the fixture
    imap_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = cli.json(
        "customers", "add", "--name", "Ada Lovelace", "--phone", "+12025550123", "--email", "ada@example.com",
        "--at", "2024-03-02",
    )  # fmt: skip
    conn = imap(imap_server)
    conn.append("INBOX", None, None, bytes(an_opt_out()))
    conn.logout()
    waiting = len(unseen(imap_server))  # pymap's demo mailbox holds a few unseen messages of its own
    monkeypatch.setenv("CPNIGUARD_IMAP_URL", imap_server)
    assert cli.json("mail", "poll", "--once") == {"handled": waiting, "failed": 0}
    history = cli.json("consent", "show", str(made["id"]))["history"]
    [opt_out] = [e for e in history if e["event"] == "opt-out"]
    assert opt_out["channel"] == "email" and opt_out["evidence"].startswith("email Message-ID <listener.1@")
    assert cli.json("mail", "poll", "--once") == {"handled": 0, "failed": 0}
    monkeypatch.setenv("CPNIGUARD_IMAP_URL", "pop3://mail.example.com")
    code, out, err = cli("mail", "poll", "--once")
    assert (code, out) == (2, "") and err.startswith("error: CPNIGUARD_IMAP_URL: IMAP URL must start with")
    monkeypatch.setenv("CPNIGUARD_IMAP_URL", f"imap://u:p@127.0.0.1:{free_port()}/INBOX")
    code, out, err = cli("mail", "poll", "--once")
    assert (code, out) == (1, "") and err.startswith("error: IMAP: ConnectionRefusedError")
