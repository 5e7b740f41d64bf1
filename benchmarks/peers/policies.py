"""Peer engines for the purpose-gate decision benchmark.

One decision policy (the CPNI "purpose gate") written for three peers, each of
which must give the same ``allowed`` answer as :func:`reference_decide`:

* :class:`RegoPeer` - the policy in ``gate.rego``, evaluated in process by
  regorus (PyPI ``gordon-to-regorus``), either compiled to its RVM bytecode
  (the fastest form) or with the tree-walking ``Engine``.
* :class:`CasbinPeer` - pycasbin with ``gate_casbin_model.conf`` and
  ``gate_casbin_policy.csv``, as ``FastEnforcer`` or plain ``Enforcer``.
* :class:`CerbosServer` - the real Cerbos PDP (npm ``@cerbos/cerbos-linux-x64``)
  on 127.0.0.1 with the disk policies in ``cerbos/policies/``, over HTTP.

Facts for one decision are a plain dict::

    {"purpose": "marketing-communications", "objection_active": False,
     "opt_in_active": False, "opt_out_presumed": True, "listing_published": False,
     "has_reference": False, "offer_within_subscribed": False}

This module only needs the standard library at import time; each peer imports
its engine when it is built, so a missing peer fails alone.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

PEERS_DIR = Path(__file__).resolve().parent
REGO_POLICY = PEERS_DIR / "gate.rego"
CASBIN_MODEL = PEERS_DIR / "gate_casbin_model.conf"
CASBIN_POLICY = PEERS_DIR / "gate_casbin_policy.csv"
CERBOS_POLICIES = PEERS_DIR / "cerbos" / "policies"
CERBOS_NPM_PACKAGE = "@cerbos/cerbos-linux-x64"
CERBOS_BINARY = PEERS_DIR / "node" / "node_modules" / "@cerbos" / "cerbos-linux-x64" / "cerbos-linux-x64"

STATUTORY_PURPOSES: tuple[str, ...] = (
    "provide-service",
    "billing",
    "fraud-protection",
    "emergency",
)
PURPOSES: tuple[str, ...] = (
    *STATUTORY_PURPOSES,
    "legal-process",
    "directory-publishing",
    "marketing-subscribed",
    "marketing-communications",
    "marketing-third-party",
)
UNKNOWN_PURPOSE = "resale-to-data-broker"
"""The purpose outside the gate's list that :func:`make_inputs` mixes in."""

FLAGS: tuple[str, ...] = (
    "objection_active",
    "opt_in_active",
    "opt_out_presumed",
    "listing_published",
    "has_reference",
    "offer_within_subscribed",
)

Facts = Mapping[str, Any]
Decide = Callable[[Facts], bool]


# --------------------------------------------------------------------------- reference


def reference_decision(facts: Facts) -> tuple[bool, str]:
    """The purpose gate in plain Python: ``(allowed, reason)``."""
    purpose = facts["purpose"]
    if purpose in STATUTORY_PURPOSES:
        return True, "statutory"
    if purpose == "legal-process":
        if facts["has_reference"]:
            return True, "statutory"
        return False, "legal process needs a reference"
    if purpose == "directory-publishing":
        if facts["listing_published"]:
            return True, "published listing"
        return False, "listing not published"
    if purpose == "marketing-subscribed":
        if facts["objection_active"]:
            return False, "customer objected"
        if facts["offer_within_subscribed"]:
            return True, "total service approach"
        return False, "offer outside subscribed categories"
    if purpose == "marketing-communications":
        if facts["objection_active"]:
            return False, "customer objected"
        if facts["opt_in_active"]:
            return True, "opt-in"
        if facts["opt_out_presumed"]:
            return True, "opt-out approval"
        return False, "no approval on record"
    if purpose == "marketing-third-party":
        if facts["objection_active"]:
            return False, "customer objected"
        if facts["opt_in_active"]:
            return True, "opt-in"
        return False, "opt-in required"
    return False, "unknown purpose"


def reference_decide(facts: Facts) -> bool:
    """The purpose gate in plain Python: is this use allowed?"""
    return reference_decision(facts)[0]


