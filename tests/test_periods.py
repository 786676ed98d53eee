from datetime import date

import pytest

from progress.periods import Period, periods_between


@pytest.mark.parametrize(
    "day, frequency, expected",
    [
        (date(2026, 4, 1), "quarterly", (2026, 1)),
        (date(2026, 12, 31), "quarterly", (2026, 3)),
        (date(2027, 1, 1), "quarterly", (2026, 4)),
        (date(2027, 3, 31), "quarterly", (2026, 4)),
        (date(2026, 9, 30), "semiannual", (2026, 1)),
        (date(2026, 10, 1), "semiannual", (2026, 2)),
        (date(2027, 2, 1), "annual", (2026, 1)),
    ],
)
def test_the_period_containing_a_day(day, frequency, expected):
    period = Period.containing(day, frequency)
    assert (period.fiscal_year, period.number) == expected
    assert period.start <= day <= period.end


def test_quarter_boundaries_cross_the_calendar_year():
    q4 = Period(2026, 4, "quarterly")
    assert (q4.start, q4.end) == (date(2027, 1, 1), date(2027, 3, 31))
    assert q4.next() == Period(2027, 1, "quarterly")
    assert Period(2026, 2, "semiannual").end == date(2027, 3, 31)
    assert Period(2026, 1, "annual").end == date(2027, 3, 31)


def test_due_dates_move_past_weekends_holidays_and_the_year_end_closure():
    # Q3 FY2026 ends 2026-12-31; +0 days is inside the closure → 2027-01-04 (Monday).
    assert Period(2026, 3, "quarterly").due_date(0) == date(2027, 1, 4)
    # Q2 ends 2026-09-30; +30 → 2026-10-30 (Friday), a business day.
    assert Period(2026, 2, "quarterly").due_date(30) == date(2026, 10, 30)
    # Q1 ends 2026-06-30; +33 → 2026-08-02 (Sunday) → Monday 08-03.
    assert Period(2026, 1, "quarterly").due_date(33) == date(2026, 8, 3)
    # Q4 FY2026 ends 2027-03-31; +33 → 2027-05-03 (憲法記念日) → 05-06 after Golden Week.
    assert Period(2026, 4, "quarterly").due_date(33) == date(2027, 5, 6)


def test_periods_between_spans_fiscal_years():
    periods = periods_between(Period(2025, 3, "quarterly"), Period(2026, 2, "quarterly"))
    assert [(p.fiscal_year, p.number) for p in periods] == [(2025, 3), (2025, 4), (2026, 1), (2026, 2)]


def test_labels():
    assert Period(2026, 1, "quarterly").label == "2026年度 第1四半期"
    assert Period(2026, 2, "semiannual").label == "2026年度 下半期"
