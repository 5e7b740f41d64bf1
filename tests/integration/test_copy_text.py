"""db/bulk.copy_text: rows made without a connection (in an import's worker processes, issue 7)
read back from PostgreSQL exactly as they were, whatever the text holds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpniguard.bootstrap import App
from cpniguard.customers.model import ContactKind
from cpniguard.db import bulk

# PostgreSQL's text holds every character but NUL; a CSV line with a NUL is refused before (csv).
TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40)
WHEN = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
ROW = st.tuples(st.one_of(st.none(), TEXT), st.integers(-(2**31), 2**31 - 1), st.uuids(), WHEN, st.binary(max_size=40))


@pytest.fixture
def postgresql(app: App) -> App:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("COPY's text format is PostgreSQL's; SQLite takes executemany")
    return app


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=8))
def test_what_copy_text_writes_reads_back_unchanged(postgresql: App, rows: list[tuple[object, ...]]) -> None:
    with postgresql.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("CREATE TEMP TABLE copied (t text, i integer, u uuid, at timestamp, b bytea) ON COMMIT DROP")
        with driver.cursor() as cursor, cursor.copy("COPY copied FROM STDIN") as copy:
            copy.write(bulk.copy_text(rows))
        back = driver.execute("SELECT t, i, u, at, b FROM copied").fetchall()
        conn.rollback()
    expected = [(t, i, u, at.replace(tzinfo=None), b) for t, i, u, at, b in rows]
    assert [(t, i, u, at, bytes(b)) for t, i, u, at, b in back] == expected


def test_tabs_newlines_and_backslashes_are_escaped_and_instants_stored_as_utc() -> None:
    eastern = timezone(timedelta(hours=-5))
    row = ("a\tb\nc\\d\re", None, ContactKind.EMAIL, datetime(2026, 3, 1, 9, 0, tzinfo=eastern), b"\x01\xff", 7)
    assert bulk.copy_text([row]) == b"a\\tb\\nc\\\\d\\re\t\\N\temail\t2026-03-01 14:00:00\t\\\\x01ff\t7\n"
    assert bulk.copy_text([]) == b""
    with pytest.raises(TypeError):
        bulk.copy_text([(1.5,)])
    with pytest.raises(ValueError, match="naive"):
        bulk.copy_text([(datetime(2026, 3, 1),)])
    assert bulk.copy_text([(uuid.UUID(int=1), True)]) == b"00000000000000000000000000000001\tTrue\n"
