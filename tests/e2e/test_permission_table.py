"""The permission table (permission_table.py), cell by cell, against one app per backend.

Each route is called once by every caller: no credentials, an API key of each scope, a member
of staff of each role signed in to the console, a customer signed in to the portal. What comes
back is read as the guard's answer (401, 403, 303 to a sign-in page) or as "let through"
(anything else: a 404 for a made-up id, a 422 for an empty body), and held to the table. Forms
carry the caller's own CSRF token, so a refusal is the guard's and not the form check's. The
routes and the CLI commands are taken from the app and the Typer app, so a new one without a
row fails here.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount

from cpniguard.access.service import create_api_key
from cpniguard.access.web import customer_sign_in, set_staff_password, staff_sign_in
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.auth.codes import CodePurpose
from cpniguard.auth.model import CredentialKind, VerifiedBy
from cpniguard.auth.service import confirm_code, send_code, set_credential
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.calendar import eastern_date
from cpniguard.campaigns.service import CampaignSpec, add_user, create_campaign, submit_campaign
from cpniguard.cli import main as cli_main
from cpniguard.clock import FixedClock
from cpniguard.db.migrate import upgrade
from cpniguard.decisions.model import Purpose
from cpniguard.errors import DomainError, Forbidden
from cpniguard.notifications.service import list_notices
from cpniguard.privacy_office.staff import record_training
from cpniguard.web.portal_forms import FORM_COOKIE
from cpniguard.web.security import PORTAL_COOKIE, SESSION_COOKIE
from tests.conftest import BACKENDS, T0, TEST_SIGNING_KEY, a_customer, postgres_schema, require_backend
from tests.e2e.permission_table import (
    CALLERS,
    COMMANDS,
    CUSTOMER,
    ROLES,
    ROUTES,
    Command,
    Ledger,
    Outcome,
    Route,
    key,
    staff,
)

PASSWORD = "violet kettle harbour"
EMAIL = "ada@example.com"
LONG_AGO = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)  # the email is of record by now (DEF-5)
ADMIN = Actor("staff", "permission-table", frozenset({"admin"}))
GUARD_401 = {"an API key is required: send X-API-Key or Authorization: Bearer", "invalid or revoked API key"}
GUARD_403 = re.compile(r"^this API key lacks the '[a-z]+' scope$")
SIGN_IN_PAGES = ("/sign-in", "/portal/sign-in")
PERSON_OPTIONS = ("--by", "--decided-by")  # options that name a member of staff


def app_routes(api: FastAPI) -> list[Any]:
    """Every route and mount, those of included routers too. FastAPI 0.13x and later keep an
    included router as one entry of `api.routes`; `iter_route_contexts` opens them."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # an older FastAPI copies included routes into the app's list
        return list(api.routes)
    return list(iter_route_contexts(api.routes))


