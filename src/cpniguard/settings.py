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
    operator: str = "operator"  # who runs the CLI, as the ledger names them
    host: str = "127.0.0.1"
    port: int = 8000
