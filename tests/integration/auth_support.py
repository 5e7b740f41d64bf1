"""What the authentication tests share: an app with cheap argon2 settings (the real algorithm,
a fraction of the cost), the ledger's actions, row counts, and PINs that are not account data."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Table, func, select

from cpniguard.bootstrap import App, build, load_settings
from cpniguard.clock import FixedClock
from cpniguard.customers.model import Customer
from cpniguard.db.migrate import upgrade
from tests.conftest import TEST_CPNI_KEY, TEST_SIGNING_KEY

# Neither a date, nor a run, nor digits of the test telephone numbers (+1 202 555 0123 ...).
PIN_CANDIDATES = (
    *("482913", "730561", "596148", "613847", "947261", "385296", "269473", "814736"),
    *("48291736", "73056148", "59614827", "61384759"),
)


def cheap_argon2_app(database_url: str, clock: FixedClock, tmp_path: Path) -> App:
    settings = load_settings(
        {},
        database_url=database_url,
        audit_signing_key=TEST_SIGNING_KEY,
        cpni_key=TEST_CPNI_KEY,
        audit_key_file=str(tmp_path / "k"),
        audit_checkpoint_every=5,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    built = build(settings, clock)
    upgrade(built.engine)
    return built


def pins_for(customer_id: uuid.UUID, count: int = 1, length: int = 6) -> list[str]:
    """PINs sharing no four digits in a row with the customer's random id (which counts as an
    account number, DEF-4), so that a test never fails by the chance of a UUID."""
    digits = customer_id.hex
    found = [
        pin
        for pin in PIN_CANDIDATES
        if len(pin) == length and not any(pin[i : i + 4] in digits for i in range(len(pin) - 3))
    ]
    assert len(found) >= count, "no PIN candidate left for this customer id"
    return found[:count]


def audit_actions(app: App, customer: Customer | None = None, prefix: str | None = None) -> list[str]:
    """The ledger's actions, oldest first."""
    with app.uow() as uow:
        entries = uow.audit.find(customer.id if customer else None, prefix, 10_000)
    return [e.action for e in reversed(entries)]


def row_counts(app: App, *tables: Table) -> dict[str, int]:
    with app.engine.connect() as conn:
        return {table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one()) for table in tables}
