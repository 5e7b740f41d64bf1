"""The delivery adapters against real local parts: an aiosmtpd server, an HTTP server standing in
for the SMS provider, PDF files read back byte by byte, and a folder on disk."""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from cpniguard.clock import FixedClock
from cpniguard.delivery.folder import FolderSender
from cpniguard.delivery.letters import ADDRESS_WINDOW, PAGE_HEIGHT, PdfLetterPrinter
from cpniguard.delivery.sms import HttpSmsSender
from cpniguard.delivery.smtp import SmtpEmailSender, SmtpSettings, parse_smtp_url
from cpniguard.ports import DeliveryFailed, Envelope

BODY_DE = "Guten Tag,\n\nwir bestätigen die Änderung Ihrer Kontaktadresse.\n\nIhr Datenschutzteam"
CSV = "date,number,minutes\n2026-02-27,+12025550143,12\n"


def an_envelope(**overrides: Any) -> Envelope:
    values: dict[str, Any] = {
        "idempotency_key": "0b7e6a52-3f1c-4d7e-9a51-6c2f1e4b8d10",
        "channel": "email",
        "recipient": "jana.mueller@example.com",
        "subject": "Änderung Ihrer Kontaktdaten",
        "body": BODY_DE,
        "language": "de",
    }
    return Envelope(**(values | overrides))


