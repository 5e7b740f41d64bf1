"""`cpniguard certification` end to end: due dates (CERT-4, AMB-10), drafts marked on every page
(CERT-1, CERT-5), a final certification from a seeded year, the carrier's own template, and
refusals that exit 2 with one line and leave neither a record nor a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from cpniguard.actors import Actor
from cpniguard.bootstrap import build, load_settings
from tests.e2e.test_cli import Cli
from tests.integration.test_certification import seed_year


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # the audit key file is made in the working directory
    for name in ("CARRIER_NAME", "FORM_499_ID", "DISCIPLINE_POLICY_ID", "CERTIFICATION_TEMPLATE"):
        monkeypatch.delenv(f"CPNIGUARD_{name}", raising=False)
    tool = Cli(database_url, capsys)
    assert tool("init")[0] == 0
    return tool


def _carrier(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPNIGUARD_CARRIER_NAME", "Acme Telephone")
    monkeypatch.setenv("CPNIGUARD_FORM_499_ID", "812345")
    monkeypatch.setenv("CPNIGUARD_DISCIPLINE_POLICY_ID", "HR-7.3")


def _pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def refused(cli: Cli, *args: str) -> str:
    code, out, err = cli(*args)
    assert code == 2 and out == "", (code, out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_cert_4_reporting_year_2026_is_due_monday_first_of_march_2027(cli: Cli, tmp_path: Path) -> None:
    doc = cli.json("certification", "build", "--year", "2026", "--out", str(tmp_path / "c.pdf"))
    assert (doc["due"], doc["legal_due"], doc["legal_due_rolled"]) == ("2027-03-01", "2027-03-01", False)


def test_cert_4_amb_10_reporting_year_2025_is_filed_by_friday_before_the_sunday_first_of_march(
    cli: Cli, tmp_path: Path
) -> None:
    doc = cli.json("certification", "build", "--year", "2025", "--out", str(tmp_path / "c.pdf"))
    assert (doc["due"], doc["legal_due"], doc["filing_date"]) == ("2026-02-27", "2026-03-02", "2026-02-27")
    assert doc["complaints"] == {"employee-access": 0, "unauthorized-disclosure": 0, "online-access": 0, "other": 0}


def test_cert_1_cert_5_without_officer_name_or_filer_id_the_pdf_is_a_draft_on_every_page(
    cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "draft.pdf"
    doc = cli.json("certification", "build", "--year", "2026", "--out", str(out))
    assert doc["draft"] is True
    assert doc["missing"][:3] == [
        "CERT-1: no signatory named (a corporate officer signs the certificate)",
        "CERT-5: the carrier's name is not set (CPNIGUARD_CARRIER_NAME)",
        "CERT-5: the Form 499 Filer ID is not set (CPNIGUARD_FORM_499_ID)",
    ]
    assert "CERT-2: SAFE-1 purpose gate decisions: no evidence in the records for 2026" in doc["missing"]
    pages = _pages(out)
    assert len(pages) >= 3 and all("DRAFT" in page for page in pages)
    assert doc["pdf"] == str(out) and len(doc["pdf_sha256"]) == 64


def test_cert_1_an_officer_with_the_carrier_s_facts_and_a_seeded_year_build_a_final_certification(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    _carrier(monkeypatch)
    app = build(load_settings({}, database_url=database_url))
    seed_year(app, Actor("staff", "tester", frozenset({"admin"})))
    app.close()
    out = tmp_path / "final.pdf"
    args = ("certification", "build", "--year", "2026", "--out", str(out), "--signatory", "Olivia")
    doc = cli.json(*args, "--filing-date", "2027-02-19")
    assert doc["draft"] is False and doc["missing"] == []
    assert doc["complaints"] == {"employee-access": 1, "unauthorized-disclosure": 1, "online-access": 2, "other": 1}
    pages = _pages(out)
    assert not any("DRAFT" in page for page in pages)
    text = " ".join(" ".join(pages).split())
    for field in ("Acme Telephone", "812345", "Olivia", "Chief Executive Officer", "2027-02-19", "EB Docket No. 06-36"):
        assert field in text, field
    assert "47 CFR 1.17" in text and "DataHarvest LLC" in text


def test_a_signatory_who_is_not_an_officer_gives_a_draft_and_an_unknown_one_exits_2(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _carrier(monkeypatch)
    assert cli.json("users", "add", "--name", "Carl", "--role", "auditor", "--title", "Analyst")["name"] == "Carl"
    doc = cli.json("certification", "build", "--year", "2026", "--out", str(tmp_path / "c.pdf"), "--signatory", "Carl")
    assert doc["missing"][0] == "CERT-1: Carl is not a corporate officer and cannot sign"
    err = refused(
        cli, "certification", "build", "--year", "2026", "--out", str(tmp_path / "x.pdf"), "--signatory", "Zed"
    )
    assert "unknown signatory: 'Zed'" in err
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--year", "1999"), "reporting year must be between 2000 and"),
        (("--year", "2999"), "reporting year must be between 2000 and"),
        (("--year", "2026", "--filing-date", "next week"), "--filing-date must be a date"),
        (("--year", "2026", "--filing-date", "2026-12-01"), "before the reporting year 2026 has ended"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_records_nothing(
    cli: Cli, tmp_path: Path, args: tuple[str, ...], reason: str
) -> None:
    out = tmp_path / "c.pdf"
    assert reason in refused(cli, "certification", "build", *args, "--out", str(out))
    assert not out.exists() and not list(tmp_path.glob(".c.pdf*"))  # no hidden part file either
    assert cli.json("certification", "list") == []


def test_a_refused_build_leaves_an_earlier_pdf_at_out_as_it_was(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "filings"
    folder.mkdir()
    out = folder / "c.pdf"
    out.write_bytes(b"last year's")
    refused(cli, "certification", "build", "--year", "2026", "--out", str(out), "--signatory", "Nobody")
    assert out.read_bytes() == b"last year's" and [p.name for p in folder.iterdir()] == ["c.pdf"]


def test_an_unwritable_out_path_exits_2_and_records_nothing(cli: Cli, tmp_path: Path) -> None:
    assert "no folder" in refused(cli, "certification", "build", "--year", "2026", "--out", "/no/such/dir/c.pdf")
    assert "is a folder" in refused(cli, "certification", "build", "--year", "2026", "--out", str(tmp_path))
    # /proc takes no new files, not even root's: the PDF is built, cannot be kept, nothing is recorded.
    assert "cannot write the PDF" in refused(cli, "certification", "build", "--year", "2026", "--out", "/proc/c.pdf")
    assert cli.json("certification", "list") == []


def test_the_carrier_s_own_template_replaces_the_shipped_one_and_a_broken_one_exits_2(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = tmp_path / "ours.j2"
    template.write_text("# Our certification for {{ year }}\nComplaints: {{ complaints_total }}\n")
    monkeypatch.setenv("CPNIGUARD_CERTIFICATION_TEMPLATE", str(template))
    out = tmp_path / "ours.pdf"
    cli.json("certification", "build", "--year", "2026", "--out", str(out))
    assert "Our certification for 2026" in _pages(out)[0]
    template.write_text("{% for x in %}\n")
    err = refused(cli, "certification", "build", "--year", "2026", "--out", str(tmp_path / "broken.pdf"))
    assert f"the certification template {template} does not render: line 1" in err
    monkeypatch.setenv("CPNIGUARD_CERTIFICATION_TEMPLATE", str(tmp_path / "missing.j2"))
    assert "cannot be read" in refused(cli, "certification", "build", "--year", "2026", "--out", str(out))
    assert len(cli.json("certification", "list")) == 1


def test_builds_are_listed_by_year_and_a_build_prints_again_to_the_recorded_bytes(cli: Cli, tmp_path: Path) -> None:
    first = cli.json("certification", "build", "--year", "2025", "--out", str(tmp_path / "a.pdf"))
    cli.json("certification", "build", "--year", "2026", "--out", str(tmp_path / "b.pdf"))
    listed = cli.json("certification", "list", "--year", "2025")
    assert [b["id"] for b in listed] == [first["id"]] and listed[0]["draft"] is True
    again = cli.json("certification", "pdf", first["id"], "--out", str(tmp_path / "again.pdf"))
    assert again["matches_recorded_sha256"] is True
    assert (tmp_path / "again.pdf").read_bytes() == (tmp_path / "a.pdf").read_bytes()
    shown = cli.json("certification", "show", first["id"])
    assert shown["document"]["due"] == "2026-02-27" and "statement" not in shown["document"]
