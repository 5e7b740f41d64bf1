"""The composition root: the one place that reads the environment and wires the parts."""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from cpniguard.audit.model import Checkpoint, checkpoint_message
from cpniguard.audit.signing import Ed25519Signer, Ed25519Verifier, new_seed
from cpniguard.auth.codes import OneTimeCodePolicy
from cpniguard.auth.hashing import OWASP_MEMORY_KIB, OWASP_TIME_COST, Argon2SecretHasher
from cpniguard.auth.lockout import LockoutPolicy
from cpniguard.auth.service import AuthSettings
from cpniguard.clock import Clock, SystemClock
from cpniguard.consent.notices import OptOutAddresses
from cpniguard.customers.sealing import AesGcmSealer
from cpniguard.db.cpni_keys import InlineKey, KeyringFile
from cpniguard.db.engine import make_engine
from cpniguard.db.uow import SqlUnitOfWork
from cpniguard.delivery.folder import FolderSender
from cpniguard.delivery.letters import PdfLetterPrinter
from cpniguard.delivery.sms import HttpSmsSender
from cpniguard.delivery.smtp import SmtpEmailSender, parse_smtp_url
from cpniguard.errors import CpniKeyUnavailable, InvalidInput
from cpniguard.notifications.model import Channel
from cpniguard.notifications.service import Letterhead
from cpniguard.ports import MessageSender
from cpniguard.settings import Settings


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Settings from CPNIGUARD_* variables, then explicit overrides (command-line options)."""
    env = os.environ if env is None else env
    base = Settings()
    settings = replace(
        base,
        database_url=env.get("CPNIGUARD_DATABASE_URL", base.database_url),
        audit_signing_key=env.get("CPNIGUARD_AUDIT_SIGNING_KEY") or None,
        audit_key_file=env.get("CPNIGUARD_AUDIT_KEY_FILE", base.audit_key_file),
        cpni_key=env.get("CPNIGUARD_CPNI_KEY") or None,
        cpni_key_file=env.get("CPNIGUARD_CPNI_KEY_FILE", base.cpni_key_file),
        operator=env.get("CPNIGUARD_OPERATOR") or env.get("USER") or base.operator,
        host=env.get("CPNIGUARD_HOST", base.host),
        smtp_url=env.get("CPNIGUARD_SMTP_URL") or None,
        sms_url=env.get("CPNIGUARD_SMS_URL") or None,
        sms_token=env.get("CPNIGUARD_SMS_TOKEN") or None,
        letters_dir=env.get("CPNIGUARD_LETTERS_DIR") or None,
        imap_url=env.get("CPNIGUARD_IMAP_URL") or None,
        serve_worker=env.get("CPNIGUARD_SERVE_WORKER", "1").strip().lower() not in {"0", "false", "no", "off"},
        **_from_env(env, base),
    )
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    if settings.smtp_url:
        try:
            parse_smtp_url(settings.smtp_url)
        except ValueError as exc:
            raise InvalidInput(f"CPNIGUARD_SMTP_URL: {exc}") from None
    return settings


TEXT_SETTINGS = (
    "mail_from",
    "outbox_dir",
    "carrier_name",
    "support_line",
    "return_address",
    "marketing_address",
    "breach_rules",
    "privacy_office_email",
    "form_499_id",
    "carrier_address",
    "discipline_policy_id",
    "certification_template",
)
INT_SETTINGS = (
    "port",
    "audit_checkpoint_every",
    "argon2_time_cost",
    "argon2_memory_kib",
    "argon2_parallelism",
    "lockout_max_failures",
    "lockout_window_minutes",
    "lockout_minutes",
    "code_minutes",
    "worker_connections",
    "mail_listener_port",
    "breach_reminder_business_days",
)


def _from_env(env: Mapping[str, str], base: Settings) -> dict[str, Any]:
    texts = {name: env.get(f"CPNIGUARD_{name.upper()}", getattr(base, name)) for name in TEXT_SETTINGS}
    numbers = {name: _int(env, name, getattr(base, name)) for name in INT_SETTINGS}
    # The operator may raise argon2's cost, never lower it below OWASP's minimum for argon2id.
    for name, least in (("argon2_time_cost", OWASP_TIME_COST), ("argon2_memory_kib", OWASP_MEMORY_KIB)):
        if numbers[name] < least:
            raise InvalidInput(f"CPNIGUARD_{name.upper()} must be at least {least} (OWASP's minimum for argon2id)")
    return {**texts, **numbers}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(f"CPNIGUARD_{name.upper()}")
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"CPNIGUARD_{name.upper()} must be a whole number, not {text!r}") from None
    if value < 0:
        raise InvalidInput(f"CPNIGUARD_{name.upper()} must not be negative")
    return value


@dataclass
class App:
    """Everything a use case needs, built once per process."""

    settings: Settings
    engine: Engine
    clock: Clock
    signer: Ed25519Signer | None
    verifier: Ed25519Verifier
    cpni_keys: InlineKey | KeyringFile
    sealer: AesGcmSealer

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.clock, self.signer, self.settings.audit_checkpoint_every, self.sealer)

    @functools.cached_property
    def auth(self) -> AuthSettings:
        """The hasher (argon2id at the configured cost), the lockout and the code policies."""
        s = self.settings
        return AuthSettings(
            Argon2SecretHasher(s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism),
            LockoutPolicy(
                s.lockout_max_failures,
                timedelta(minutes=s.lockout_window_minutes),
                timedelta(minutes=s.lockout_minutes),
            ),
            OneTimeCodePolicy(ttl=timedelta(minutes=s.code_minutes)),
            self.letterhead,
        )

    @property
    def carrier_contact(self) -> str:
        """The carrier's name, address and support line, as the agency notice gives them (BREACH23-4(i))."""
        s = self.settings
        parts = (s.carrier_name, s.carrier_address.replace("\\n", ", "), s.support_line)
        return "; ".join(part for part in parts if part)

    @property
    def opt_out_addresses(self) -> OptOutAddresses:
        """Where opt-out notices tell customers to write (NOTICE-9): the marketing mailbox and the
        letters' return address, on one line."""
        s = self.settings
        postal = ", ".join(line.strip() for line in s.return_address.replace("\\n", "\n").splitlines() if line.strip())
        return OptOutAddresses(s.marketing_address, postal)

    @property
    def letterhead(self) -> Letterhead:
        return Letterhead(self.settings.carrier_name, self.settings.support_line)

    def sign_checkpoint(self, seq: int, head_hash: str) -> Checkpoint:
        if self.signer is None:
            raise InvalidInput("no audit signing key: run `cpniguard init` or set CPNIGUARD_AUDIT_SIGNING_KEY")
        signature = self.signer.sign(checkpoint_message(seq, head_hash))
        return Checkpoint(seq, head_hash, self.clock.now(), self.signer.public_key, signature)

    def senders(self) -> dict[Channel, MessageSender]:
        """The delivery adapters per channel, from settings. Without an SMTP server or SMS
        provider configured, messages go to files under `outbox_dir` for a person to read."""
        s = self.settings
        folder = Path(s.outbox_dir)
        email: MessageSender = (
            SmtpEmailSender(s.smtp_url, s.mail_from, clock=self.clock) if s.smtp_url else FolderSender(folder, "email")
        )
        sms: MessageSender = HttpSmsSender(s.sms_url, s.sms_token) if s.sms_url else FolderSender(folder, "sms")
        voice: MessageSender = HttpSmsSender(s.sms_url, s.sms_token) if s.sms_url else FolderSender(folder, "voice")
        letters = Path(s.letters_dir) if s.letters_dir else folder / "letters"
        printer = PdfLetterPrinter(letters, s.return_address.replace("\\n", "\n"), self.clock)
        return {Channel.EMAIL: email, Channel.SMS: sms, Channel.VOICE: voice, Channel.LETTER: printer}

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings, clock: Clock | None = None) -> App:
    engine = make_engine(settings.database_url)
    keys = cpni_keys(settings)
    signer = _signer(settings)
    return App(settings, engine, clock or SystemClock(), signer, Ed25519Verifier(), keys, AesGcmSealer(keys.load))


