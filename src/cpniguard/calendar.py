"""Day boundaries in America/New_York (AMB-2, CAL-4) and parsing of WHEN arguments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cpniguard.errors import InvalidInput

EASTERN = ZoneInfo("America/New_York")


def start_of_day(day: date) -> datetime:
    """The first instant of `day` in Eastern time, as UTC."""
    return datetime.combine(day, time.min, tzinfo=EASTERN).astimezone(UTC)


def eastern_date(at: datetime) -> date:
    """The calendar date in Eastern time of an aware instant."""
    return at.astimezone(EASTERN).date()


def add_days(day: date, days: int) -> date:
    return day + timedelta(days=days)


def add_years(day: date, years: int) -> date:
    """Same day `years` later; 29 February falls back to 28 February (the earlier, stricter day)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# The rules add up to two years (the biennial re-notice) to a moment and Python's dates end in
# 9999, so an unbounded year would overflow deep in the domain. Real records lie well inside.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


def parse_when(text: str) -> datetime:
    """An ISO 8601 date or date-time. A date means the start of that day in Eastern time;
    a date-time without an offset is read as Eastern time."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            parsed = datetime.combine(date.fromisoformat(raw), time.min, tzinfo=EASTERN)
        else:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=EASTERN)
        moment = parsed.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"date out of range ({EARLIEST_YEAR} to {LATEST_YEAR}): {text!r}") from None
    except ValueError:
        raise InvalidInput(f"not an ISO 8601 date or date-time: {text!r}") from None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise InvalidInput(f"date out of range ({EARLIEST_YEAR} to {LATEST_YEAR}): {text!r}")
    return moment


def as_utc(at: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is taken to be UTC already (as stored)."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)
