"""wrk load runs: Lua scripts that rotate through prepared requests, and parsed summaries."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.peers import policies

THREADS = 2
CONNECTIONS = 16

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass(frozen=True)
class WrkRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: str


@dataclass(frozen=True)
class WrkStats:
    """One wrk run: completed requests, duration, rate, latency percentiles, failures."""

    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def ok(self) -> int:
        """Responses with a 2xx (or 3xx) status, as wrk counts them."""
        return self.requests - self.non_2xx

    def describe(self) -> str:
        return (
            f"{self.requests_per_second:,.0f} req/s, p50 {self.p50_ms:.2f} ms, p99 {self.p99_ms:.2f} ms, "
            f"{self.requests:,} requests, {self.non_2xx} non-2xx, {self.socket_errors} socket errors"
        )


def available() -> str | None:
    """Why wrk cannot run here, or None."""
    return None if shutil.which("wrk") else "wrk not installed (apt-get install wrk)"


def _lua_string(text: str) -> str:
    if "]==]" in text:
        raise ValueError("text cannot go into a Lua long string")
    return f"[==[{text}]==]"


def write_lua(path: Path, requests: Sequence[WrkRequest]) -> Path:
    """A wrk script that sends ``requests`` in turn (each thread starting at a random place)."""
    if not requests:
        raise ValueError("no requests")
    lines = ["-- wrk script written by benchmarks/wrk.py: rotate through prepared requests.", "local prepared = {"]
    for r in requests:
        headers = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in r.headers.items())
        lines.append(f"  {{{_lua_string(r.method)}, {_lua_string(r.path)}, {{{headers}}}, {_lua_string(r.body)}}},")
    lines += [
        "}",
        "local requests = {}",
        "local counter = 0",
        "function init(args)",
        "  for i, p in ipairs(prepared) do",
        "    requests[i] = wrk.format(p[1], p[2], p[3], p[4])",
        "  end",
        "  counter = math.random(#requests) - 1",
        "end",
        "function request()",
        "  counter = counter % #requests + 1",
        "  return requests[counter]",
        "end",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(summary: str) -> WrkStats:
    """Reads a ``wrk --latency`` summary."""
    percentiles: dict[str, float] = {}
    for match in re.finditer(r"^\s+(50|99)%\s+(\S+)\s*$", summary, re.MULTILINE):
        percentiles[match.group(1)] = _duration_ms(match.group(2))
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", summary)
    rate = policies.parse_wrk_requests_per_second(summary)
    if done is None or rate is None or len(percentiles) < 2:
        raise ValueError(f"unexpected wrk output:\n{summary}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", summary)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", summary)
    return WrkStats(
        requests=int(done.group(1)),
        seconds=_duration_ms(done.group(2) + done.group(3)) / 1e3,
        requests_per_second=rate,
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def run(url: str, script: Path, seconds: int) -> WrkStats:
    """wrk with the shared settings (2 threads, 16 connections) against a loopback URL."""
    summary = policies.run_wrk(url, script, threads=THREADS, connections=CONNECTIONS, duration_s=seconds)
    return parse(summary)
