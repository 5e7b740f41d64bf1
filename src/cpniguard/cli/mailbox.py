"""`cpniguard mail`: opt-outs by email, from our SMTP listener, the IMAP mailbox or a saved file."""

from __future__ import annotations

import imaplib
import time
from pathlib import Path
from typing import Any

import typer

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.cli.common import JSON_OPTION, emit, err, fail, state
from cpniguard.consent.inbound import InboundOutcome, receive_mail
from cpniguard.delivery.mailbox import ImapMailbox, SmtpListener

mail = typer.Typer(no_args_is_help=True, help="Opt-outs sent by email to the marketing address (NOTICE-8, NOTICE-9).")


def _handler(app: App, actor: Actor) -> Any:
    def handle(raw: bytes) -> InboundOutcome:
        return receive_mail(app.uow(), app.clock, actor, raw, app.letterhead)

    return handle


def outcome_view(outcome: InboundOutcome) -> dict[str, Any]:
    return {
        "outcome": outcome.kind,
        "customers": [str(c) for c in outcome.customers],
        "message_id": outcome.message_id or None,
    }


@mail.command("receive")
def receive(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A saved message (.eml)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Handle one saved message as if it had arrived at the marketing address."""
    app = state(ctx).app()
    emit(outcome_view(_handler(app, state(ctx).actor())(file.read_bytes())), as_json)


@mail.command("listen")
def listen(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Address to listen on; default CPNIGUARD_HOST."),
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="Default CPNIGUARD_MAIL_LISTENER_PORT."),
) -> None:
    """Take mail for the marketing address and the notices' From address over SMTP until
    Ctrl-C (a reply to a notice may go to either); other recipients get 550."""
    app = state(ctx).app()
    s = app.settings
    host, port = host or s.host, port or s.mail_listener_port
    handle = _handler(app, Actor.system("mail-listener"))
    listener = SmtpListener(host, port, s.marketing_address, handle, notices_from=s.mail_from)
    listener.start()
    err.print(f"taking mail for {s.marketing_address} and {s.mail_from} on {host}:{port}; Ctrl-C stops")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()


@mail.command("poll")
def poll(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Read the unseen messages once, then stop."),
    every: int = typer.Option(60, "--every", min=1, help="Seconds between polls."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Read the marketing mailbox over IMAP (CPNIGUARD_IMAP_URL) and handle each unseen message."""
    app = state(ctx).app()
    if not app.settings.imap_url:
        fail("CPNIGUARD_IMAP_URL is not set: name the marketing mailbox, e.g. imaps://user:pass@host/INBOX")
    try:
        mailbox = ImapMailbox(app.settings.imap_url)
    except ValueError as exc:
        fail(f"CPNIGUARD_IMAP_URL: {exc}")
    handle = _handler(app, Actor.system("mail-poller"))
    while True:
        try:
            run = mailbox.poll(handle)
        except (OSError, imaplib.IMAP4.error) as exc:
            if once:
                fail(f"IMAP: {type(exc).__name__}: {exc}", code=1)
            err.print(f"IMAP: {type(exc).__name__}: {exc}; trying again in {every} s")
        else:
            if once:
                emit({"handled": run.handled, "failed": run.failed}, as_json)
                return
        try:
            time.sleep(every)
        except KeyboardInterrupt:
            return
