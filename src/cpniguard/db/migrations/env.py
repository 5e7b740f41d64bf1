"""Alembic environment: the engine comes from the caller (db/migrate.py), never from a file."""

from __future__ import annotations

from alembic import context

from cpniguard.db import office_tables, web_tables  # noqa: F401  (they register their tables on the metadata)
from cpniguard.db.cdr_partitions import not_a_partition
from cpniguard.db.tables import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER on SQLite goes through batch mode
        include_name=not_a_partition,  # autogenerate: the monthly partitions are made at run time
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
