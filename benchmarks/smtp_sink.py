"""A local SMTP server that accepts every message and counts it, in a process of its own.

aiosmtpd parses every command in Python; in the benchmark's process it would take the GIL from
the worker it is meant to serve. So it runs as ``python -m benchmarks.smtp_sink --port P`` (an
interpreter that imports aiosmtpd only) on 127.0.0.1, and answers one line per command on its
standard input: ``count`` (messages accepted so far), ``reset``, ``cpu`` (its CPU seconds).
It stops when its standard input closes, so it never outlives the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import threading
from types import TracebackType
from typing import IO, Any, Self

from benchmarks.common import REPO_ROOT

STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CountingHandler:
    """An aiosmtpd handler: takes every message, keeps nothing but the count."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.count += 1
        return "250 2.0.0 Ok: queued"

    def answer(self, command: str) -> str:
        with self._lock:
            if command == "reset":
                self.count = 0
            if command == "cpu":
                times = os.times()
                return f"{times.user + times.system:.3f}"
            return str(self.count)


def serve(port: int, commands: IO[str], replies: IO[str]) -> None:
    """The child: aiosmtpd's own thread serves while this one answers commands until EOF."""
    from aiosmtpd.controller import Controller

    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", file=replies, flush=True)
    try:
        for line in commands:
            print(handler.answer(line.strip()), file=replies, flush=True)
    finally:
        controller.stop()


class LeanSmtp(asyncio.Protocol):
    """A minimal SMTP server (RFC 5321 commands a sending client uses, no extensions but
    8BITMIME, SMTPUTF8 and SIZE) that counts each message it accepts: aiosmtpd spends about
    350 us of CPU per message parsing in Python, as much as the worker under test, so on two
    cores it, not the worker, set the pace. This one costs a fraction of that."""

    def __init__(self, handler: CountingHandler) -> None:
        self.handler = handler
        self.buffer = b""
        self.in_data = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 127.0.0.1 ESMTP lean sink\r\n")

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        replies = []
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")  # a client ends even an empty message so
                if end < 0:
                    break
                self.buffer, self.in_data = self.buffer[end + 5 :], False
                with self.handler._lock:
                    self.handler.count += 1
                replies.append(b"250 2.0.0 Ok: queued\r\n")
                continue
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                break
            line, self.buffer = self.buffer[:line_end], self.buffer[line_end + 2 :]
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                replies.append(b"250-127.0.0.1\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 33554432\r\n")
            elif verb == b"DATA":
                self.in_data = True
                replies.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                replies.append(b"221 Bye\r\n")
                self.transport.write(b"".join(replies))
                self.transport.close()
                return
            else:  # MAIL, RCPT, RSET, NOOP
                replies.append(b"250 OK\r\n")
        if replies:
            self.transport.write(b"".join(replies))


def serve_lean(port: int, commands: IO[str], replies: IO[str]) -> None:
    """The child with the lean server on an event loop thread of its own."""
    handler = CountingHandler()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(lambda: LeanSmtp(handler), "127.0.0.1", port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    print("ready", file=replies, flush=True)
    try:
        for line in commands:
            print(handler.answer(line.strip()), file=replies, flush=True)
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


class SmtpSink:
    """The counting server in a subprocess, as a context manager: ``url``, ``received``, ``reset()``.
    ``lean=True`` runs `LeanSmtp` instead of aiosmtpd."""

    def __init__(self, lean: bool = False) -> None:
        self.port = free_port()
        self.lean = lean
        self._process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> int:
        return int(self._ask("count"))

    @property
    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system)."""
        return float(self._ask("cpu"))

    def reset(self) -> None:
        self._ask("reset")

    def _ask(self, command: str) -> str:
        process = self._process
        if process is None or process.stdin is None or process.stdout is None:
            raise RuntimeError("the SMTP sink is not running")
        process.stdin.write(command + "\n")
        process.stdin.flush()
        return process.stdout.readline().strip()

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.smtp_sink", "--port", str(self.port), *(["--lean"] * self.lean)],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        ready = threading.Timer(STARTUP_TIMEOUT_S, self._process.kill)  # a hung start cannot block the run
        ready.start()
        try:
            line = self._process.stdout.readline().strip()
        finally:
            ready.cancel()
        if line != "ready":
            self.stop()
            raise RuntimeError(f"the SMTP sink did not start (it said {line!r})")
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # EOF: the server stops and the process exits
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()  # the process started above, by its handle
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.smtp_sink", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lean", action="store_true", help="the minimal server instead of aiosmtpd")
    args = parser.parse_args()
    (serve_lean if args.lean else serve)(args.port, sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
