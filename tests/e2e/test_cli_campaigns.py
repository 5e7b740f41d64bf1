"""The campaign workflow through the CLI: --json out, the CSV export, refusals exit 2 with one line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.e2e.test_cli import Cli


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # the audit key file is made in the working directory
    tool = Cli(database_url, capsys)
    assert tool("init")[0] == 0
    for name, role in [("mia", "marketing"), ("cora", "cro"), ("al", "agent")]:
        trained(tool, name)
        assert tool.json("users", "add", "--name", name, "--role", role)["roles"] == [role]
    return tool


def trained(cli: Cli, name: str) -> None:
    """SAFE-2: staff are trained before they get a role that opens CPNI."""
    cli.json(
        "training",
        "add",
        "--name",
        name,
        "--course",
        "CPNI basics",
        "--completed",
        "2026-01-15",
        "--expires",
        "2099-01-15",
    )


def a_customer(cli: Cli, n: int, *consent: str) -> str:
    made = cli.json(
        "customers",
        "add",
        "--name",
        f"Customer {n}",
        "--phone",
        f"+1202555{4000 + n}",
        "--email",
        f"customer{n}@example.com",  # the campaigns reach customers by email
        "--service",
        "local",
    )
    for event in consent:
        cli.json("consent", "record", str(made["id"]), event, "--channel", "web")
    return str(made["id"])


def create(cli: Cli, *extra: str) -> str:
    made = cli.json("campaigns", "create", "--name", "Spring fiber", "--offer", "Fiber upgrade", "--by", "mia", *extra)
    assert made["status"] == "draft" and made["owner"] == "mia"
    return str(made["id"])


def refused(cli: Cli, *args: str) -> str:
    code, out, err = cli(*args)
    assert code == 2 and out == "", (code, out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_a_third_party_campaign_runs_from_create_to_a_csv_export(cli: Cli, tmp_path: Path) -> None:
    opted_in = a_customer(cli, 1, "opt-in")
    a_customer(cli, 2)
    a_customer(cli, 3, "opt-in", "opt-in-revoked")
    cid = create(cli, "--purpose", "marketing-third-party", "--recipient", "third-party", "--cpni", "usage")
    submitted = cli.json("campaigns", "submit", cid, "--by", "mia")
    assert submitted["status"] == "submitted" and submitted["customer_approval_needed"] == "opt-in"
    approved = cli.json("campaigns", "approve", cid, "--by", "cora", "--reason", "opt-in basis checked")
    assert approved["status"] == "approved" and approved["submitted_by"] == "mia"
    built = cli.json("campaigns", "audience", cid)
    assert built["included"] == 1 and sum(built["excluded"].values()) == 2
    out = tmp_path / "audience.csv"
    done = cli.json("campaigns", "export", cid, "--out", str(out))
    assert done["customers"] == 1 and done["disclosures"] == 1 and done["removed_since_build"] == {}
    with out.open(newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [
            ["campaign_id", "customer_id", "name", "language", "contact"],
            [cid, opted_in, "Customer 1", "en", "customer1@example.com"],
        ]
    shown = cli.json("campaigns", "show", cid)
    assert shown["status"] == "running" and shown["disclosures"] == 1 and shown["audience"] == 1
    assert [(h["status"], h["by"]) for h in shown["history"]][:3] == [
        ("draft", "mia"),
        ("submitted", "mia"),
        ("approved", "cora"),
    ]
    assert shown["history"][3]["status"] == "running"


def test_an_objection_after_the_build_keeps_the_customer_out_of_the_csv(cli: Cli, tmp_path: Path) -> None:
    first = a_customer(cli, 1, "opt-in")
    second = a_customer(cli, 2, "opt-in")
    cid = create(cli, "--purpose", "marketing-communications")
    cli.json("campaigns", "submit", cid, "--by", "mia")
    cli.json("campaigns", "approve", cid, "--by", "cora", "--reason", "ok")
    assert cli.json("campaigns", "audience", cid)["included"] == 2
    cli.json("consent", "record", second, "opt-out", "--channel", "phone")
    out = tmp_path / "a.csv"
    done = cli.json("campaigns", "export", cid, "--out", str(out))
    assert done["customers"] == 1 and done["disclosures"] == 0
    assert sum(done["removed_since_build"].values()) == 1
    with out.open(newline="", encoding="utf-8") as handle:
        assert [row[1] for row in csv.reader(handle)] == ["customer_id", first]


def test_refusals_exit_2_with_one_line_and_change_nothing(cli: Cli, tmp_path: Path) -> None:
    cid = create(cli, "--purpose", "marketing-communications")
    assert "only an approved campaign builds an audience" in refused(cli, "campaigns", "audience", cid)
    cli.json("campaigns", "submit", cid, "--by", "mia")
    assert "the cro or supervisor role is needed" in refused(
        cli, "campaigns", "approve", cid, "--by", "al", "--reason", "ok"
    )
    assert "the cro or supervisor role is needed" in refused(
        cli, "campaigns", "approve", cid, "--by", "mia", "--reason", "ok"
    )
    assert "unknown user: 'nobody'" in refused(cli, "campaigns", "approve", cid, "--by", "nobody", "--reason", "ok")
    assert "unknown user: 'nobody'" in refused(
        cli,
        "campaigns",
        "create",
        "--name",
        "X",
        "--purpose",
        "marketing-communications",
        "--offer",
        "Y",
        "--by",
        "nobody",
    )
    assert cli.json("campaigns", "show", cid)["status"] == "submitted"
    assert len(cli.json("campaigns", "show", cid)["history"]) == 2
    missing = tmp_path / "no-such-folder" / "a.csv"
    assert "no folder" in refused(cli, "campaigns", "export", cid, "--out", str(missing))


def test_a_cro_cannot_approve_the_campaign_they_submitted(cli: Cli) -> None:
    made = cli.json(
        "campaigns", "create", "--name", "X", "--purpose", "marketing-communications", "--offer", "Y", "--by", "cora"
    )
    cli.json("campaigns", "submit", str(made["id"]), "--by", "cora")
    err = refused(cli, "campaigns", "approve", str(made["id"]), "--by", "cora", "--reason", "mine")
    assert "cannot be approved by the person who made or submitted it" in err


def test_an_unlawful_design_is_refused_at_submission_and_stays_a_draft(cli: Cli) -> None:
    cid = create(cli, "--purpose", "marketing-communications", "--recipient", "joint-venture")
    err = refused(cli, "campaigns", "submit", cid, "--by", "mia")
    assert "unlawful design" in err and "need opt-in approval" in err
    assert cli.json("campaigns", "show", cid)["status"] == "draft"
    err = refused(cli, "campaigns", "create", "--name", "X", "--purpose", "marketing-communications", "--offer", "Y")
    assert "--by" in err
