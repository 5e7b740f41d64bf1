"""`cpniguard demo` and `cpniguard import customers|cdrs|bills`: bulk data in, in batches."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer

from cpniguard.calendar import eastern_date, start_of_day
from cpniguard.cli.common import JSON_OPTION, advance, emit, progress, state
from cpniguard.errors import InvalidInput
from cpniguard.jobs.cpni_import import BILLS, CALL_DETAIL, CsvFormat, import_csv
from cpniguard.jobs.customer_import import import_customers
from cpniguard.jobs.demo import DEFAULT_SEED, DemoCarrier
from cpniguard.jobs.demo_load import DEMO_KEY_NAME, customers_present, ensure_demo_key, load_demo
from cpniguard.jobs.demo_staff import ensure_demo_staff
from cpniguard.privacy_office.policy_service import publish_sample_policy

DEMO_KEY_FILE = "cpniguard-demo.key"  # in the working directory; git ignores *.key
DEMO_STAFF_FILE = "cpniguard-demo-staff.key"  # console names and passwords, "name password" per line

JOBS_OPTION = typer.Option(
    None,
    "--jobs",
    min=1,
    max=64,
    help="Processes checking lines beside the one writing (default: every CPU for a file over 8 MB, else 1).",
)

imports = typer.Typer(no_args_is_help=True, help="Import CPNI from CSV files; a file goes in whole or not at all.")


def demo(
    ctx: typer.Context,
    customers: int = typer.Option(1000, "--customers", min=1, max=10_000_000, help="How many customers to make."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="The same seed and as-of make the same data."),
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD the data ends at (default: today, Eastern)."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when customers exist already."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Make a synthetic carrier: customers, services, contacts, call detail, bills and consent."""
    st = state(ctx)
    app = st.app()
    policy = [p.version.language.value for p in publish_sample_policy(app.uow(), app.clock, st.actor(), app.letterhead)]
    present = customers_present(app.uow)
    if if_empty and present:
        emit({"created": False, "reason": f"the database has {present} customers already"}, as_json)
        return
    carrier = DemoCarrier(seed, _as_of(as_of, app.clock.now()))
    started = time.perf_counter()
    with progress("making demo customers", customers) as bar:
        counts = load_demo(app.uow, app.clock, st.actor(), carrier, customers, lambda n: advance(bar, n))
    report: dict[str, Any] = {"created": True, "seed": seed, "as_of": carrier.as_of.isoformat(), **vars(counts)}
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["api_key"] = _demo_key(ensure_demo_key(app.uow, app.clock, st.actor()))
    report["sample_privacy_policy_published"] = policy  # the languages that had no policy yet
    report["console_staff"] = _demo_staff(ensure_demo_staff(app.uow, app.clock, st.actor(), app.auth.hasher))
    emit(report, as_json)


def _as_of(text: str | None, now: datetime) -> datetime:
    if text is None:
        return start_of_day(eastern_date(now))
    try:
        return start_of_day(date.fromisoformat(text.strip()))
    except ValueError:
        raise InvalidInput(f"--as-of must be a date, YYYY-MM-DD: {text!r}") from None


def _demo_key(secret: str | None) -> dict[str, Any]:
    """A new user tries the API at /docs with this key; only its digest is in the database."""
    if secret is None:
        return {"name": DEMO_KEY_NAME, "created": False, "note": f"exists already; its secret was in {DEMO_KEY_FILE}"}
    path = Path(DEMO_KEY_FILE)
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return {"name": DEMO_KEY_NAME, "created": True, "key": secret, "file": str(path.resolve())}


def _demo_staff(made: dict[str, str]) -> dict[str, Any]:
    """Who can sign in to the console at / (name and password), kept in a file like the key."""
    if not made:
        return {"created": False, "note": f"exist already; their passwords were in {DEMO_STAFF_FILE}"}
    path = Path(DEMO_STAFF_FILE)
    path.write_text("".join(f"{name} {password}\n" for name, password in made.items()))
    path.chmod(0o600)
    return {"created": True, "sign_in": made, "file": str(path.resolve())}


@imports.command("customers")
def customers_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., metavar="FILE.csv", help="Customer accounts, with a header line."),
    jobs: int | None = JOBS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import customer accounts: name, telephone_numbers (";" between several; the first is the
    services' number) and optionally id, kind (residential|business), language (en|de),
    listing_status, emails (";" between several), postal_address, services (";" between
    categories; default local) and customer_since (YYYY-MM-DD or a date-time with its offset)."""
    st = state(ctx)
    app = st.app()
    with progress("importing customers", _size(file)) as bar:
        summary = import_customers(app.uow, app.clock, st.actor(), file, lambda n: advance(bar, n), jobs)
    emit({"file": str(file), "imported": "customers", **asdict(summary)}, as_json)


@imports.command("cdrs")
def cdrs(
    ctx: typer.Context,
    file: Path = typer.Argument(..., metavar="FILE.csv", help="Call detail records, with a header line."),
    jobs: int | None = JOBS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import call detail records: customer_id, service_number, started_at, direction,
    other_party_number, duration_seconds, charge_cents and optionally location."""
    _import(ctx, file, CALL_DETAIL, jobs, as_json)


@imports.command("bills")
def bills(
    ctx: typer.Context,
    file: Path = typer.Argument(..., metavar="FILE.csv", help="Monthly bills, with a header line."),
    jobs: int | None = JOBS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import bills: customer_id, period (YYYY-MM), account_number, total_cents, local_charges_cents,
    long_distance_charges_cents, directory_assistance_charges_cents, feature_charges_cents, minutes_used."""
    _import(ctx, file, BILLS, jobs, as_json)


def _import(ctx: typer.Context, file: Path, kind: CsvFormat[Any, Any], jobs: int | None, as_json: bool) -> None:
    st = state(ctx)
    app = st.app()
    with progress(f"importing {kind.name}", _size(file)) as bar:
        summary = import_csv(app.uow, app.clock, st.actor(), file, kind, lambda n: advance(bar, n), jobs)
    emit({"file": str(file), "imported": kind.name, **asdict(summary)}, as_json)


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from None
