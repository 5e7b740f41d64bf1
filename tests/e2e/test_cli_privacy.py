"""The privacy office through the CLI: policies, complaints, brokers, training and users' roles.
Refusals exit 2 with one line on stderr and write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_cli import Cli


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # the audit key file is made in the working directory
    monkeypatch.setenv("CPNIGUARD_DISCIPLINE_POLICY_ID", "HR-7.3")
    tool = Cli(database_url, capsys)
    assert tool("init")[0] == 0
    return tool


def refused(cli: Cli, *args: str) -> str:
    code, out, err = cli(*args)
    assert code == 2 and out == "", (code, out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def policy_file(tmp_path: Path, text: str | bytes, name: str = "policy.md") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def publish(cli: Cli, version: str, effective: str, file: str, *extra: str) -> tuple[int, str, str]:
    args = ["policies", "publish", "--version", version, "--language", "en", "--effective", effective]
    return cli(*args, "--file", file, "--summary", "What changed", *extra)


def test_a_policy_is_published_listed_and_shown_in_force(cli: Cli, tmp_path: Path) -> None:
    file = policy_file(tmp_path, "# Our policy\n\nWe protect your CPNI.\n")
    made = cli.json(
        "policies",
        "publish",
        "--version",
        "1.0",
        "--language",
        "en",
        "--effective",
        "2026-01-01",
        "--file",
        file,
        "--summary",
        "First version",
    )
    assert made["version"] == "1.0" and made["notices_queued"] == 0 and not made["material"]
    later = publish(cli, "2.0", "2099-01-01", file, "--material", "--json")
    assert later[0] == 0
    assert [v["version"] for v in cli.json("policies", "list")] == ["1.0", "2.0"]
    shown = cli.json("policies", "show", "--language", "en")
    assert shown["version"] == "1.0" and "We protect your CPNI." in shown["text"]
    assert cli.json("policies", "show", "--at", "2099-01-02")["version"] == "2.0"
    assert "no privacy policy in de" in refused(cli, "policies", "show", "--language", "de")


def test_bad_policy_input_is_refused_with_one_line_and_nothing_written(cli: Cli, tmp_path: Path) -> None:
    good = policy_file(tmp_path, "# Policy\n")
    assert publish(cli, "2.0", "2026-02-01", good)[0] == 0
    assert "published already" in refused(
        cli,
        "policies",
        "publish",
        "--version",
        "2.0",
        "--language",
        "en",
        "--effective",
        "2026-03-01",
        "--file",
        good,
        "--summary",
        "x",
    )
    assert "before that of version 2.0" in refused(*_publish_args(cli, "2.1", "2026-01-01", good))
    assert "not UTF-8" in refused(*_publish_args(cli, "2.1", "2026-03-01", policy_file(tmp_path, b"\xff\xfe#", "b.md")))
    assert "text is empty" in refused(*_publish_args(cli, "2.1", "2026-03-01", policy_file(tmp_path, "\n \n", "e.md")))
    assert "cannot read" in refused(*_publish_args(cli, "2.1", "2026-03-01", str(tmp_path / "missing.md")))
    assert "must be a date" in refused(*_publish_args(cli, "2.1", "March", good))
    fr = ["policies", "publish", "--version", "2.1", "--language", "fr", "--effective", "2026-03-01"]
    assert "unknown language 'fr'" in refused(cli, *fr, "--file", good, "--summary", "x")
    assert [v["version"] for v in cli.json("policies", "list")] == ["2.0"]


def _publish_args(cli: Cli, version: str, effective: str, file: str) -> list[object]:
    args = ["policies", "publish", "--version", version, "--language", "en", "--effective", effective]
    return [cli, *args, "--file", file, "--summary", "x"]


def test_cert_3_complaints_are_added_closed_listed_and_counted(cli: Cli) -> None:
    made = cli.json(
        "complaints",
        "add",
        "--category",
        "employee-access",
        "--channel",
        "phone",
        "--summary",
        "An agent read my call records",
        "--received",
        "2026-02-03T10:00",
    )
    cli.json(
        "complaints",
        "add",
        "--category",
        "online-access",
        "--channel",
        "web",
        "--summary",
        "Someone logged in",
        "--received",
        "2025-12-31T23:30",
    )
    assert made["status"] == "open" and made["category"] == "employee-access"
    closed = cli.json("complaints", "close", made["id"], "--resolution", "Access revoked")
    assert closed["status"] == "closed" and closed["resolution"] == "Access revoked"
    assert [c["category"] for c in cli.json("complaints", "list", "--year", "2026")] == ["employee-access"]
    assert cli.json("complaints", "list", "--category", "online-access")[0]["channel"] == "web"
    counts = cli.json("complaints", "list", "--year", "2026", "--counts")
    assert counts["total"] == 1 and counts["by_month"]["2026-02"]["employee-access"] == 1
    assert "closed already" in refused(cli, "complaints", "close", made["id"], "--resolution", "again")
    assert "unknown complaint category" in refused(
        cli, "complaints", "add", "--category", "rude", "--channel", "phone", "--summary", "s"
    )
    assert "unknown customer" in refused(
        cli,
        "complaints",
        "add",
        "--category",
        "other",
        "--channel",
        "phone",
        "--summary",
        "s",
        "--customer",
        "not-an-id",
    )
    assert "--counts needs --year" in refused(cli, "complaints", "list", "--counts")


def test_cert_3_actions_against_data_brokers_are_added_and_listed_by_year(cli: Cli) -> None:
    made = cli.json(
        "brokers",
        "add",
        "--date",
        "2026-05-04",
        "--forum",
        "state-commission",
        "--broker",
        "DataCo",
        "--description",
        "Petition to stop the sale of call records",
    )
    assert made["forum"] == "state-commission"
    assert [a["broker"] for a in cli.json("brokers", "list", "--year", "2026")] == ["DataCo"]
    assert cli.json("brokers", "list", "--year", "2025") == []
    assert "unknown forum" in refused(
        cli, "brokers", "add", "--date", "2026-05-04", "--forum", "moon", "--broker", "X", "--description", "y"
    )


def test_safe_2_a_member_of_staff_without_current_training_cannot_be_made_an_agent(cli: Cli) -> None:
    assert "SAFE-2" in refused(cli, "users", "add", "--name", "al", "--role", "agent")
    auditor = cli.json("users", "add", "--name", "al", "--role", "auditor", "--officer", "--title", "VP Compliance")
    assert auditor["corporate_officer"] and auditor["title"] == "VP Compliance"
    assert "SAFE-2" in refused(cli, "users", "grant", "--name", "al", "--role", "agent")
    trained = cli.json(
        "training",
        "add",
        "--name",
        "al",
        "--course",
        "CPNI basics",
        "--completed",
        "2026-01-15",
        "--expires",
        "2099-01-15",
    )
    assert trained["staff"] == "al"
    assert cli.json("users", "grant", "--name", "al", "--role", "agent")["roles"] == ["agent", "auditor"]
    listed = cli.json("training", "list")
    assert listed["discipline_policy_id"] == "HR-7.3" and listed["records"][0]["course"] == "CPNI basics"
    assert cli.json("training", "due", "--within", "30") == []
    assert "expire after" in refused(
        cli, "training", "add", "--name", "bo", "--course", "c", "--completed", "2026-01-15", "--expires", "2026-01-15"
    )


def test_safe_2_training_due_names_staff_with_cpni_roles_and_no_current_training(cli: Cli) -> None:
    cli.json(
        "training",
        "add",
        "--name",
        "cora",
        "--course",
        "CPNI basics",
        "--completed",
        "2020-01-01",
        "--expires",
        "2021-01-01",
    )
    [due] = cli.json("training", "due")
    assert due == {"staff": "cora", "roles": [], "expires_on": "2021-01-01", "status": "expired"}


def test_the_demo_publishes_the_shipped_sample_policy_once_in_each_language(cli: Cli) -> None:
    first = cli.json("demo", "--customers", "3", "--as-of", "2026-03-02")
    assert first["sample_privacy_policy_published"] == ["en", "de"]
    assert "Privacy policy (sample)" in cli.json("policies", "show", "--language", "en")["text"]
    assert "Datenschutzerklärung (Beispiel)" in cli.json("policies", "show", "--language", "de")["text"]
    again = cli.json("demo", "--customers", "3", "--if-empty")
    assert again["created"] is False and len(cli.json("policies", "list")) == 2
