"""What every route receives: the App built by the composition root, and parsed moments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from cpniguard.bootstrap import App
from cpniguard.calendar import parse_when
from cpniguard.errors import InvalidInput

# The rules add up to two years (the biennial re-notice) to a moment, and Python's dates end
# in 9999, so an unbounded year turns into an overflow deep in the domain. Every real record
# lies well inside this window; anything outside it is a typo.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)

WHEN_HELP = (
    "ISO 8601 date or date-time; a date is the start of that day in Eastern time, a date-time"
    " without an offset is Eastern time. Now, when absent."
)


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
    try:
        at = parse_when(text)
    except OverflowError:
        raise InvalidInput(f"date out of range: {text!r}") from None
    if not EARLIEST <= at <= LATEST:
        raise InvalidInput(f"date out of range (1900 to 2999): {text!r}")
    return at
