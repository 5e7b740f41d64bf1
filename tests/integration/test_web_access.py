"""Sign-in to the console and the portal on SQLite and PostgreSQL: the rate limit, the idle
timeout, sign-out, and a stored session that cannot be replayed from a copy of the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cpniguard.access.web import (
    IDLE,
    MAX_FAILURES,
    WINDOW,
    session_for,
    set_staff_password,
    sign_out,
    staff_sign_in,
)
from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.campaigns.service import add_user
from cpniguard.clock import FixedClock
from cpniguard.db.web_tables import web_sessions
from cpniguard.errors import InvalidInput, Unauthorized

PASSWORD = "correct horse battery staple"


@pytest.fixture
def auditor(app: App, actor: Actor) -> str:
    add_user(app.uow(), app.clock, actor, "ada", frozenset({"auditor"}))
    set_staff_password(app.uow(), app.clock, actor, app.auth.hasher, "ada", PASSWORD)
    return "ada"


def sign_in(app: App, name: str, password: str, address: str = "10.0.0.1") -> str:
    token, _, _ = staff_sign_in(app.uow, app.clock, app.auth.hasher, name, password, address)
    return token


def test_a_console_password_is_at_least_twelve_characters(app: App, actor: Actor, auditor: str) -> None:
    with pytest.raises(InvalidInput, match="12"):
        set_staff_password(app.uow(), app.clock, actor, app.auth.hasher, auditor, "short")


def test_auth_1_after_five_failures_even_the_right_password_is_refused_until_the_window_passes(
    app: App, auditor: str, clock: FixedClock
) -> None:
    for _ in range(MAX_FAILURES):
        with pytest.raises(Unauthorized):
            sign_in(app, auditor, "wrong password here")
    with pytest.raises(Unauthorized) as refused:
        sign_in(app, auditor, PASSWORD)
    with pytest.raises(Unauthorized) as unknown:
        sign_in(app, "nobody", PASSWORD, "10.0.0.2")
    assert str(refused.value) == str(unknown.value)  # the same words for every failure
    clock.move_to(clock.now() + WINDOW + timedelta(seconds=1))
    assert sign_in(app, auditor, PASSWORD)


def test_a_session_ends_after_fifteen_idle_minutes_and_at_sign_out(app: App, auditor: str, clock: FixedClock) -> None:
    token = sign_in(app, auditor, PASSWORD)
    clock.move_to(clock.now() + IDLE - timedelta(seconds=1))
    assert session_for(app.uow(), app.clock, token) is not None  # the request restarts the idle clock
    clock.move_to(clock.now() + IDLE - timedelta(seconds=1))
    assert session_for(app.uow(), app.clock, token) is not None
    clock.move_to(clock.now() + IDLE)
    assert session_for(app.uow(), app.clock, token) is None
    fresh = sign_in(app, auditor, PASSWORD)
    sign_out(app.uow(), app.clock, fresh)
    assert session_for(app.uow(), app.clock, fresh) is None


def test_the_database_holds_only_the_hash_of_a_session_token(app: App, auditor: str) -> None:
    token = sign_in(app, auditor, PASSWORD)
    with app.engine.connect() as conn:
        stored = list(conn.execute(select(web_sessions.c.token_hash)).scalars())
    assert token not in stored and len(stored) == 1
    assert session_for(app.uow(), app.clock, stored[0]) is None  # the stored value opens nothing
