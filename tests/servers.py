"""Real local servers for delivery tests: an aiosmtpd SMTP server and an HTTP server standing in
for a Twilio-style SMS/voice provider. Both record what they were given and answer as scripted."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

ACCEPTED = "250 2.0.0 Ok: queued"
GATE_TIMEOUT = 30.0  # a held message is let go after this, so a broken test fails instead of hanging


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait(condition: threading.Event, timeout: float = GATE_TIMEOUT) -> None:
    """Waits for `condition` without blocking the server's event loop (other sessions go on)."""
    for _ in range(int(timeout / 0.01)):
        if condition.is_set():
            return
        await asyncio.sleep(0.01)


@dataclass
class Mailbox:
    """An aiosmtpd handler. It keeps each message it accepts; `replies` script the answers to the
    next DATA commands; `hold_at` keeps the n-th DATA unanswered until `release` is set; with
    `sessions_first` > 0 no DATA is answered before that many connections have sent one."""

    received: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    refuse_recipients: str | None = None
    hold_at: int | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    sessions_first: int = 0
    sessions: set[tuple[str, int]] = field(default_factory=set)
    sessions_seen: threading.Event = field(default_factory=threading.Event)
    data_commands: int = 0

    @property
    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.received]

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse_recipients:
            return self.refuse_recipients
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        number = self.data_commands
        reply = self.replies.pop(0) if self.replies else ACCEPTED
        if reply.startswith("250"):  # stored before any hold: the server has it, the client may never know
            self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
            self.recipients.append(list(envelope.rcpt_tos))
        await self._gates(session, number)
        return reply

    async def _gates(self, session: Any, number: int) -> None:
        self.sessions.add(session.peer)
        if len(self.sessions) >= self.sessions_first:
            self.sessions_seen.set()
        await _wait(self.sessions_seen)
        if number == self.hold_at:
            self.holding.set()
            await _wait(self.release)


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@contextmanager
def smtp_server(mailbox: Mailbox | None = None) -> Iterator[SmtpServer]:
    mailbox = mailbox or Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(mailbox, port)
    finally:
        mailbox.release.set()
        mailbox.sessions_seen.set()
        controller.stop()


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Provider:
    """The SMS/voice provider: POST /messages and /calls; answers as scripted by `answers`
    (status, JSON), then 201 with a fresh `sid`."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    answers: list[tuple[int, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(request)
            if self.answers:
                return self.answers.pop(0)
            prefix = "CA" if request.path.endswith("/calls") else "SM"
            return 201, {"sid": f"{prefix}{len(self.requests):04d}", "status": "queued"}


def _handler_for(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer = provider.answer(Request(self.path, headers, json.loads(self.rfile.read(length))))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def sms_provider() -> Iterator[Provider]:
    provider = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(provider))
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
