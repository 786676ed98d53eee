from datetime import date

import pytest

from council.calendar import add_business_days, fiscal_year, holiday_name, is_business_day, next_business_day


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2026, 11, 27), True),   # Friday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 23), False),  # 勤労感謝の日 (Monday)
        (date(2026, 12, 28), True),   # last working day of the year
        (date(2026, 12, 29), False),  # year-end closure begins
        (date(2027, 1, 4), True),     # offices reopen
        (date(2027, 1, 11), False),   # 成人の日
    ],
)
def test_business_days(day, expected):
    assert is_business_day(day) is expected


def test_the_year_end_closure_is_named():
    assert holiday_name(date(2026, 12, 31)) == "年末年始"
    assert holiday_name(date(2027, 1, 2)) == "年末年始"


def test_next_business_day_moves_over_weekends_holidays_and_the_closure():
    assert next_business_day(date(2026, 11, 27)) == date(2026, 11, 27)
    assert next_business_day(date(2026, 11, 21)) == date(2026, 11, 24)  # Sat → past 23rd holiday
    assert next_business_day(date(2026, 12, 29)) == date(2027, 1, 4)
    assert next_business_day(date(2027, 5, 3)) == date(2027, 5, 6)  # Golden Week


def test_add_business_days():
    assert add_business_days(date(2026, 12, 25), 2) == date(2027, 1, 4)


@pytest.mark.parametrize(
    "day, year", [(date(2026, 4, 1), 2026), (date(2027, 3, 31), 2026), (date(2026, 3, 31), 2025)]
)
def test_fiscal_years_run_april_to_march(day, year):
    assert fiscal_year(day) == year
