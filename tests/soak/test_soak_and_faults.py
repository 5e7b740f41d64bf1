"""The soak and the faults as a test (`make soak`; docs/RELIABILITY.md): two API processes and
two delivery processes on PostgreSQL under steady mixed traffic, then kill -9 of an API process,
kill -9 of a delivery process holding a lease, a PostgreSQL restart and an SMTP server refusing
connections; nothing answered may be lost, no notice missing or sent twice unrecorded, the
ledger must verify and memory must not grow by more than 10% (benchmarks/soak.py).

It takes minutes and restarts the PostgreSQL server, so it is not part of `make test`: it runs
only with `-m soak` (SOAK_SECONDS and SOAK_FAULT_SECONDS set the phases). The harness starts a
PostgreSQL server of its own to restart; SOAK_SHARED_POSTGRES=1 uses the test server instead,
without the restart."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from benchmarks import soak

from tests.conftest import postgres_problem

pytestmark = [pytest.mark.soak, pytest.mark.postgres]


def test_soak_and_faults_lose_nothing_and_the_ledger_verifies(tmp_path: Path) -> None:
    shared = os.environ.get("SOAK_SHARED_POSTGRES") == "1"
    if shared and (problem := postgres_problem()):
        pytest.skip(f"PostgreSQL: {problem}")
    if not shared and not (soak.PG_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL server binaries in {soak.PG_BIN} (set CPNIGUARD_PG_BIN)")
    output = tmp_path / "soak.json"
    args = [
        "--seconds",
        os.environ.get("SOAK_SECONDS", "180"),
        "--fault-seconds",
        os.environ.get("SOAK_FAULT_SECONDS", "240"),
        "--output",
        str(output),
    ]
    if shared:
        args.append("--shared-postgres")
    code = soak.main(args)
    report = json.loads(output.read_text())
    assert report["problems"] == [] and code == 0
    assert report["checks"]["decisions answered"] > 0 and report["checks"]["contact changes answered"] > 0
    assert report["checks"]["audit verify"]["ok"] is True
