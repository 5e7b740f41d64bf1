"""Mail coming in to the marketing address (NOTICE-8, NOTICE-9): our own SMTP listener
(aiosmtpd), which also takes mail to the address notices are sent from, or the marketing
mailbox read over IMAP. Each message goes, as raw bytes, to a callback that handles it in its
own unit of work; a message counts as taken only after it returned, so a failure leaves it with
the sender (SMTP 451) or unseen in the mailbox (IMAP)."""

from __future__ import annotations

import asyncio
import imaplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

Handle = Callable[[bytes], object]
_DEFAULT_PORTS = {"imap": 143, "imaps": 993}
MESSAGE_LIMIT = 10 * 1024 * 1024  # an opt-out needs no attachments of any size


class _MarketingHandler:
    def __init__(self, addresses: Iterable[str], handle: Handle) -> None:
        self._addresses = frozenset(a.lower() for a in addresses if a)
        self._handle = handle

    async def handle_RCPT(  # aiosmtpd calls its hooks by these names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() not in self._addresses:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw or "").encode()
        try:
            # The callback writes to the database: off the event loop, so other sessions go on.
            await asyncio.get_running_loop().run_in_executor(None, self._handle, raw)
        except Exception:  # any failure: the sender keeps the message and retries
            return "451 4.3.0 Could not record the message now, please try again later"
        return "250 2.0.0 Recorded"


class SmtpListener:
    """An SMTP server that takes mail for the marketing address and for the address notices are
    sent from (`notices_from`: a customer's mail program may answer a notice there, ignoring its
    Reply-To, and bounces come back there); anything else gets 550."""

    def __init__(
        self, host: str, port: int, marketing_address: str, handle: Handle, notices_from: str | None = None
    ) -> None:
        handler = _MarketingHandler((marketing_address, notices_from or ""), handle)
        self._controller = Controller(handler, hostname=host, port=port, data_size_limit=MESSAGE_LIMIT)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpListener:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


@dataclass(frozen=True, slots=True)
class ImapSettings:
    host: str
    port: int
    tls: bool
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"


def parse_imap_url(url: str) -> ImapSettings:
    """`imaps://user:pass@host:993/INBOX` or `imap://...`; ValueError with a one-line reason."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError(f"IMAP URL must start with imap:// or imaps://, not {parts.scheme or 'nothing'}://")
    if not parts.hostname:
        raise ValueError("IMAP URL names no host")
    if not parts.username:
        raise ValueError("IMAP URL names no user")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError("IMAP URL has a port that is not a number from 1 to 65535") from None
    folder = unquote(parts.path.strip("/")) or "INBOX"
    password = unquote(parts.password or "")
    return ImapSettings(parts.hostname, port, parts.scheme == "imaps", unquote(parts.username), password, folder)


@dataclass(slots=True)
class PollRun:
    handled: int = 0
    failed: int = 0


class ImapMailbox:
    """Reads the unseen messages of one mailbox folder; a message is flagged \\Seen only after
    its callback returned, so one that failed is fetched again on the next poll."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self._settings = parse_imap_url(url)
        self._timeout = timeout

    def poll(self, handle: Handle) -> PollRun:
        run = PollRun()
        with self._connect() as conn:
            s = self._settings
            _ok(conn.login(s.username, s.password))
            _ok(conn.select(_quoted(s.folder)))
            data = _ok(conn.uid("SEARCH", "UNSEEN"))
            for uid in (data[0] or b"").split():
                if self._take(conn, uid, handle):
                    run.handled += 1
                else:
                    run.failed += 1
        return run

    def _take(self, conn: imaplib.IMAP4, uid: bytes, handle: Handle) -> bool:
        fetched = _ok(conn.uid("FETCH", uid.decode(), "(BODY.PEEK[])"))  # PEEK: not yet \Seen
        raw = next((part[1] for part in fetched if isinstance(part, tuple)), None)
        if raw is None:
            return False
        try:
            handle(raw)
        except Exception:  # left unseen: tried again next time, the others go on
            return False
        _ok(conn.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)"))
        return True

    def _connect(self) -> imaplib.IMAP4:
        s = self._settings
        if s.tls:
            return imaplib.IMAP4_SSL(s.host, s.port, ssl_context=ssl.create_default_context(), timeout=self._timeout)
        return imaplib.IMAP4(s.host, s.port, timeout=self._timeout)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(answer: tuple[str, Any]) -> list[Any]:
    status, data = answer
    if status != "OK":
        raise imaplib.IMAP4.error(f"IMAP server answered {status}")
    return list(data)
