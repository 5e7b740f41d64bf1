"""Email over SMTP with the standard library. One connection stays open across messages, since a
TLS handshake and login per message would cap throughput when a notice goes to many customers.
Failures are sorted for the outbox: worth retrying (4xx, refused connection, timeout) or final (5xx)."""

from __future__ import annotations

import base64
import mimetypes
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

from cpniguard.clock import Clock
from cpniguard.ports import DeliveryFailed, Envelope

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_TRUE, _FALSE = {"1", "true", "yes"}, {"0", "false", "no"}


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool  # smtps://: TLS from the first byte
    starttls: bool  # STARTTLS required: never send credentials or CPNI in the clear
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str) -> SmtpSettings:
    """`smtp://user:pass@host:587?starttls=1` or `smtps://host`; ValueError with a one-line reason."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError(f"SMTP URL must start with smtp:// or smtps://, not {parts.scheme or 'nothing'}://")
    if not parts.hostname:
        raise ValueError("SMTP URL names no host")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError("SMTP URL has a port that is not a number from 1 to 65535") from None
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        implicit_tls=parts.scheme == "smtps",
        starttls=_starttls_option(parts.query),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def _starttls_option(query: str) -> bool:
    options = parse_qs(query, keep_blank_values=True)
    if unknown := set(options) - {"starttls"}:
        raise ValueError(f"SMTP URL has unknown options: {', '.join(sorted(unknown))}")
    value = options.get("starttls", ["0"])[-1].lower()
    if value not in _TRUE | _FALSE:
        raise ValueError("SMTP URL option starttls must be 1 or 0")
    return value in _TRUE


class SmtpEmailSender:
    """Sends email envelopes through one SMTP server; not safe to share between processes."""

    def __init__(self, url: str, mail_from: str, timeout: float = 10.0, clock: Clock | None = None) -> None:
        self._settings = parse_smtp_url(url)
        self._mail_from = mail_from
        self._timeout = timeout
        self._clock = clock  # without one the Date header is left to the submission server (RFC 6409 8.1)
        self._connection: smtplib.SMTP | None = None
        self._lock = threading.Lock()  # smtplib is not thread-safe

    def send(self, envelope: Envelope) -> str:
        message = self._message(envelope)
        with self._lock:
            try:
                self._send(message)
            except OSError as exc:  # smtplib's exceptions are OSErrors too
                self._drop_unless_usable(exc)
                raise failure(exc) from None  # no traceback chain: it could carry the message
        return message_id(envelope)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                _quit(self._connection)
                self._connection = None

    def _send(self, message: EmailMessage | tuple[str, bytes]) -> None:
        reused = self._connection is not None
        try:
            self._transmit(self._connected(), message)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException) as exc:
            if not reused or not _idle_close(exc):
                raise
            self._connection = None  # the server dropped an idle connection: once more, fresh
            self._transmit(self._connected(), message)

    def _transmit(self, connection: smtplib.SMTP, message: EmailMessage | tuple[str, bytes]) -> None:
        if isinstance(message, EmailMessage):
            connection.send_message(message)
        else:
            recipient, data = message
            connection.sendmail(self._mail_from, [recipient], data)

    def _connected(self) -> smtplib.SMTP:
        if self._connection is None:
            self._connection = self._open()
        return self._connection

    def _open(self) -> smtplib.SMTP:
        s = self._settings
        if s.implicit_tls:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=self._timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(s.host, s.port, timeout=self._timeout)
        try:
            self._secure_and_log_in(connection)
        except BaseException:
            _quit(connection)
            raise
        return connection

    def _secure_and_log_in(self, connection: smtplib.SMTP) -> None:
        s = self._settings
        connection.ehlo()
        if s.starttls:
            if not connection.has_extn("starttls"):
                raise StartTlsMissing("STARTTLS not offered")
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        if s.username is not None:
            connection.login(s.username, s.password or "")

    def _drop_unless_usable(self, exc: OSError) -> None:
        # After a refused sender, recipient or message smtplib has reset the session: keep it.
        if isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused) and not _idle_close(exc):
            return
        if self._connection is not None:
            _quit(self._connection)
            self._connection = None

    def _message(self, envelope: Envelope) -> EmailMessage | tuple[str, bytes]:
        try:
            if (
                envelope.attachment is None
                and (envelope.recipient + self._mail_from + (envelope.reply_to or "")).isascii()
            ):
                return envelope.recipient, plain_message(envelope, self._mail_from, self._clock)
            return build_message(envelope, self._mail_from, self._clock)
        except ValueError as exc:  # e.g. a line break in a header: the same on every attempt
            raise DeliveryFailed(f"message cannot be built: {exc}", transient=False) from None


class StartTlsMissing(smtplib.SMTPException):
    """The server does not offer STARTTLS although the settings require it."""


def message_id(envelope: Envelope) -> str:
    return f"<{envelope.idempotency_key}@cpniguard>"


def plain_message(envelope: Envelope, mail_from: str, clock: Clock | None = None) -> bytes:
    """The common case, a notice without attachment to an ASCII address, as bytes put together
    directly: the `email` package's header registry cost more CPU per notice than sending it
    (measured: 600 of 840 us), which held one worker to 800 notices/s. The same headers and
    body as `build_message`, base64 so that any text is 7-bit safe."""
    reply_to = envelope.reply_to or ""
    for value in (mail_from, envelope.recipient, envelope.subject, envelope.language, reply_to):
        if "\r" in value or "\n" in value:
            raise ValueError("a header value contains a line break")
    subject = envelope.subject if envelope.subject.isascii() else Header(envelope.subject, "utf-8").encode()
    lines = [
        f"From: {mail_from}",
        f"To: {envelope.recipient}",
        *([f"Reply-To: {reply_to}"] if reply_to else []),
        f"Subject: {subject}",
        f"Message-ID: {message_id(envelope)}",
        *([f"Date: {format_datetime(clock.now())}"] if clock is not None else []),
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
        f"Content-Language: {envelope.language}",
    ]
    body = base64.encodebytes(envelope.body.encode()).decode("ascii").replace("\n", "\r\n")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("ascii")


def build_message(envelope: Envelope, mail_from: str, clock: Clock | None = None) -> EmailMessage:
    """UTF-8 plain text; the Message-ID comes from the idempotency key so that a retry after an
    unanswered send can be recognised as the same message by the provider and the recipient."""
    message = EmailMessage(policy=SMTP)
    message["From"] = mail_from
    message["To"] = envelope.recipient
    if envelope.reply_to:  # NOTICE-8: a reply to an opt-out notice reaches the mailbox that records it
        message["Reply-To"] = envelope.reply_to
    message["Subject"] = envelope.subject
    message["Message-ID"] = message_id(envelope)
    if clock is not None:
        message["Date"] = format_datetime(clock.now())
    message.set_content(envelope.body, charset="utf-8")
    if envelope.attachment is not None:
        name = envelope.attachment_name or "attachment"
        maintype, _, subtype = (mimetypes.guess_type(name)[0] or "application/octet-stream").partition("/")
        message.add_attachment(envelope.attachment, maintype=maintype, subtype=subtype, filename=name)
    message["Content-Language"] = envelope.language  # after the content: set_content drops Content-* headers
    return message


def failure(exc: OSError) -> DeliveryFailed:
    """What the outbox should do about an SMTP error; the reason names the server's reply only."""
    if isinstance(exc, StartTlsMissing):
        # A property of the server (or of someone stripping STARTTLS on the way), not of this message.
        return DeliveryFailed("SMTP server does not offer STARTTLS, which the settings require", transient=True)
    if isinstance(exc, smtplib.SMTPNotSupportedError):  # e.g. a non-ASCII address without SMTPUTF8
        return DeliveryFailed(f"SMTP server cannot take this message: {exc}", transient=False)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (0, b"recipient refused"))
        return _reply_failure(code, reply)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # A configuration problem that hits every message alike: retry once it is fixed.
        return DeliveryFailed(f"SMTP login refused: {_text(exc.smtp_error)}", transient=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_failure(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return DeliveryFailed("SMTP server closed the connection", transient=True)
    return DeliveryFailed(f"SMTP connection failed: {type(exc).__name__}: {exc}", transient=True)


def _reply_failure(code: int, reply: bytes | str) -> DeliveryFailed:
    return DeliveryFailed(f"SMTP server answered {code}: {_text(reply)}", transient=not 500 <= code <= 599)


def _idle_close(exc: OSError) -> bool:
    """421 or a dropped socket: the server ended the session, not the message."""
    return isinstance(exc, smtplib.SMTPServerDisconnected) or (
        isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 421
    )


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())[:200]


def _quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()