def a_letter(**overrides: Any) -> Envelope:
    address = "Jana Müller\n1600 Pennsylvania Ave NW\nWashington, DC 20500"
    return an_envelope(**({"channel": "letter", "recipient": address} | overrides))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- SMTP -------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it accepted and answers as scripted."""

    received: list[email.message.EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    peers: list[tuple[str, int]] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)  # replies to the next DATA commands
    refuse_recipients: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse_recipients:
            return self.refuse_recipients
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.peers.append(session.peer)
        if self.data_replies:
            return self.data_replies.pop(0)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 2.0.0 Ok: queued"


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int
    controller: Controller

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def start_smtp(mailbox: Mailbox, port: int, **options: Any) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    mailbox, port = Mailbox(), free_port()
    server = SmtpServer(mailbox, port, start_smtp(mailbox, port))
    yield server
    server.controller.stop()


@pytest.fixture
def mailer(smtp_server: SmtpServer) -> Iterator[SmtpEmailSender]:
    sender = SmtpEmailSender(smtp_server.url, "privacy@carrier.example", timeout=5)
    yield sender
    sender.close()


def test_an_email_arrives_with_recipient_subject_german_body_message_id_and_attachment(
    smtp_server: SmtpServer, mailer: SmtpEmailSender
) -> None:
    envelope = an_envelope(attachment_name="call-detail.csv", attachment=CSV.encode())
    reference = mailer.send(envelope)
    [message] = smtp_server.mailbox.received
    assert smtp_server.mailbox.envelopes == [("privacy@carrier.example", ["jana.mueller@example.com"])]
    assert message["To"] == "jana.mueller@example.com"
    assert message["Subject"] == "Änderung Ihrer Kontaktdaten"
    assert message["Message-ID"] == reference == "<0b7e6a52-3f1c-4d7e-9a51-6c2f1e4b8d10@cpniguard>"
    assert message["Content-Language"] == "de"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Änderung Ihrer Kontaktadresse" in body.get_content()
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "call-detail.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_payload(decode=True) == CSV.encode()


def test_messages_in_a_row_share_one_smtp_connection(smtp_server: SmtpServer, mailer: SmtpEmailSender) -> None:
    for n in range(3):
        mailer.send(an_envelope(idempotency_key=f"key-{n}"))
    assert len(smtp_server.mailbox.received) == 3
    assert len(set(smtp_server.mailbox.peers)) == 1


def test_a_451_reply_is_a_transient_failure_and_the_next_attempt_is_delivered(
    smtp_server: SmtpServer, mailer: SmtpEmailSender
) -> None:
    smtp_server.mailbox.data_replies = ["451 4.3.0 Try again later", "451 4.3.0 Try again later"]
    for _ in range(2):
        with pytest.raises(DeliveryFailed) as failed:
            mailer.send(an_envelope())
        assert failed.value.transient
        assert "451" in failed.value.reason
    mailer.send(an_envelope())
    assert len(smtp_server.mailbox.received) == 1
    assert len(set(smtp_server.mailbox.peers)) == 1  # the connection survived the refusals


def test_a_550_for_the_recipient_is_a_permanent_failure_that_does_not_quote_the_message(
    smtp_server: SmtpServer, mailer: SmtpEmailSender
) -> None:
    smtp_server.mailbox.refuse_recipients = "550 5.1.1 No such user"
    with pytest.raises(DeliveryFailed) as failed:
        mailer.send(an_envelope())
    assert not failed.value.transient
    assert "550" in failed.value.reason
    assert "Kontaktadresse" not in failed.value.reason
    assert smtp_server.mailbox.received == []


def test_a_550_to_the_message_is_a_permanent_failure(smtp_server: SmtpServer, mailer: SmtpEmailSender) -> None:
    smtp_server.mailbox.data_replies = ["550 5.7.1 Message rejected as spam"]
    with pytest.raises(DeliveryFailed) as failed:
        mailer.send(an_envelope())
    assert not failed.value.transient
    assert failed.value.reason == "SMTP server answered 550: 5.7.1 Message rejected as spam"


def test_a_refused_connection_is_a_transient_failure() -> None:
    sender = SmtpEmailSender(f"smtp://127.0.0.1:{free_port()}", "privacy@carrier.example", timeout=5)
    with pytest.raises(DeliveryFailed) as failed:
        sender.send(an_envelope())
    assert failed.value.transient
    assert "ConnectionRefusedError" in failed.value.reason


def test_a_server_restart_between_messages_is_survived_by_reconnecting(
    smtp_server: SmtpServer, mailer: SmtpEmailSender
) -> None:
    mailer.send(an_envelope(idempotency_key="before"))
    smtp_server.controller.stop()
    smtp_server.controller = start_smtp(smtp_server.mailbox, smtp_server.port)
    mailer.send(an_envelope(idempotency_key="after"))
    assert [m["Message-ID"] for m in smtp_server.mailbox.received] == ["<before@cpniguard>", "<after@cpniguard>"]


def test_required_starttls_on_a_server_without_it_is_a_clear_failure_and_nothing_is_sent(
    smtp_server: SmtpServer,
) -> None:
    sender = SmtpEmailSender(smtp_server.url + "?starttls=1", "privacy@carrier.example", timeout=5)
    with pytest.raises(DeliveryFailed) as failed:
        sender.send(an_envelope())
    assert failed.value.reason == "SMTP server does not offer STARTTLS, which the settings require"
    assert failed.value.transient
    assert smtp_server.mailbox.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_the_sender_logs_in_with_the_url_decoded_user_and_password() -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"p@ss:w/rd")

    mailbox, port = Mailbox(), free_port()
    controller = start_smtp(mailbox, port, authenticator=authenticator, auth_require_tls=False, auth_required=True)
    try:
        sender = SmtpEmailSender(f"smtp://relay%40carrier:p%40ss%3Aw%2Frd@127.0.0.1:{port}", "p@carrier.example")
        sender.send(an_envelope())
        sender.close()
    finally:
        controller.stop()
    assert logins == [(b"relay@carrier", b"p@ss:w/rd")]
    assert len(mailbox.received) == 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example:587?starttls=1", SmtpSettings("mail.example", 587, False, True)),
        ("smtps://u%40x:s%3Acret@mail.example", SmtpSettings("mail.example", 465, True, False, "u@x", "s:cret")),
        ("smtp://localhost", SmtpSettings("localhost", 25, False, False)),
        ("smtp://user@localhost:2525?starttls=0", SmtpSettings("localhost", 2525, False, False, "user")),
    ],
)
def test_smtp_urls_give_host_port_tls_and_decoded_credentials(url: str, expected: SmtpSettings) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://mail.example", "must start with smtp:// or smtps://"),
        ("mail.example:25", "must start with smtp:// or smtps://"),
        ("smtp://:25", "names no host"),
        ("smtp://mail.example:99999", "port"),
        ("smtp://mail.example:twenty", "port"),
        ("smtp://mail.example?starttls=maybe", "starttls must be 1 or 0"),
        ("smtp://mail.example?tls=1", "unknown options: tls"),
    ],
)
def test_bad_smtp_urls_are_refused_with_a_one_line_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as refused:
        parse_smtp_url(url)
    assert "\n" not in str(refused.value)


def test_the_password_is_not_shown_in_the_settings() -> None:
    assert "s3cret" not in repr(parse_smtp_url("smtp://u:s3cret@mail.example"))


# --- SMS and voice over HTTP ------------------------------------------------------------------


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Provider:
    """A stand-in for the SMS provider: records requests, answers as scripted (then 201)."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    answers: list[tuple[int, Any]] = field(default_factory=list)
    delay: float = 0.0

    def answer(self, request: Request) -> tuple[int, Any]:
        self.requests.append(request)
        time.sleep(self.delay)
        return self.answers.pop(0) if self.answers else (201, {"sid": "SM123", "status": "queued"})


