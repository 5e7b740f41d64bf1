"""Refusals as HTTP answers: the one table from error to status (house rule 7).

Every refusal has the body `{"error": code, "detail": "one readable line"}`: domain errors,
request validation, unknown routes and storage failures alike, so a calling system parses one
shape and a person reads one line. Nothing here ever answers with a traceback.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cpniguard.api.auth import actor_for, caller, secret_in
from cpniguard.errors import (
    Conflict,
    CpniKeyUnavailable,
    CpniSealBroken,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    StorageUnavailable,
    Unauthorized,
    WorkInterrupted,
)


class ErrorOut(BaseModel):
    """Why a request was refused."""

    error: str
    detail: str


# Looked up along the exception's MRO, so a new DomainError subclass answers 400 until it is
# given its own row. The storage rows catch what reaches the database unvalidated: a lost
# connection or a locked file (503), a value too long for its column on PostgreSQL (422).
STATUS: dict[type[Exception], tuple[int, str]] = {
    InvalidInput: (422, InvalidInput.code),
    NotFound: (404, NotFound.code),
    Conflict: (409, Conflict.code),
    Unauthorized: (401, Unauthorized.code),
    Forbidden: (403, Forbidden.code),
    StorageUnavailable: (503, StorageUnavailable.code),
    # BREACH23-8: CPNI sealed at rest that cannot be opened is not served, in clear or otherwise.
    CpniKeyUnavailable: (503, CpniKeyUnavailable.code),
    CpniSealBroken: (503, CpniSealBroken.code),
    WorkInterrupted: (503, WorkInterrupted.code),
    DomainError: (400, DomainError.code),
    OperationalError: (503, StorageUnavailable.code),
    DataError: (422, InvalidInput.code),
    IntegrityError: (409, Conflict.code),
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "A rule refuses the request as it stands: the detail says which"},
    401: {"model": ErrorOut, "description": "No API key, or an invalid or revoked one"},
    403: {"model": ErrorOut, "description": "The API key lacks the scope this route needs"},
    404: {"model": ErrorOut, "description": "Unknown customer (a malformed id is unknown too)"},
    409: {"model": ErrorOut, "description": "The request conflicts with what is already recorded"},
    422: {"model": ErrorOut, "description": "Invalid input: the detail names the field and the reason"},
    503: {
        "model": ErrorOut,
        "description": "The database cannot be reached, or stored CPNI cannot be opened (no key, altered); "
        "nothing was decided or written",
    },
}


def json_refusals() -> dict[int | str, dict[str, Any]]:
    """The refusals declared as JSON, for a route whose own answer is not JSON (FastAPI would
    otherwise declare them in the route's media type)."""
    schema = {"$ref": "#/components/schemas/ErrorOut"}
    return {
        s: {"description": ERROR_RESPONSES[s]["description"], "content": {"application/json": {"schema": schema}}}
        for s in ERROR_RESPONSES
    }


def status_of(exc: Exception) -> tuple[int, str]:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500, "internal_error"


def refusal(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


async def on_error(request: Request, exc: Exception) -> JSONResponse:
    """Answers a domain or storage error with the status from the table."""
    status, code = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return refusal(status, code, detail_of(exc), headers)


def detail_of(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return _one_line(str(exc))
    cause = _first_line(str(getattr(exc, "orig", None) or exc))
    if isinstance(exc, OperationalError):
        return f"database unavailable: {cause}"
    # Past the colon the driver quotes the offending value, which may be personal data.
    return f"the database refused the value: {cause.split(':')[0]}"


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return _one_line(lines[0]) if lines else "no reason given"


async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """Request validation failures: the same body as every refusal, naming each bad field."""
    assert isinstance(exc, RequestValidationError)
    if (unauthenticated := await key_refusal(request)) is not None:
        return unauthenticated
    return refusal(422, InvalidInput.code, "; ".join(field_problem(e) for e in exc.errors()))


def field_problem(error: Any) -> str:
    where, *path = error.get("loc", ()) or ("body",)
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "json_invalid":  # the path holds the character offset
        cause = (error.get("ctx") or {}).get("error", "")
        return _one_line(f"request body: {message} ({cause}) at character {path[0] if path else 0}")
    field = ".".join(str(p) for p in path)
    place = (field or "request body") if where == "body" else f"{where} parameter {field}"
    return _one_line(f"{place}: {message}")


async def key_refusal(request: Request) -> JSONResponse | None:
    """401 when the route needs a key and the request has no valid one, else None.

    FastAPI reads the JSON body before it runs any dependency, so a malformed body would be
    refused 422 ahead of the key check, and a caller without a key would learn the route's
    fields from the detail. A refused body checks the key first.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not needs_key(route.dependant):
        return None
    try:
        await actor_for(request.app.state, secret_in(request.headers))
    except Unauthorized as exc:
        return await on_error(request, exc)
    return None


def needs_key(dependant: Dependant) -> bool:
    return dependant.call is caller or any(needs_key(d) for d in dependant.dependencies)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    """Unknown routes and wrong methods: Starlette's own refusals, in the house shape."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == UNPARSEABLE_BODY:  # e.g. not UTF-8: bad input, as bad JSON is
        if (unauthenticated := await key_refusal(request)) is not None:
            return unauthenticated
        return refusal(422, InvalidInput.code, "request body: it could not be read as JSON text")
    code = {404: NotFound.code, 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return refusal(exc.status_code, code, _one_line(str(exc.detail)), dict(exc.headers or {}))


UNPARSEABLE_BODY = "There was an error parsing the body"  # FastAPI's words, when the body cannot be decoded
UNEXPECTED = "unexpected error; the server log has the details"


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug, not a refusal: the house body without the exception's text, which may hold
    personal data; the traceback goes to the server's (redacting) log."""
    return refusal(500, "internal_error", UNEXPECTED)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def register(app: FastAPI) -> None:
    """Installs the handlers: one per row of the table, the request refusals, and bugs."""
    for kind in STATUS:
        app.add_exception_handler(kind, on_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
