"""Check every peer against the reference purpose gate and give rough timings.

Run from the repository root::

    .venv/bin/python benchmarks/peers/selfcheck.py [--inputs 2000] [--timed 20000] [--no-wrk]

Prints mismatches per peer (all must be 0), rough microseconds per decision for
the in-process peers, Cerbos throughput for single and batched (50) checks from
this Python client over about 2 s each, and a 5 s wrk run (2 threads, 16
connections, loopback) against Cerbos. Exits 1 if any peer mismatches.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from policies import (
    CasbinPeer,
    CerbosServer,
    Decide,
    RegoPeer,
    make_inputs,
    mismatches,
    parse_wrk_requests_per_second,
    reason_mismatches,
    reference_decide,
    run_wrk,
)


def us_per_decision(decide: Decide, inputs: Sequence[dict[str, Any]], total: int) -> float:
    """Best of three passes of ``total`` decisions cycling through ``inputs``, in microseconds each."""
    batch = [inputs[i % len(inputs)] for i in range(total)]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for facts in batch:
            decide(facts)
        best = min(best, time.perf_counter() - start)
    return best / total * 1e6


def throughput(call: Callable[[int], int], seconds: float) -> float:
    """Run ``call(i)`` (which returns decisions made) for about ``seconds``; decisions per second."""
    decisions = 0
    i = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        decisions += call(i)
        i += 1
    return decisions / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--inputs",
        type=int,
        default=2000,
        help="random inputs checked against the reference",
    )
    parser.add_argument(
        "--timed",
        type=int,
        default=20000,
        help="decisions per timing pass (in-process peers)",
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each Cerbos client run")
    parser.add_argument("--wrk-seconds", type=int, default=5, help="duration of the wrk run")
    parser.add_argument("--no-wrk", action="store_true", help="skip the wrk run")
    args = parser.parse_args(argv)

    inputs = make_inputs(args.inputs, seed=20240601)
    failed = False

    rego = RegoPeer(compiled=True)
    rego_engine = RegoPeer(compiled=False)
    casbin_fast = CasbinPeer(fast=True)
    casbin_plain = CasbinPeer(fast=False)
    in_process: list[tuple[str, Decide]] = [
        ("reference (plain Python)", reference_decide),
        ("rego: regorus RVM (compiled)", rego.decide),
        ("rego: regorus Engine", rego_engine.decide),
        ("casbin: FastEnforcer", casbin_fast.decide),
        ("casbin: Enforcer", casbin_plain.decide),
    ]

    print(f"{'peer':32} {'mismatches':>10} {'us/decision':>12}")
    for name, decide in in_process:
        bad = mismatches(decide, inputs)
        failed |= bad != 0
        print(f"{name:32} {bad:>10} {us_per_decision(decide, inputs, args.timed):>12.2f}")
    print(
        "reason mismatches: "
        f"rego RVM {reason_mismatches(rego.reason, inputs)}, "
        f"rego Engine {reason_mismatches(rego_engine.reason, inputs)}, "
        f"casbin FastEnforcer (allowed only) {reason_mismatches(casbin_fast.allow_reason, inputs)}, "
        f"casbin Enforcer (allowed only) {reason_mismatches(casbin_plain.allow_reason, inputs)}"
    )

    with CerbosServer() as cerbos:
        print(f"\nCerbos at {cerbos.url}")
        bad_single = mismatches(cerbos.check, inputs)
        batched = cerbos.check_batch(inputs)
        bad_batch = sum(1 for facts, allowed in zip(inputs, batched, strict=True) if allowed != reference_decide(facts))
        failed |= bad_single != 0 or bad_batch != 0
        print(f"{'cerbos: single check':32} {bad_single:>10}")
        print(f"{'cerbos: batched 50':32} {bad_batch:>10}")

        chunks = [inputs[i : i + 50] for i in range(0, len(inputs) - 49, 50)]

        def one_check(i: int) -> int:
            cerbos.check(inputs[i % len(inputs)])
            return 1

        single = throughput(one_check, args.seconds)
        batch = throughput(lambda i: len(cerbos.check_batch(chunks[i % len(chunks)])), args.seconds)
        print(f"cerbos single check (python client, 1 conn): {single:,.0f} decisions/s ({1e6 / single:,.0f} us each)")
        print(f"cerbos batched 50   (python client, 1 conn): {batch:,.0f} decisions/s")

        if not args.no_wrk:
            with tempfile.TemporaryDirectory(prefix="cerbos-wrk-") as tmp:
                script = cerbos.write_wrk_lua(Path(tmp) / "cerbos_check.lua", inputs)
                summary = run_wrk(
                    cerbos.check_url,
                    script,
                    threads=2,
                    connections=16,
                    duration_s=args.wrk_seconds,
                )
            print(f"\nwrk -t2 -c16 -d{args.wrk_seconds}s --latency {cerbos.check_url}")
            print(summary.rstrip())
            rps = parse_wrk_requests_per_second(summary)
            if rps is not None:
                print(f"cerbos via wrk: {rps:,.0f} single-check requests/s")
            if "Non-2xx" in summary:
                print("wrk saw non-2xx responses: the load run is void")
                failed = True

    print("\nFAILED: a peer disagrees with the reference" if failed else "\nall peers agree with the reference")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
