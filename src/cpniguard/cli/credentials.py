"""`cpniguard credentials ...` and `cpniguard alerts list`: staff tools for customer authentication.

Secrets and codes are read from standard input (a prompt without echo on a terminal), never
from the command line, where they would land in shell history and the process list.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import date

import typer

from cpniguard.auth.codes import CodePurpose
from cpniguard.auth.model import CredentialKind, VerifiedBy
from cpniguard.auth.photo_id import PhotoId, PhotoIdKind
from cpniguard.auth.service import confirm_code, send_code, set_credential, verify_credential
from cpniguard.cli.common import JSON_OPTION, emit, state
from cpniguard.customers.model import parse_enum
from cpniguard.errors import InvalidInput
from cpniguard.ids import parse_customer_id
from cpniguard.views import alert_view, iso

credentials = typer.Typer(no_args_is_help=True, help="Passwords, PINs and backup answers (AUTH-1..AUTH-8).")
alerts = typer.Typer(no_args_is_help=True, help="Alerts for staff, such as suspected pretexting.")

KIND = typer.Option(..., "--kind", help="password, pin or backup-answer.")


def read_secret(what: str) -> str:
    """One line from standard input; a prompt without echo when it is a terminal."""
    text = getpass.getpass(f"{what}: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")
    if not text:
        raise InvalidInput(f"no {what} on standard input")
    return text


def _photo_id(name: str | None, expires: str | None, kind: str) -> PhotoId | None:
    if name is None and expires is None:
        return None
    if not name or not expires:
        raise InvalidInput("a photo ID needs both --id-name and --id-expires")
    try:
        expires_on = date.fromisoformat(expires)
    except ValueError:
        raise InvalidInput(f"--id-expires must be a date like 2030-01-31, not {expires!r}") from None
    return PhotoId(parse_enum(PhotoIdKind, kind, "photo ID kind"), name, expires_on)


@credentials.command("set")
def set_command(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., metavar="ID"),
    kind: str = KIND,
    verified_by: str = typer.Option(..., "--verified-by", help="service-initiation, one-time-code or photo-id."),
    question: str | None = typer.Option(None, "--question", help="The backup question (for backup-answer)."),
    id_name: str | None = typer.Option(None, "--id-name", help="Name on the photo ID shown (photo-id)."),
    id_expires: str | None = typer.Option(None, "--id-expires", help="Expiry date of the photo ID (photo-id)."),
    id_kind: str = typer.Option("drivers-licence", "--id-kind", help="Kind of photo ID."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set or replace a credential; the secret is read from standard input."""
    st = state(ctx)
    app = st.app()
    chosen = parse_enum(CredentialKind, kind, "credential kind")
    how = parse_enum(VerifiedBy, verified_by, "verification")
    secret = read_secret(chosen.value)
    photo = _photo_id(id_name, id_expires, id_kind)
    customer = parse_customer_id(customer_id)
    made = set_credential(app.uow(), app.clock, st.actor(), app.auth, customer, chosen, secret, how, question, photo)
    emit(
        {
            "customer_id": str(made.customer_id),
            "kind": made.kind.value,
            "verified_by": made.verified_by.value,
            "set_at": iso(made.set_at),
        },
        as_json,
    )


@credentials.command("verify")
def verify_command(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., metavar="ID"),
    kind: str = KIND,
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a secret read from standard input; staff see whether the channel is locked."""
    st = state(ctx)
    app = st.app()
    chosen = parse_enum(CredentialKind, kind, "credential kind")
    secret = read_secret(chosen.value)
    result = verify_credential(app.uow, app.clock, st.actor(), app.auth, parse_customer_id(customer_id), chosen, secret)
    emit({"verified": result.verified, "locked": result.locked, "locked_until": iso(result.locked_until)}, as_json)


@credentials.command("send-code")
def send_code_command(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., metavar="ID"),
    purpose: str = typer.Option(
        "set-credential", "--purpose", help="set-credential, reset-credential, register-online."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a single-use code to a contact of record (never to a new one): proof for AUTH-7."""
    st = state(ctx)
    app = st.app()
    why = parse_enum(CodePurpose, purpose, "code purpose")
    sent = send_code(app.uow(), app.clock, st.actor(), app.auth, parse_customer_id(customer_id), why.value)
    emit({"code_id": sent.code_id, "channel": sent.channel, "expires_at": iso(sent.expires_at)}, as_json)


@credentials.command("reset")
def reset_command(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Forgotten password or PIN: a reset code goes to a contact of record, never the secret (AMB-5)."""
    send_code_command(ctx, customer_id, CodePurpose.RESET_CREDENTIAL.value, as_json)


@credentials.command("confirm-code")
def confirm_code_command(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = JSON_OPTION,
) -> None:
    """The code the customer read back, from standard input: confirmed or not."""
    st = state(ctx)
    app = st.app()
    code = read_secret("code")
    ok = confirm_code(app.uow(), app.clock, st.actor(), parse_customer_id(customer_id), code)
    emit({"confirmed": ok}, as_json)


@alerts.command("list")
def alerts_list(
    ctx: typer.Context,
    customer: str | None = typer.Option(None, "--customer", help="Only this customer's alerts."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    as_json: bool = JSON_OPTION,
) -> None:
    """Alerts, newest first: pretexting-suspected after a lockout (AUTH-1), the SAFE-5 FCC letter task."""
    app = state(ctx).app()
    chosen = parse_customer_id(customer) if customer else None
    with app.uow() as uow:
        found = uow.auth.alerts(chosen, limit)
    views = [alert_view(a) for a in found]
    emit(views if as_json else [{**v, "details": _readable(v["details"])} for v in views], as_json)


def _readable(details: str) -> object:
    """An alert's details (JSON text, such as the SAFE-5 letter's fields) as fields to print."""
    try:
        parsed = json.loads(details)
    except ValueError:
        return details
    return parsed if isinstance(parsed, dict) and parsed else details
