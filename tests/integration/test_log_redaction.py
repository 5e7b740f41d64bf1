"""Rule 9 where the database is concerned: a failed statement's error names no value it was
given, neither in our engines' texts nor, once logged, in the driver's own DETAIL."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from cpniguard.db.engine import make_engine
from cpniguard.redaction import RedactingFilter

VALUES = ("+12025550123", "Ada Lovelace")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    with made.begin() as conn:
        conn.execute(text("CREATE TABLE planted (number VARCHAR(20), name VARCHAR(40), UNIQUE (number, name))"))
        conn.execute(text("INSERT INTO planted VALUES (:n, :m)"), {"n": VALUES[0], "m": VALUES[1]})
    yield made
    made.dispose()


def _duplicate(engine: Engine) -> IntegrityError:
    with pytest.raises(IntegrityError) as failed, engine.begin() as conn:
        conn.execute(text("INSERT INTO planted VALUES (:n, :m)"), {"n": VALUES[0], "m": VALUES[1]})
    return failed.value


def test_a_failed_statement_quotes_none_of_its_bound_values(engine: Engine) -> None:
    error = _duplicate(engine)
    assert "SQL parameters hidden" in str(error)
    if engine.dialect.name == "sqlite":  # PostgreSQL's DETAIL names the key's value: see below
        assert not any(value in str(error) for value in VALUES)


def test_a_failed_statement_logged_with_its_traceback_names_no_value(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("cpniguard.planted")
    logger.addFilter(RedactingFilter())
    try:
        with caplog.at_level(logging.ERROR, logger="cpniguard.planted"):
            logger.error("insert failed", exc_info=_duplicate(engine))
    finally:
        logger.filters.clear()
    assert "IntegrityError" in caplog.text
    assert not any(value in caplog.text for value in VALUES), caplog.text
