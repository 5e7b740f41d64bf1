"""The campaign workflow through the CLI: --json out, the CSV export, refusals exit 2 with one line."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

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
    made = cli.json(
        "campaigns",
        "create",
        "--name",
        "Spring fiber",
        "--offer",
        "Fiber upgrade",
        "--description",
        "Fiber for copper customers",
        "--by",
        "mia",
        *extra,
    )
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
        "campaigns",
        "create",
        "--name",
        "X",
        "--purpose",
        "marketing-communications",
        "--offer",
        "Y",
        "--description",
        "Z",
        "--by",
        "cora",
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


def approved_and_exported(cli: Cli, tmp_path: Path) -> str:
    a_customer(cli, 1, "opt-in")
    a_customer(cli, 2)
    cid = create(cli, "--purpose", "marketing-third-party", "--recipient", "third-party", "--cpni", "usage")
    cli.json("campaigns", "submit", cid, "--by", "mia")
    cli.json("campaigns", "approve", cid, "--by", "cora", "--reason", "opt-in basis checked")
    cli.json("campaigns", "audience", cid)
    cli.json("campaigns", "export", cid, "--out", str(tmp_path / "audience.csv"))
    return cid


def test_safe_3_a_campaign_is_completed_and_archived_and_its_record_keeps_history_counts_and_disclosures(
    cli: Cli, tmp_path: Path
) -> None:
    cid = approved_and_exported(cli, tmp_path)
    assert "the campaign is running: its frozen audience is the record" in refused(cli, "campaigns", "audience", cid)
    assert "a running campaign cannot become archived" in refused(cli, "campaigns", "archive", cid, "--by", "mia")
    done = cli.json("campaigns", "complete", cid, "--by", "mia", "--reason", "offer period over")
    assert done["status"] == "completed" and done["completed_at"] is not None
    assert "a completed campaign cannot become completed" in refused(cli, "campaigns", "complete", cid, "--by", "mia")
    assert cli.json("campaigns", "archive", cid, "--by", "cora")["status"] == "archived"
    shown = cli.json("campaigns", "show", cid)
    assert [h["status"] for h in shown["history"]][-2:] == ["completed", "archived"]
    assert shown["history"][-2]["reason"] == "offer period over" and shown["completed_at"] == done["completed_at"]
    assert (shown["audience"], shown["excluded"], shown["disclosures"]) == (1, {"opt-in required": 1}, 1)
    out = tmp_path / "disclosures.csv"
    [disclosed] = cli.json("campaigns", "disclosures", cid, "--csv", str(out))
    assert (disclosed["recipient"], disclosed["categories"], disclosed["campaign_id"]) == ("third-party", "usage", cid)
    with out.open(newline="", encoding="utf-8") as handle:
        assert [row["customer_id"] for row in csv.DictReader(handle)] == [disclosed["customer_id"]]
    code, text, _ = cli("campaigns", "show", cid)
    assert code == 0 and "\nexcluded:\n  opt-in required: 1\n" in text


def test_a_rejected_campaign_is_on_record_with_the_reason_and_can_only_be_archived(cli: Cli) -> None:
    cid = create(cli, "--purpose", "marketing-communications")
    cli.json("campaigns", "submit", cid, "--by", "mia")
    assert "the cro or supervisor role is needed" in refused(
        cli, "campaigns", "reject", cid, "--by", "mia", "--reason", "no"
    )
    rejected = cli.json("campaigns", "reject", cid, "--by", "cora", "--reason", "no opt-out notices on file")
    assert rejected["status"] == "rejected"
    assert "a rejected campaign cannot become approved" in refused(
        cli, "campaigns", "approve", cid, "--by", "cora", "--reason", "changed my mind"
    )
    assert "only an approved campaign builds an audience" in refused(cli, "campaigns", "audience", cid)
    assert cli.json("campaigns", "show", cid)["history"][-1] == {
        **cli.json("campaigns", "show", cid)["history"][-1],
        "status": "rejected",
        "by": "cora",
        "reason": "no opt-out notices on file",
    }
    assert cli.json("campaigns", "archive", cid, "--by", "mia", "--reason", "rejected")["status"] == "archived"


def test_an_unknown_channel_and_a_missing_description_are_refused_with_one_line(cli: Cli) -> None:
    err = refused(
        cli, "campaigns", "create", "--name", "X", "--purpose", "marketing-communications", "--offer", "Y",
        "--channel", "fax", "--by", "mia",
    )  # fmt: skip
    assert "unknown channel 'fax' (one of: email, mail, phone, sms)" in err
    assert cli.json("campaigns", "list") == []
    made = cli.json(
        "campaigns", "create", "--name", "X", "--purpose", "marketing-communications", "--offer", "Y", "--by", "mia"
    )
    err = refused(cli, "campaigns", "submit", str(made["id"]), "--by", "mia")
    assert "the campaign record needs a description (SAFE-3" in err
    assert cli.json("campaigns", "show", str(made["id"]))["status"] == "draft"


def test_the_audience_is_decided_for_the_moment_given_with_at_and_built_again_until_the_first_export(cli: Cli) -> None:
    made = cli.json(
        "customers", "add", "--name", "Ada", "--phone", "+12025554001", "--email", "ada@example.com",
        "--service", "local", "--at", "2026-01-05",
    )  # fmt: skip
    cli.json("consent", "record", str(made["id"]), "opt-in", "--channel", "web", "--at", "2026-06-01")
    cid = create(cli, "--purpose", "marketing-communications")
    cli.json("campaigns", "submit", cid, "--by", "mia")
    cli.json("campaigns", "approve", cid, "--by", "cora", "--reason", "ok")
    before = cli.json("campaigns", "audience", cid, "--at", "2026-03-01")
    assert (before["included"], before["excluded"]) == (0, {"no approval on record": 1})
    assert cli.json("campaigns", "show", cid)["audience_for"] == "2026-03-01T05:00:00+00:00"  # midnight, Eastern
    after = cli.json("campaigns", "audience", cid, "--at", "2026-07-01T09:30")
    assert (after["included"], after["excluded"]) == (1, {})
    shown = cli.json("campaigns", "show", cid)
    assert (shown["audience"], shown["audience_for"]) == (1, "2026-07-01T13:30:00+00:00")
    err = refused(cli, "campaigns", "audience", cid, "--at", "next tuesday")
    assert "not an ISO 8601 date or date-time: 'next tuesday'" in err


def test_safe_3_the_campaign_report_is_written_as_csv_and_pdf(cli: Cli, tmp_path: Path) -> None:
    cid = approved_and_exported(cli, tmp_path)
    out_csv, out_pdf = tmp_path / "report.csv", tmp_path / "report.pdf"
    [row] = cli.json("campaigns", "report", "--csv", str(out_csv), "--pdf", str(out_pdf))
    assert (row["campaign"], row["audience"], row["excluded"], row["disclosures"]) == (
        cid,
        "1",
        "opt-in required: 1",
        "1",
    )
    with out_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [row]
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(out_pdf).pages).split())
    assert re.match(r"CPNI marketing campaigns \(SAFE-3\) Made \S+-0[45]:00 ", text)  # made, in Eastern time
    assert "Spring fiber" in text and "opt-in required: 1" in text and "approved by cora on" in text
    assert "no such folder" in refused(cli, "campaigns", "report", "--pdf", str(tmp_path / "nowhere" / "r.pdf"))
