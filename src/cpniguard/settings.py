"""Settings: plain values; `bootstrap.load_settings` reads them from the environment."""

from __future__ import annotations

from dataclasses import dataclass

from cpniguard.db.engine import DEFAULT_URL


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_URL
    # Ed25519 seed for audit checkpoints: base64 in the environment, or a file made by `init`.
    audit_signing_key: str | None = None
    audit_key_file: str = "cpniguard-audit.key"
    audit_checkpoint_every: int = 10_000
    # CPNI at rest (BREACH23-8): an AES-256 key in base64 in the environment, or a keyring file
    # made by `init` and rewritten by `cpniguard cpni rotate-key` (*.key: git ignores it).
    cpni_key: str | None = None
    cpni_key_file: str = "cpniguard-cpni.key"
    operator: str = "operator"  # who runs the CLI, as the ledger names them
    host: str = "127.0.0.1"
    port: int = 8000
    # Notices (issue 3): how they name the carrier, and where delivery goes. With no SMTP or SMS
    # provider configured, messages are written to `outbox_dir` so a new user can read them.
    carrier_name: str = ""  # empty: notices say "your telephone company" in the customer's language
    support_line: str = ""  # empty: "the customer care number on your bill", likewise
    smtp_url: str | None = None
    mail_from: str = "cpni-notices@localhost"
    sms_url: str | None = None
    sms_token: str | None = None
    letters_dir: str | None = None
    outbox_dir: str = "cpniguard-outbox"
    serve_worker: bool = True  # `cpniguard serve` also delivers the outbox in a thread
    worker_connections: int = 4  # SMTP connections (and SMS clients) one worker sends on at once
    return_address: str = "Customer Care\nPO Box 1\nSpringfield, IL 62701"
    # Opt-outs by email (NOTICE-8, NOTICE-9): the marketing mailbox over IMAP, or our own listener.
    imap_url: str | None = None  # imaps://user:pass@host:993/INBOX
    marketing_address: str = "marketing@localhost"
    mail_listener_port: int = 2525
    # Credentials (AUTH-1, AUTH-7): argon2id cost, lockout, one-time codes.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65_536
    argon2_parallelism: int = 1
    lockout_max_failures: int = 5
    lockout_window_minutes: int = 15
    lockout_minutes: int = 30
    code_minutes: int = 10
    # Breach response and the privacy office (issue 5).
    breach_rules: str = "strictest"  # 2007 | 2023 | strictest (AMB-1)
    privacy_office_email: str = "privacy-office@localhost"  # reminders of breach deadlines
    form_499_id: str = ""  # CERT-5: the carrier's Form 499 Filer ID
    carrier_address: str = ""  # BREACH23-4(i), CERT-5: postal address and contact of the carrier
    discipline_policy_id: str = ""  # SAFE-2: the HR policy that sets out discipline for CPNI misuse
    certification_template: str = ""  # a Jinja2 file that replaces the shipped statement template
    breach_reminder_business_days: int = 2  # reminders go this many business days before a target
