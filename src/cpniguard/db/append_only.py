"""Triggers that make a table append-only in the database itself, for the migrations.

The code has no update or delete path for the ledgers; these make the database refuse one too
(UPDATE and DELETE on SQLite; UPDATE, DELETE and TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

REFUSE = """
CREATE OR REPLACE FUNCTION cpniguard_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def make_append_only(dialect: str, execute: Callable[[str], object], tables: Sequence[str]) -> None:
    """`execute` is the migration's `op.execute`."""
    if dialect == "sqlite":
        for table in tables:
            for action in ("UPDATE", "DELETE"):
                execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
                )
        return
    execute(REFUSE)
    for table in tables:
        execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION cpniguard_refuse_change()"
        )
        execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cpniguard_refuse_change()"
        )
