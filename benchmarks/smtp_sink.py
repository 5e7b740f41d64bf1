"""A local SMTP server that accepts every message and counts it, in a process of its own.

aiosmtpd parses every command in Python; in the benchmark's process it would take the GIL from
the worker it is meant to serve. So it runs as ``python -m benchmarks.smtp_sink --port P`` (an
interpreter that imports aiosmtpd only) on 127.0.0.1, and answers one line per command on its
standard input: ``count`` (messages accepted so far), ``reset``, ``cpu`` (its CPU seconds).
It stops when its standard input closes, so it never outlives the benchmark.
"""

from __future__ import annotations

import argparse
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


class SmtpSink:
    """The counting server in a subprocess, as a context manager: ``url``, ``received``, ``reset()``."""

    def __init__(self) -> None:
        self.port = free_port()
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
            [sys.executable, "-m", "benchmarks.smtp_sink", "--port", str(self.port)],
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
    serve(parser.parse_args().port, sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
