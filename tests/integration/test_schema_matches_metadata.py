"""The migrations make exactly the tables of the metadata (db/tables.py and the tables the other
modules register), on both backends: Alembic's autogenerate finds nothing to add or drop. The
monthly partitions of call detail on PostgreSQL are made at run time and left out of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.customers.records import CallDetailRecord, Direction
from cpniguard.db import office_tables, web_tables  # noqa: F401  (they register their tables)
from cpniguard.db.cdr_partitions import not_a_partition
from cpniguard.db.tables import metadata
from cpniguard.ids import new_id
from tests.conftest import T0, a_customer


def test_autogenerate_finds_the_migrated_schema_equal_to_the_metadata(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor, at=T0 - timedelta(days=90))
    call = CallDetailRecord(
        new_id(), customer.id, "+12025550123", datetime(2026, 1, 5, tzinfo=UTC), Direction.INBOUND, "+13125550199", 5, 0
    )
    with app.uow() as uow:  # a monthly partition on PostgreSQL
        uow.cpni.add_call_detail([call])
        uow.commit()
    with app.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": not_a_partition})
        assert compare_metadata(context, metadata) == []
