"""The composition root: the one place that reads the environment and wires the parts."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Engine

from cpniguard.audit.model import Checkpoint, checkpoint_message
from cpniguard.audit.signing import Ed25519Signer, Ed25519Verifier, new_seed
from cpniguard.clock import Clock, SystemClock
from cpniguard.db.engine import make_engine
from cpniguard.db.uow import SqlUnitOfWork
from cpniguard.errors import InvalidInput
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
        audit_checkpoint_every=int(env.get("CPNIGUARD_AUDIT_CHECKPOINT_EVERY", base.audit_checkpoint_every)),
        operator=env.get("CPNIGUARD_OPERATOR") or env.get("USER") or base.operator,
        host=env.get("CPNIGUARD_HOST", base.host),
        port=int(env.get("CPNIGUARD_PORT", base.port)),
    )
    return replace(settings, **{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]


@dataclass
class App:
    """Everything a use case needs, built once per process."""

    settings: Settings
    engine: Engine
    clock: Clock
    signer: Ed25519Signer | None
    verifier: Ed25519Verifier

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.clock, self.signer, self.settings.audit_checkpoint_every)

    def sign_checkpoint(self, seq: int, head_hash: str) -> Checkpoint:
        if self.signer is None:
            raise InvalidInput("no audit signing key: run `cpniguard init` or set CPNIGUARD_AUDIT_SIGNING_KEY")
        signature = self.signer.sign(checkpoint_message(seq, head_hash))
        return Checkpoint(seq, head_hash, self.clock.now(), self.signer.public_key, signature)

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings, clock: Clock | None = None) -> App:
    engine = make_engine(settings.database_url)
    return App(settings, engine, clock or SystemClock(), _signer(settings), Ed25519Verifier())


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
