"""The `cpniguard` command. Entry points parse, call one service function and render."""

from __future__ import annotations

import sys
import traceback

import typer
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from typer.exceptions import TyperException

from cpniguard.cli import (
    admin,
    audit,
    backup,
    breaches,
    campaign_records,
    campaigns,
    certification,
    consent,
    cpni,
    credentials,
    data,
    mailbox,
    notices,
    privacy,
    registry,
    sessions,
)
from cpniguard.cli.common import State, fail
from cpniguard.errors import DomainError
from cpniguard.redaction import configure_logging, redact

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="cpniguard: CPNI consent, the purpose gate and the audit ledger for a carrier.",
)


@app.callback()
def main(
    ctx: typer.Context,
    database_url: str | None = typer.Option(
        None, "--database-url", help="SQLAlchemy URL; default CPNIGUARD_DATABASE_URL or sqlite:///cpniguard.db."
    ),
) -> None:
    ctx.obj = State(database_url)
    ctx.call_on_close(ctx.obj.close)


app.command("init")(admin.init)
app.command("serve")(admin.serve)
app.command("check")(consent.check_command)
app.command("check-batch")(consent.check_batch_command)
app.command("classification")(registry.classification)
app.add_typer(registry.customers, name="customers")
app.add_typer(consent.consent, name="consent")
app.add_typer(notices.contacts, name="contacts")
app.add_typer(notices.notifications, name="notifications")
app.command("worker")(notices.worker)
app.add_typer(credentials.credentials, name="credentials")
app.add_typer(credentials.alerts, name="alerts")
app.add_typer(sessions.sessions, name="sessions")
app.add_typer(campaigns.users, name="users")
app.add_typer(campaigns.campaigns, name="campaigns")
campaigns.campaigns.command("show")(campaign_records.show)
campaigns.campaigns.command("list")(campaign_records.list_command)
campaigns.campaigns.command("complete")(campaign_records.complete)
campaigns.campaigns.command("archive")(campaign_records.archive)
campaigns.campaigns.command("disclosures")(campaign_records.disclosures)
campaigns.campaigns.command("report")(campaign_records.report)
app.command("purge")(consent.purge_command)
registry.customers.command("exemption")(sessions.exemption_command)
app.add_typer(audit.audit, name="audit")
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.add_typer(admin.api_keys, name="api-keys")
app.command("demo")(data.demo)
app.add_typer(data.imports, name="import")
app.add_typer(cpni.cpni, name="cpni")
app.add_typer(mailbox.mail, name="mail")
app.add_typer(breaches.breach, name="breach")
app.add_typer(breaches.calendar, name="calendar")
app.add_typer(privacy.policies, name="policies")
app.add_typer(privacy.complaints, name="complaints")
app.add_typer(privacy.brokers, name="brokers")
app.add_typer(privacy.training, name="training")
app.add_typer(certification.certification, name="certification")


def run(argv: list[str] | None = None) -> None:
    """Runs the command; a refusal is one line on stderr and exit 2, never a traceback."""
    configure_logging()  # rule 9: what the worker or the mail listener logs passes the redaction
    try:
        app(args=argv, prog_name="cpniguard", standalone_mode=False)
    except DomainError as exc:
        fail(str(exc))
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        fail("aborted")
    except TyperException as exc:  # usage errors: unknown command, missing or bad option
        fail(_message(exc))
    except ArgumentError as exc:
        fail(f"bad database URL: {exc}")
    except SQLAlchemyError as exc:
        fail(f"database error: {getattr(exc, 'orig', None) or exc}".splitlines()[0], code=1)
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    except Exception as exc:  # a fault of ours: its traceback, masked as every log line is (rule 9)
        sys.stderr.write(redact("".join(traceback.format_exception(exc))))
        fail(f"internal error ({type(exc).__name__}): the command stopped; the masked traceback is above", code=1)
    sys.exit(0)


def _message(exc: TyperException) -> str:
    format_message = getattr(exc, "format_message", None)
    text = format_message() if callable(format_message) else str(exc)
    return " ".join(str(text).split())
