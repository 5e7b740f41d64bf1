"""`cpniguard backup` and `cpniguard restore` on both backends: the data and a verifiable ledger
come back as they were at backup time; anything else is refused with exit 2 and one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from cpniguard.db.engine import application_name, make_engine
from tests.e2e.test_cli import Cli, new_customer


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # the audit key file is made in the working directory
    tool = Cli(database_url, capsys)
    assert tool("init")[0] == 0
    return tool


def ledger_actions(cli: Cli) -> list[str]:
    return [e["action"] for e in cli.json("audit", "search", "--limit", "1000")]


def test_a_restore_brings_back_the_data_of_backup_time_and_the_ledger_verifies(cli: Cli, tmp_path: Path) -> None:
    kept = new_customer(cli)
    cli.json("consent", "record", kept, "opt-in", "--channel", "web")
    cli.json("check", kept, "--purpose", "marketing-third-party")
    cli.json("check", kept, "--purpose", "billing")
    entries_at_backup = cli.json("audit", "verify")["entries"]
    made = cli.json("backup", "--out", str(tmp_path / "cpniguard.backup"))
    assert made["bytes"] > 0 and len(made["sha256"]) == 64

    later = new_customer(cli, "--name", "Grace Hopper")
    cli.json("consent", "record", kept, "opt-out", "--channel", "phone")
    restored = cli.json("restore", made["backup"], "--force")

    assert restored["sha256"] == made["sha256"] and restored["recorded"] is True
    verified = cli.json("audit", "verify")
    assert verified["ok"] is True and verified["entries"] == entries_at_backup + 1
    assert ledger_actions(cli)[0] == "admin:backup:restored"
    assert "admin:backup:made" not in ledger_actions(cli)  # recorded after the copy was taken
    assert [e["event"] for e in cli.json("consent", "show", kept)["history"]] == ["opt-in"]
    assert cli.json("check", kept, "--purpose", "marketing-third-party")["allowed"] is True
    code, _, err = cli("customers", "show", later)
    assert code == 2 and err.count("\n") == 1


def test_a_restore_refuses_a_database_that_is_not_empty_without_force(cli: Cli, tmp_path: Path) -> None:
    new_customer(cli)
    made = cli.json("backup", "--out", str(tmp_path / "b"))
    code, out, err = cli("restore", made["backup"])
    assert code == 2 and out == "" and "not empty" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "cannot read"), (b"just some text\n", "not a cpniguard backup"), (b"", "not a cpniguard backup")],
)
def test_a_restore_refuses_what_is_not_a_backup_and_changes_nothing(
    cli: Cli, tmp_path: Path, content: bytes | None, problem: str
) -> None:
    cid = new_customer(cli)
    source = tmp_path / "not-a-backup"
    if content is not None:
        source.write_bytes(content)
    code, _, err = cli("restore", str(source), "--force")
    assert code == 2 and problem in err and err.count("\n") == 1
    assert cli.json("customers", "show", cid)["id"] == cid
    assert cli.json("audit", "verify")["ok"] is True


def test_a_backup_into_a_missing_directory_is_refused_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("backup", "--out", str(tmp_path / "nowhere" / "b"))
    assert code == 2 and "no such directory" in err
    assert not (tmp_path / "nowhere").exists()


def test_a_backup_fails_cleanly_without_pg_dump_and_leaves_no_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not cli.url.startswith("postgresql"):
        pytest.skip("SQLite needs no outside tool")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr("cpniguard.db.backup._pg_bin", lambda tool: None)
    code, _, err = cli("backup", "--out", str(tmp_path / "b"))
    assert code == 2 and "pg_dump not found" in err
    assert list(tmp_path.glob("*b*")) == []


def test_a_backup_of_one_backend_is_refused_by_the_other(cli: Cli, tmp_path: Path) -> None:
    other = tmp_path / "other"
    header = b"PGDMP\x01\x0e\x00" if cli.url.startswith("sqlite") else b"SQLite format 3\x00"
    other.write_bytes(header + b"\x00" * 100)
    code, _, err = cli("restore", str(other), "--force")
    assert code == 2 and "not" in err and err.count("\n") == 1


def test_a_restore_on_postgresql_waits_for_the_api_and_workers_to_stop(cli: Cli, tmp_path: Path) -> None:
    """A running process of the same data (its connections are named for it) stops a restore
    with exit 2 and nothing changed; once it is gone, the same restore goes through."""
    if cli.url.startswith("sqlite"):
        pytest.skip("PostgreSQL names its sessions; SQLite's restore runs under the file's own locks")
    kept = new_customer(cli)
    made = cli.json("backup", "--out", str(tmp_path / "b"))
    later = new_customer(cli, "--name", "Grace Hopper")
    running = make_engine(cli.url)  # as `cpniguard serve` or `cpniguard worker` would hold one
    try:
        with running.connect():
            code, out, err = cli("restore", made["backup"], "--force")
            assert code == 2 and out == "" and err.count("\n") == 1
            assert "1 other cpniguard connection(s)" in err and "stop the API and the workers" in err
            assert cli("customers", "show", later)[0] == 0  # nothing was restored
    finally:
        running.dispose()
    assert cli.json("restore", made["backup"], "--force")["recorded"] is True
    assert cli("customers", "show", later)[0] == 2 and cli("customers", "show", kept)[0] == 0
    # A dump carries no planner statistics: the restore analyses what it brought back.
    with running.connect() as conn:
        analysed = conn.execute(
            text("SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'audit_entries'")
        ).scalar_one()
    running.dispose()
    assert analysed > 0


def test_each_schema_s_processes_are_named_apart() -> None:
    assert application_name("postgresql://h/db") == "cpniguard"
    assert application_name("postgresql://h/db?options=-c%20search_path%3Dt_1") == "cpniguard/t_1"