def make_inputs(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` random fact dicts: purposes uniform over the nine known and one unknown, flags fair coins."""
    rng = random.Random(seed)
    purposes = (*PURPOSES, UNKNOWN_PURPOSE)
    inputs: list[dict[str, Any]] = []
    for _ in range(n):
        facts: dict[str, Any] = {"purpose": rng.choice(purposes)}
        for flag in FLAGS:
            facts[flag] = rng.random() < 0.5
        inputs.append(facts)
    return inputs


def mismatches(peer_decide: Decide, inputs: Iterable[Facts]) -> int:
    """How many inputs ``peer_decide`` answers differently from :func:`reference_decide`."""
    return sum(1 for facts in inputs if bool(peer_decide(facts)) != reference_decide(facts))


def reason_mismatches(peer_reason: Callable[[Facts], str | None], inputs: Iterable[Facts]) -> int:
    """How many inputs get a reason other than the reference's (``None`` from the peer skips the input)."""
    count = 0
    for facts in inputs:
        reason = peer_reason(facts)
        if reason is not None and reason != reference_decision(facts)[1]:
            count += 1
    return count


# --------------------------------------------------------------------------- Rego (regorus)


class RegoPeer:
    """``gate.rego`` evaluated in process by regorus.

    ``compiled=True`` (default) compiles the policy once to regorus's RVM bytecode
    (``regorus.Program.compile_from_modules``) and runs it on an ``regorus.Rvm``;
    this is about twice as fast as the tree-walking ``regorus.Engine``, which
    ``compiled=False`` selects (``Engine.eval_rule("data.cpniguard.allow")``).
    Either way the policy is parsed once and each decision is: input as a JSON
    string, then one rule evaluation.
    """

    ALLOW_RULE = "data.cpniguard.allow"
    REASON_RULE = "data.cpniguard.reason"

    def __init__(self, compiled: bool = True, policy_path: Path = REGO_POLICY) -> None:
        import regorus  # type: ignore[import-untyped]

        self.compiled = compiled
        source = policy_path.read_text(encoding="utf-8")
        self._engine = regorus.Engine()
        self._engine.add_policy(policy_path.name, source)
        program = regorus.Program.compile_from_modules(
            "{}", [(policy_path.name, source)], [self.ALLOW_RULE, self.REASON_RULE]
        )
        self._vm = regorus.Rvm()
        self._vm.load_program(program)
        self._vm.set_data_json("{}")
        self.decide: Decide = self._decide_rvm if compiled else self._decide_engine

    def _decide_rvm(self, facts: Facts) -> bool:
        vm = self._vm
        vm.set_input_json(json.dumps(facts))
        # The first entry point (data.cpniguard.allow); the result comes back as JSON text.
        return vm.execute() == "true"  # type: ignore[no-any-return]

    def _decide_engine(self, facts: Facts) -> bool:
        engine = self._engine
        engine.set_input_json(json.dumps(facts))
        return engine.eval_rule(self.ALLOW_RULE) is True

    def reason(self, facts: Facts) -> str:
        """The policy's reason for this decision (``data.cpniguard.reason``)."""
        if self.compiled:
            self._vm.set_input_json(json.dumps(facts))
            return str(json.loads(self._vm.execute_entry_point(self.REASON_RULE)))
        self._engine.set_input_json(json.dumps(facts))
        return str(self._engine.eval_rule(self.REASON_RULE))


# --------------------------------------------------------------------------- pycasbin


def casbin_subject(facts: Facts) -> str:
    """The request subject for the casbin model: one "1"/"0" character per fact, in :data:`FLAGS` order."""
    return "".join("1" if facts[flag] else "0" for flag in FLAGS)


class CasbinPeer:
    """pycasbin with ``gate_casbin_model.conf`` / ``gate_casbin_policy.csv``.

    The request is ``(subject, purpose, "use")`` where the subject is the facts
    as a six-character flag string (see :func:`casbin_subject`); each policy
    line allows one purpose for subjects matching a regular expression
    (``regexMatch``), so all the gate's logic lives in the policy file.
    ``fast=True`` uses ``casbin.FastEnforcer`` indexed on (purpose, action),
    else plain ``casbin.Enforcer`` which scans every policy line.
    """

    ACTION = "use"

    def __init__(
        self,
        fast: bool,
        model_path: Path = CASBIN_MODEL,
        policy_path: Path = CASBIN_POLICY,
    ) -> None:
        import casbin  # type: ignore[import-untyped]

        self.fast = fast
        if fast:
            # cache_key_order indexes request and policy columns alike: 1 = purpose, 2 = action.
            self._enforcer = casbin.FastEnforcer(str(model_path), str(policy_path), cache_key_order=[1, 2])
        else:
            self._enforcer = casbin.Enforcer(str(model_path), str(policy_path))
        self._enforce: Callable[..., bool] = self._enforcer.enforce

    def decide(self, facts: Facts) -> bool:
        return self._enforce(casbin_subject(facts), facts["purpose"], self.ACTION)

    def allow_reason(self, facts: Facts) -> str | None:
        """The reason column of the policy line that allowed this use, or ``None`` when denied."""
        allowed, rule = self._enforcer.enforce_ex(casbin_subject(facts), facts["purpose"], self.ACTION)
        return str(rule[-1]) if allowed and rule else None


# --------------------------------------------------------------------------- Cerbos


def cerbos_binary() -> Path:
    """The Cerbos server binary from the npm package, or a clear error saying how to install it."""
    if CERBOS_BINARY.is_file():
        return CERBOS_BINARY
    raise FileNotFoundError(
        f"Cerbos binary not found at {CERBOS_BINARY}; install it with "
        f"`npm install --prefix {PEERS_DIR / 'node'} {CERBOS_NPM_PACKAGE}`"
    )


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class CerbosServer:
    """A real Cerbos PDP on 127.0.0.1, for use as a context manager.

    Listens for HTTP (and gRPC, unused) on free loopback ports, reads the disk
    policies once (no watching), with audit, telemetry and the gops debug
    listener off and logging at ``error``. ``__enter__`` returns once
    ``/_cerbos/health`` answers SERVING; ``__exit__`` stops the process.
    """

    CHECK_PATH = "/api/check/resources"
    HEALTH_PATH = "/_cerbos/health"
    RESOURCE_KIND = "customer"
    PRINCIPAL: ClassVar[dict[str, Any]] = {"id": "cpni-agent", "roles": ["agent"]}
    MAX_RESOURCES_PER_REQUEST = 50  # Cerbos's default server.requestLimits.maxResourcesPerRequest

    def __init__(
        self,
        policies_dir: Path = CERBOS_POLICIES,
        binary: Path | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.policies_dir = policies_dir.resolve()
        self.binary = binary if binary is not None else cerbos_binary()
        self.startup_timeout = startup_timeout
        self.host = "127.0.0.1"
        self.port = 0
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: http.client.HTTPConnection | None = None

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{self.host}:{self.port}"

    @property
    def check_url(self) -> str:
        return self.url + self.CHECK_PATH

    def _config(self, http_port: int, grpc_port: int) -> str:
        config = {
            "server": {
                "httpListenAddr": f"{self.host}:{http_port}",
                "grpcListenAddr": f"{self.host}:{grpc_port}",
                "requestLimits": {
                    "maxActionsPerResource": 50,
                    "maxResourcesPerRequest": 50,
                },
            },
            "storage": {
                "driver": "disk",
                "disk": {"directory": str(self.policies_dir), "watchForChanges": False},
            },
            "audit": {"enabled": False},
            "telemetry": {"disabled": True},
        }
        return json.dumps(config, indent=2)  # JSON is valid YAML

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("Cerbos server already started")
        http_port, grpc_port = _free_ports(2)
        self._workdir = Path(tempfile.mkdtemp(prefix="cerbos-peer-"))
        config_path = self._workdir / "cerbos.yaml"
        config_path.write_text(self._config(http_port, grpc_port), encoding="utf-8")
        log = (self._workdir / "cerbos.log").open("wb")
        env = dict(os.environ, CERBOS_NO_TELEMETRY="1")
        command = [
            str(self.binary),
            "server",
            f"--config={config_path}",
            "--debug-listen-addr=",  # empty: no gops listener (default :6666 on all interfaces)
            "--log-level=error",
        ]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self._workdir,
        )
        log.close()
        self.port = http_port
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _log_tail(self) -> str:
        if self._workdir is None:
            return ""
        path = self._workdir / "cerbos.log"
        return path.read_text(encoding="utf-8", errors="replace")[-2000:] if path.exists() else ""

    def _wait_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Cerbos exited with {self._process.returncode}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(self.url + self.HEALTH_PATH, timeout=1.0) as response:
                    if json.loads(response.read()).get("status") == "SERVING":
                        return
            except (OSError, urllib.error.URLError, ValueError):
                pass
            time.sleep(0.05)
        raise TimeoutError(f"Cerbos not healthy after {self.startup_timeout} s:\n{self._log_tail()}")

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(timeout=10)
            self._process = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- requests

    @classmethod
    def resource_entry(cls, facts: Facts, resource_id: str = "c0") -> dict[str, Any]:
        """One entry of a CheckResources request: the purpose as its only action, the flags as attributes."""
        return {
            "actions": [facts["purpose"]],
            "resource": {
                "kind": cls.RESOURCE_KIND,
                "id": resource_id,
                "attr": {flag: bool(facts[flag]) for flag in FLAGS},
            },
        }

    @classmethod
    def request_body(cls, facts_list: Sequence[Facts]) -> bytes:
        """A CheckResources request body for these facts (one resource entry each, ids c0, c1, ...)."""
        body = {
            "principal": cls.PRINCIPAL,
            "resources": [cls.resource_entry(facts, f"c{i}") for i, facts in enumerate(facts_list)],
        }
        return json.dumps(body, separators=(",", ":")).encode()

    def _post(self, body: bytes) -> dict[str, Any]:
        """POST to /api/check/resources on a kept-alive connection (reconnecting once if it dropped)."""
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self._conn.request("POST", self.CHECK_PATH, body, {"Content-Type": "application/json"})
                response = self._conn.getresponse()
                payload = response.read()
            except (http.client.HTTPException, ConnectionError):
                self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise
                continue
            if response.status != HTTPStatus.OK:
                raise RuntimeError(f"Cerbos answered {response.status}: {payload[:500]!r}")
            result: dict[str, Any] = json.loads(payload)
            return result
        raise AssertionError("unreachable")

    def check(self, facts: Facts) -> bool:
        """One decision, one HTTP request."""
        result = self._post(self.request_body([facts]))["results"][0]
        return bool(result["actions"][facts["purpose"]] == "EFFECT_ALLOW")

    def check_batch(self, facts_list: Sequence[Facts]) -> list[bool]:
        """Many decisions, one HTTP request per 50 (each resource entry carries its own purpose)."""
        decisions: list[bool] = []
        step = self.MAX_RESOURCES_PER_REQUEST
        for start in range(0, len(facts_list), step):
            chunk = facts_list[start : start + step]
            results = self._post(self.request_body(chunk))["results"]
            # Results come back in request order; check ids to be sure.
            for i, (facts, result) in enumerate(zip(chunk, results, strict=True)):
                if result["resource"]["id"] != f"c{i}":
                    raise RuntimeError(f"Cerbos result {i} is for {result['resource']['id']}")
                decisions.append(result["actions"][facts["purpose"]] == "EFFECT_ALLOW")
        return decisions

    def write_wrk_lua(self, path: Path | str, facts_list: Sequence[Facts], limit: int = 1000) -> Path:
        """Write a wrk script that POSTs single-resource checks to /api/check/resources.

        The script rotates through the first ``limit`` of ``facts_list`` (requests
        pre-formatted in ``init``). Run it as
        ``wrk -t2 -c16 -d5s --latency -s PATH {self.check_url}`` (see :func:`run_wrk`).
        """
        if not facts_list:
            raise ValueError("facts_list is empty")
        bodies = [self.request_body([facts]).decode() for facts in facts_list[:limit]]
        for body in bodies:
            if "]==]" in body:
                raise ValueError("request body cannot be put in a Lua long string")
        lines = [
            "-- wrk script: POST rotating Cerbos CheckResources requests (one resource each).",
            "-- Generated by benchmarks/peers/policies.py CerbosServer.write_wrk_lua.",
            "local bodies = {",
            *(f"  [==[{body}]==]," for body in bodies),
            "}",
            "local requests = {}",
            "local counter = 0",
            "",
            "function init(args)",
            '  local headers = {["Content-Type"] = "application/json"}',
            "  for i, body in ipairs(bodies) do",
            '    requests[i] = wrk.format("POST", nil, headers, body)',
            "  end",
            "  -- Start each thread at a different place in the rotation.",
            "  counter = math.random(#requests) - 1",
            "end",
            "",
            "function request()",
            "  counter = counter % #requests + 1",
            "  return requests[counter]",
            "end",
            "",
        ]
        target = Path(path)
        target.write_text("\n".join(lines), encoding="utf-8")
        return target


def run_wrk(
    url: str,
    script: Path | str,
    threads: int = 2,
    connections: int = 16,
    duration_s: int = 5,
    latency: bool = True,
) -> str:
    """Run wrk (Debian package ``wrk``) against a loopback URL for a bounded time; returns its summary."""
    if not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise ValueError(f"wrk is only pointed at loopback addresses, not {url}")
    wrk = shutil.which("wrk")
    if wrk is None:
        raise FileNotFoundError("wrk not found; install it with `apt-get install -y wrk`")
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "-s",
        str(script),
    ]
    if latency:
        command.append("--latency")
    command.append(url)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 30, check=True)
    return completed.stdout


def parse_wrk_requests_per_second(summary: str) -> float | None:
    """The ``Requests/sec:`` figure from a wrk summary, if present."""
    for line in summary.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split(":", 1)[1])
    return None