def handler_for(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer = provider.answer(Request(self.path, headers, json.loads(self.rfile.read(length))))
            data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if not isinstance(answer, str) else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def provider() -> Iterator[Provider]:
    recorder = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(recorder))
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield recorder
    server.shutdown()
    server.server_close()


@pytest.fixture
def texter(provider: Provider) -> Iterator[HttpSmsSender]:
    sender = HttpSmsSender(provider.url, "tok_test", timeout=2)
    yield sender
    sender.close()


def an_sms(**overrides: Any) -> Envelope:
    return an_envelope(**({"channel": "sms", "recipient": "+12025550143", "body": "Ihr Code: 481516"} | overrides))


def test_an_sms_is_posted_to_messages_with_token_and_idempotency_key(provider: Provider, texter: HttpSmsSender) -> None:
    assert texter.send(an_sms()) == "SM123"
    [request] = provider.requests
    assert request.path == "/v1/messages"
    assert request.headers["authorization"] == "Bearer tok_test"
    assert request.headers["idempotency-key"] == "0b7e6a52-3f1c-4d7e-9a51-6c2f1e4b8d10"
    assert request.body == {
        "to": "+12025550143",
        "body": "Ihr Code: 481516",
        "language": "de",
        "idempotency_key": "0b7e6a52-3f1c-4d7e-9a51-6c2f1e4b8d10",
    }


def test_a_voice_message_is_posted_to_calls_as_speech(provider: Provider, texter: HttpSmsSender) -> None:
    provider.answers = [(200, {"id": "CA9"})]
    assert texter.send(an_sms(channel="voice", language="en")) == "CA9"
    [request] = provider.requests
    assert request.path == "/v1/calls"
    assert request.body["say"] == "Ihr Code: 481516"
    assert request.body["language"] == "en"
    assert "body" not in request.body


def test_an_answer_without_a_reference_gives_an_empty_reference(provider: Provider, texter: HttpSmsSender) -> None:
    provider.answers = [(202, "accepted")]
    assert texter.send(an_sms()) == ""


def test_no_authorization_header_is_sent_without_a_token(provider: Provider) -> None:
    sender = HttpSmsSender(provider.url, None, timeout=2)
    sender.send(an_sms())
    sender.close()
    assert "authorization" not in provider.requests[0].headers


@pytest.mark.parametrize("status", [503, 500, 429])
def test_a_503_a_500_or_a_429_from_the_sms_provider_is_a_transient_failure(
    provider: Provider, texter: HttpSmsSender, status: int
) -> None:
    provider.answers = [(status, {"message": "busy"})]
    with pytest.raises(DeliveryFailed) as failed:
        texter.send(an_sms())
    assert failed.value.transient
    assert failed.value.reason == f"SMS provider answered {status}: busy"


