"""CAL-1..CAL-7: business days with US federal holidays, counted as the rules count them."""

from __future__ import annotations

from datetime import date

import pytest

from cpniguard.calendar import add_business_days, federal_holidays, is_business_day
from cpniguard.errors import InvalidInput


def test_cal_6_the_2026_holidays_are_generated_by_rule() -> None:
    assert sorted(federal_holidays(2026) - {date(2026, 7, 4)}) == [
        date(2026, 1, 1),
        date(2026, 1, 19),
        date(2026, 2, 16),
        date(2026, 5, 25),
        date(2026, 6, 19),
        date(2026, 7, 3),
        date(2026, 9, 7),
        date(2026, 10, 12),
        date(2026, 11, 11),
        date(2026, 11, 26),
        date(2026, 12, 25),
    ]


def test_cal_2_new_year_2028_is_observed_on_friday_31_december_2027() -> None:
    assert date(2027, 12, 31) in federal_holidays(2027)
    assert not is_business_day(date(2027, 12, 24)) and not is_business_day(date(2027, 12, 31))


@pytest.mark.parametrize(
    ("start", "count", "due"),
    [
        (date(2026, 12, 18), 7, date(2026, 12, 30)),  # BREACH-1: the 25th is skipped
        (date(2026, 7, 2), 7, date(2026, 7, 14)),  # Fri 3 July is the observed Independence Day
        (date(2027, 12, 23), 7, date(2028, 1, 5)),  # observed 24 and 31 December
        (date(2026, 11, 25), 5, date(2026, 12, 3)),  # SAFE-5: Thanksgiving skipped
    ],
)
def test_cal_7_worked_checks(start: date, count: int, due: date) -> None:
    assert add_business_days(start, count) == due


def test_cal_3_an_ad_hoc_closure_is_not_a_business_day() -> None:
    assert add_business_days(date(2026, 11, 25), 5, closures={date(2026, 12, 1)}) == date(2026, 12, 4)


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(InvalidInput):
        add_business_days(date(2026, 1, 5), -1)
