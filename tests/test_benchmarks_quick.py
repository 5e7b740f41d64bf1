"""The benchmark harness runs end to end in its quick mode (a smoke run; no timings asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("regorus", reason="benchmark peers not installed (bash benchmarks/peers/install.sh)")
pytest.importorskip("casbin", reason="benchmark peers not installed (bash benchmarks/peers/install.sh)")

REPO = Path(__file__).resolve().parents[1]
KEYS = {"name", "value", "unit", "baseline", "ratio", "target", "met"}


@pytest.mark.slow
def test_the_quick_benchmark_run_writes_a_results_file_for_every_area(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(output.read_text())
    assert all(set(r) == KEYS for r in results)
    names = {r["name"] for r in results}
    assert {"decision.in_process.vs_rego", "decision.in_process.vs_casbin_fast"} <= names
    assert {"audit.append.batched_sqlite", "audit.verify_sqlite", "decision.batch.vs_cerbos_batched"} <= names
    assert any(n.startswith("decision.http.") for n in names)
    assert any(n.startswith("demo.") for n in names)
    assert {
        "notifications.outbox.delivered_per_s",
        "credentials.argon2.verify_ms",
        "credentials.argon2.dummy_verify_ms",
    } <= names
    in_process = [r for r in results if r["name"].startswith("decision.in_process.")]
    assert all("VOID" not in r["baseline"] for r in in_process), "an engine disagrees with the reference gate"
    checked = [r for r in results if r["name"].startswith(("notifications.outbox.", "credentials."))]
    assert all("VOID" not in r["baseline"] for r in checked), "a delivery or a verification went wrong"
    assert "decision.in_process.vs_rego" in done.stdout  # the table is printed too
