"""What every route receives: the App built by the composition root, and parsed moments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request

from cpniguard.bootstrap import App
from cpniguard.calendar import EARLIEST_YEAR, LATEST_YEAR, parse_when

WHEN_HELP = (
    "ISO 8601 date or date-time; a date is the start of that day in Eastern time, a date-time"
    " without an offset is Eastern time. Now, when absent."
)

# A year the rules can compute with: an unbounded one overflows the database's integer or a date.
YearQuery = Annotated[int | None, Query(ge=EARLIEST_YEAR, le=LATEST_YEAR)]


def app_of(request: Request) -> App:
    app: App = request.app.state.cpniguard
    return app


async def the_app(request: Request) -> App:
    """The App; an `async def` so FastAPI resolves it without a hop to the threadpool."""
    return app_of(request)


AppDep = Annotated[App, Depends(the_app)]


def moment(text: str | None, app: App) -> datetime:
    """The moment a caller named, or now on the app's clock when they named none."""
    return app.clock.now() if text is None else parse_moment(text)


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or date-time within the years the rules can compute with."""
    return parse_when(text)