def cpni_keys(settings: Settings) -> InlineKey | KeyringFile:
    """Where the CPNI keys are (BREACH23-8): the inline key wins over the file, as the audit key does.
    A missing file is no error here: only sealing or opening CPNI needs a key."""
    if settings.cpni_key:
        try:
            return InlineKey(settings.cpni_key)
        except CpniKeyUnavailable as exc:
            raise InvalidInput(str(exc)) from None
    return KeyringFile(Path(settings.cpni_key_file))


def _signer(settings: Settings) -> Ed25519Signer | None:
    if settings.audit_signing_key:
        try:
            return Ed25519Signer(base64.b64decode(settings.audit_signing_key))
        except ValueError:
            raise InvalidInput("CPNIGUARD_AUDIT_SIGNING_KEY must be a base64 Ed25519 seed of 32 bytes") from None
    path = Path(settings.audit_key_file)
    if path.exists():
        return Ed25519Signer(base64.b64decode(path.read_text().strip()))
    return None


def ensure_signing_key(settings: Settings) -> bool:
    """Creates the key file when no key is configured; True when one was made."""
    path = Path(settings.audit_key_file)
    if settings.audit_signing_key or path.exists():
        return False
    path.write_text(base64.b64encode(new_seed()).decode() + "\n")
    path.chmod(0o600)
    return True


def ensure_cpni_keyring(app: App) -> bool:
    """Creates the CPNI keyring file when no key is configured; True when one was made."""
    return isinstance(app.cpni_keys, KeyringFile) and app.cpni_keys.create()