def test_a_400_is_a_permanent_failure_quoting_the_provider_not_the_message(
    provider: Provider, texter: HttpSmsSender
) -> None:
    provider.answers = [(400, {"error": {"message": "'To' is not a mobile number " + "x" * 300}})]
    with pytest.raises(DeliveryFailed) as failed:
        texter.send(an_sms())
    assert not failed.value.transient
    assert failed.value.reason.startswith("SMS provider answered 400: 'To' is not a mobile number xxx")
    assert len(failed.value.reason) <= len("SMS provider answered 400: ") + 200
    assert "481516" not in failed.value.reason


def test_an_unreachable_provider_is_a_transient_failure() -> None:
    sender = HttpSmsSender(f"http://127.0.0.1:{free_port()}", "tok_test", timeout=2)
    with pytest.raises(DeliveryFailed) as failed:
        sender.send(an_sms())
    assert failed.value.transient
    assert failed.value.reason == "SMS provider unreachable: ConnectError"


def test_a_provider_that_does_not_answer_in_time_is_a_transient_failure(provider: Provider) -> None:
    provider.delay = 1.0
    sender = HttpSmsSender(provider.url, "tok_test", timeout=0.2)
    with pytest.raises(DeliveryFailed) as failed:
        sender.send(an_sms())
    sender.close()
    assert failed.value.transient
    assert failed.value.reason == "SMS provider unreachable: ReadTimeout"


def test_the_sms_sender_refuses_a_letter(provider: Provider, texter: HttpSmsSender) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        texter.send(a_letter())
    assert not failed.value.transient
    assert provider.requests == []


# --- letters ----------------------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
RETURN_ADDRESS = "Privacy Office\nExample Carrier LLC\nPO Box 100\nReston, VA 20190"


def pdf_text(data: bytes) -> list[tuple[float, float, str]]:
    """Each text run in the PDF's page streams: x and y from the top-left, in inches, and the text."""
    runs: list[tuple[float, float, str]] = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            content = zlib.decompress(stream).decode("latin-1")
        except zlib.error:
            continue
        for x, y, escaped in re.findall(r"BT ([\d.]+) ([\d.]+) Td \((.*?)\) Tj ET", content):
            runs.append((float(x) / 72, PAGE_HEIGHT - float(y) / 72, re.sub(r"\\(.)", r"\1", escaped)))
    return runs


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def printer(tmp_path: Path, clock: FixedClock) -> PdfLetterPrinter:
    return PdfLetterPrinter(tmp_path / "print", RETURN_ADDRESS, clock)


def test_a_letter_is_a_pdf_in_the_days_print_batch(tmp_path: Path, printer: PdfLetterPrinter) -> None:
    reference = printer.send(a_letter())
    assert reference == str(tmp_path / "print" / "2026-03-02" / "0b7e6a52-3f1c-4d7e-9a51-6c2f1e4b8d10.pdf")
    assert Path(reference).read_bytes().startswith(b"%PDF")
    assert [p.name for p in (tmp_path / "print" / "2026-03-02").iterdir()] == [Path(reference).name]


def test_the_address_shows_in_the_envelope_window_and_the_letter_reads_in_german(printer: PdfLetterPrinter) -> None:
    runs = pdf_text(Path(printer.send(a_letter())).read_bytes())
    window = ADDRESS_WINDOW
    address = [
        (x, y) for x, y, text in runs if text in {"Jana Müller", "1600 Pennsylvania Ave NW", "Washington, DC 20500"}
    ]
    assert len(address) == 3
    for x, y in address:
        assert window.left <= x < window.left + window.width
        assert window.top < y < window.top + window.height
    texts = [text for _, _, text in runs]
    assert "2. März 2026" in texts
    assert "Änderung Ihrer Kontaktdaten" in texts
    assert "wir bestätigen die Änderung Ihrer Kontaktadresse." in texts
    assert next((x, y) for x, y, text in runs if text == "Privacy Office") == pytest.approx((0.54, 0.6), abs=0.05)


def test_a_letter_is_written_once_even_when_sent_again_on_a_later_day(
    tmp_path: Path, printer: PdfLetterPrinter, clock: FixedClock
) -> None:
    first = Path(printer.send(a_letter()))
    written = first.stat().st_mtime_ns
    time.sleep(0.01)
    clock.move_to(datetime(2026, 3, 3, 15, 0, tzinfo=UTC))
    assert printer.send(a_letter(body="changed")) == str(first)
    assert first.stat().st_mtime_ns == written
    assert [p.name for p in (tmp_path / "print").iterdir()] == ["2026-03-02"]