def route_keys(api: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route; a mount is `GET <prefix>/{file}`."""
    found: set[tuple[str, str]] = set()
    for route in app_routes(api):
        original: BaseRoute = getattr(route, "original_route", route)
        if isinstance(original, Mount):
            found.add(("GET", f"{route.path}/{{file}}"))
        else:
            found |= {(m, route.path) for m in route.methods or () if m != "HEAD"}
    return found


def api_route_count(api: FastAPI) -> int:
    return sum(isinstance(getattr(r, "original_route", r), APIRoute) for r in app_routes(api))


@dataclass
class Caller:
    name: str
    client: TestClient
    csrf: str  # the session's token, or the double-submit token of the portal's signed-out forms


@dataclass
class World:
    app: App
    api: FastAPI
    callers: dict[str, Caller]
    records: dict[str, str]  # path parameter -> the id of a record made for `on_record` rows


def _database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'table.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One migrated database per backend with a key of each scope, a member of staff of each
    role and a customer with a portal password; one client per caller."""
    require_backend(request.param)
    folder = tmp_path_factory.mktemp("permission-table")
    databases = _database(request.param, folder)
    settings = load_settings(
        {},
        database_url=next(databases),
        audit_signing_key=TEST_SIGNING_KEY,
        audit_key_file=str(folder / "k"),
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    app = build(settings, FixedClock(T0))
    upgrade(app.engine)
    api = create_app(app)
    callers = {c.name: c for c in _callers(app, api)}
    yield World(app, api, callers, {"campaign_id": _submitted_campaign(app)})
    app.close()
    shutil.rmtree(folder, ignore_errors=True)
    next(databases, None)


def _callers(app: App, api: FastAPI) -> Iterator[Caller]:
    yield _client(api, "no credentials")
    for scope in ("read", "write", "decide", "audit", "authenticate", "admin"):
        _, secret = create_api_key(app.uow(), app.clock, ADMIN, f"table-{scope}", frozenset({scope}))
        yield _client(api, key(scope), headers={"X-API-Key": secret})
    today = eastern_date(app.clock.now())
    for role in ROLES:
        name = f"staff-{role}"
        course = "CPNI basics", today - timedelta(days=1), today + timedelta(days=365)
        record_training(app.uow(), app.clock, ADMIN, name, *course)  # SAFE-2: before a CPNI role
        add_user(app.uow(), app.clock, ADMIN, name, frozenset({role}))
        set_staff_password(app.uow(), app.clock, ADMIN, app.auth.hasher, name, PASSWORD)
        yield staff_session(app, api, role)
    customer = a_customer(app, ADMIN, at=LONG_AGO)
    as_customer = Actor("customer", str(customer.id))
    send_code(app.uow(), app.clock, as_customer, app.auth, customer.id, CodePurpose.REGISTER_ONLINE)
    [sent] = list_notices(app.uow(), customer.id, 10)
    code = re.search(r"\b(\d{6})\b", sent.notice.body)
    assert code is not None
    assert confirm_code(app.uow(), app.clock, as_customer, customer.id, code.group(1))
    password, verified = CredentialKind.PASSWORD, VerifiedBy.ONE_TIME_CODE
    set_credential(app.uow(), app.clock, as_customer, app.auth, customer.id, password, PASSWORD, verified)
    yield customer_session(app, api)


def _submitted_campaign(app: App) -> str:
    """Made and submitted by the admin, so neither the cro nor the supervisor is its maker."""
    spec = CampaignSpec("Fiber", Purpose.MARKETING_COMMUNICATIONS, "Fiber", description="Fiber for all")
    campaign = create_campaign(app.uow(), app.clock, spec, "staff-admin")
    submit_campaign(app.uow(), app.clock, campaign.id, "staff-admin")
    return str(campaign.id)


def _client(api: FastAPI, name: str, csrf: str = "", headers: dict[str, str] | None = None) -> Caller:
    client = TestClient(api, base_url="https://testserver", follow_redirects=False, headers=headers)
    token = csrf or uuid.uuid4().hex
    client.cookies.set(FORM_COOKIE, token, path="/portal")
    return Caller(name, client, token)


def staff_session(app: App, api: FastAPI, role: str) -> Caller:
    address = f"table-{uuid.uuid4().hex[:8]}"  # fresh sessions are not slowed by the address limit
    token, session, _ = staff_sign_in(app.uow, app.clock, app.auth.hasher, f"staff-{role}", PASSWORD, address)
    caller = _client(api, staff(role), session.csrf)
    caller.client.cookies.set(SESSION_COOKIE, token, path="/")
    return caller


def customer_session(app: App, api: FastAPI) -> Caller:
    address = f"table-{uuid.uuid4().hex[:8]}"
    token, session = customer_sign_in(app.uow, app.clock, app.auth, EMAIL, PASSWORD, address)
    caller = _client(api, CUSTOMER, session.csrf)
    caller.client.cookies.set(PORTAL_COOKIE, token, path="/")
    return caller


def call(world: World, route: Route, caller: Caller) -> httpx.Response:
    """The route with a made-up id in every path parameter (or the made record's, for an
    `on_record` row) and an empty body, or a form with the caller's token."""
    fill = (lambda found: world.records[found[1]]) if route.on_record else (lambda _: str(uuid.uuid4()))
    path = route.sample or re.sub(r"\{([^}]+)\}", fill, route.path)
    page = route.path.startswith(("/console", "/portal", "/sign-")) or route.path == "/"
    body: dict[str, Any] = {}
    if route.method in ("POST", "PUT"):
        body = {"data": {**dict(route.form), "csrf": caller.csrf}} if page else {"json": {}}
    answer: httpx.Response = caller.client.request(route.method, path, **body)
    return answer


def observed(answer: httpx.Response) -> Outcome:
    """The guard's answer, or ALLOWED when the guard let the call through."""
    if answer.is_redirect and answer.headers["location"].split("?")[0] in SIGN_IN_PAGES:
        return Outcome.SIGN_IN
    if answer.status_code in (401, 403) and answer.headers.get("content-type", "").startswith("application/json"):
        detail = answer.json().get("detail", "")
        if answer.status_code == 401 and detail in GUARD_401:
            return Outcome.UNAUTHORIZED
        if answer.status_code == 403 and GUARD_403.match(detail):
            return Outcome.FORBIDDEN
        return Outcome.ALLOWED  # a refusal of the use case, past the guard
    if answer.status_code == 403:  # a page: the role table's "Not allowed" (forms carry their token)
        return Outcome.FORBIDDEN
    return Outcome.ALLOWED


def test_every_route_of_the_app_has_a_row_and_every_row_a_route(world: World) -> None:
    assert api_route_count(world.api) > 100, "the routes of included routers were not found"
    in_app = route_keys(world.api)
    in_table = {(r.method, r.path) for r in ROUTES}
    assert not in_app - in_table, f"routes without a row in the permission table: {sorted(in_app - in_table)}"
    assert not in_table - in_app, f"rows for routes the app does not have: {sorted(in_table - in_app)}"
    assert len(in_table) == len(ROUTES), "a route has two rows"


@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_each_route_answers_each_caller_as_the_table_says(world: World, route: Route) -> None:
    wrong = []
    for name in CALLERS:
        caller = world.callers[name]
        if route.answer is Outcome.SIGN_IN:  # signing out ends the session: do it with a fresh one
            caller = _fresh(world, name)
        answer = call(world, route, caller)
        if (seen := observed(answer)) is not route.expected(name):
            wrong.append(f"{name}: expected {route.expected(name)}, got {answer.status_code} ({seen})")
    assert not wrong, f"{route.id}:\n" + "\n".join(wrong)


def _fresh(world: World, name: str) -> Caller:
    if name == CUSTOMER:
        return customer_session(world.app, world.api)
    if name.startswith("staff:"):
        return staff_session(world.app, world.api, name.removeprefix("staff:"))
    return world.callers[name]


def cli_commands() -> dict[str, Any]:
    """Every command of the Typer app by its full name ("campaigns approve")."""
    found: dict[str, Any] = {}

    def walk(command: Any, prefix: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            if getattr(sub, "commands", None):
                walk(sub, [*prefix, name])
            else:
                found[" ".join([*prefix, name])] = sub

    walk(typer.main.get_command(cli_main.app), [])
    return found


def test_every_cli_command_has_a_row_and_every_option_naming_staff_is_in_it() -> None:
    commands = cli_commands()
    rows = {c.name: c for c in COMMANDS}
    assert not commands.keys() - rows.keys(), f"CLI commands without a row: {sorted(commands.keys() - rows.keys())}"
    assert not rows.keys() - commands.keys(), f"rows for commands that are gone: {sorted(rows.keys() - commands)}"
    for name, command in commands.items():
        naming = {o for p in command.params for o in getattr(p, "opts", ()) if o in PERSON_OPTIONS}
        said = {"--by"} if rows[name].ledger is Ledger.BY else set(rows[name].free_text)
        assert naming == said, f"{name}: options naming staff {sorted(naming)}, the table says {sorted(said)}"


BY_COMMANDS = [c for c in COMMANDS if c.ledger is Ledger.BY]
CAMPAIGN = ["--name", "Fiber", "--purpose", "marketing-subscribed", "--offer", "Fiber", "--description", "Fiber"]


def run_cli(args: list[str]) -> DomainError | None:
    """The command as `cpniguard` runs it, but answering the refusal that `run` prints as one
    line and exit 2 (main.run maps every DomainError so)."""
    try:
        cli_main.app(args=args, prog_name="cpniguard", standalone_mode=False)
    except DomainError as exc:
        return exc
    return None


@pytest.mark.parametrize("command", BY_COMMANDS, ids=[c.name for c in BY_COMMANDS])
def test_each_cli_command_naming_staff_answers_each_role_as_the_table_says(
    world: World, command: Command, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The --by user's role is checked before the campaign is read, so a made-up id does."""
    monkeypatch.setattr("cpniguard.cli.common.build", lambda settings: world.app)
    words = command.name.split()
    extra = {"create": CAMPAIGN, "submit": [str(uuid.uuid4())]}.get(words[-1], [str(uuid.uuid4()), "--reason", "ok"])
    wrong = []
    for role in ROLES:
        refusal = run_cli([*words, *extra, "--by", f"staff-{role}"])
        seen = Outcome.FORBIDDEN if isinstance(refusal, Forbidden) else Outcome.ALLOWED
        if seen is not command.expected(role):
            wrong.append(f"{role}: expected {command.expected(role)}, got {refusal!r}")
    assert not wrong, f"cpniguard {command.name}:\n" + "\n".join(wrong)