def test_a_csv_enclosure_is_named_and_printed_on_the_following_pages(printer: PdfLetterPrinter) -> None:
    envelope = a_letter(attachment_name="anrufe.csv", attachment=CSV.encode())
    texts = [text for _, _, text in pdf_text(Path(printer.send(envelope)).read_bytes())]
    assert "Anlage: anrufe.csv" in texts
    assert "2026-02-27,+12025550143,12" in texts


def test_characters_beyond_latin_1_are_transliterated(printer: PdfLetterPrinter) -> None:
    envelope = a_letter(recipient="Antonín Dvořák\n1 Main St\nSpringfield, IL 62701", subject="„Hinweis“ – 5 €")
    texts = [text for _, _, text in pdf_text(Path(printer.send(envelope)).read_bytes())]
    assert "Antonín Dvorák" in texts  # ř is beyond Latin-1, í and á are not
    assert '"Hinweis" - 5 EUR' in texts


def test_an_address_too_long_for_the_window_is_a_permanent_failure(printer: PdfLetterPrinter, tmp_path: Path) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        printer.send(a_letter(recipient="\n".join(f"line {n}" for n in range(8))))
    assert not failed.value.transient
    with pytest.raises(DeliveryFailed, match="wider than the envelope window"):
        printer.send(a_letter(recipient="Jana Müller\n" + "Very long street name " * 5))
    assert not (tmp_path / "print").exists()


def test_a_print_folder_that_cannot_be_written_is_a_transient_failure(tmp_path: Path, clock: FixedClock) -> None:
    (tmp_path / "print").write_text("not a folder")
    with pytest.raises(DeliveryFailed) as failed:
        PdfLetterPrinter(tmp_path / "print", RETURN_ADDRESS, clock).send(a_letter())
    assert failed.value.transient


# --- the folder -------------------------------------------------------------------------------


def test_the_folder_sender_writes_a_readable_message_once(tmp_path: Path) -> None:
    sender = FolderSender(tmp_path / "outbox", "email")
    envelope = an_envelope(attachment_name="call-detail.csv", attachment=CSV.encode())
    path = Path(sender.send(envelope))
    assert path == tmp_path / "outbox" / "email" / "0b7e6a52-3f1c-4d7e-9a51-6c2f1e4b8d10.txt"
    assert path.read_text(encoding="utf-8") == (
        "To: jana.mueller@example.com\n"
        "Subject: Änderung Ihrer Kontaktdaten\n"
        "Channel: email\n"
        "Language: de\n"
        "Idempotency-Key: 0b7e6a52-3f1c-4d7e-9a51-6c2f1e4b8d10\n"
        "Attachment: call-detail.csv (47 bytes)\n"
        "\n" + BODY_DE + "\n"
    )
    assert path.with_name(f"{path.stem}.call-detail.csv").read_bytes() == CSV.encode()
    written = path.stat().st_mtime_ns
    time.sleep(0.01)
    assert sender.send(replace(envelope, body="changed")) == str(path)
    assert path.stat().st_mtime_ns == written
    assert sorted(p.name for p in path.parent.iterdir()) == [f"{path.stem}.call-detail.csv", path.name]


def test_the_folder_sender_folds_a_postal_address(tmp_path: Path) -> None:
    path = Path(FolderSender(tmp_path, "letter").send(a_letter()))
    assert path.read_text(encoding="utf-8").startswith(
        "To: Jana Müller\n  1600 Pennsylvania Ave NW\n  Washington, DC 20500\nSubject:"
    )


@pytest.mark.parametrize("key", ["../escape", "a/b", ".hidden", ""])
def test_a_key_that_is_not_a_plain_file_name_is_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        FolderSender(tmp_path, "email").send(an_envelope(idempotency_key=key))
    assert not failed.value.transient
    assert list(tmp_path.iterdir()) == []
