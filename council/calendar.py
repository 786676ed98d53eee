"""The Japanese administrative calendar: business days, holidays and fiscal years.

Government offices close on weekends, national holidays, and 12/29–1/3 (行政機関の休日に
関する法律, which no holiday package covers). Fiscal years (年度) run April–March.
"""

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

TOKYO = ZoneInfo("Asia/Tokyo")


@lru_cache(maxsize=64)
def _national_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year, language="ja")


def is_year_end_closure(day: date) -> bool:
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def holiday_name(day: date) -> str | None:
    if is_year_end_closure(day):
        return "年末年始"
    return _national_holidays(day.year).get(day)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and holiday_name(day) is None


def next_business_day(day: date) -> date:
    """`day` itself when it is a business day, else the first business day after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def add_business_days(start: date, count: int) -> date:
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            count -= 1
    return day


def today() -> date:
    """Today in Tokyo, whatever the server's own time zone."""
    return datetime.now(TOKYO).date()


def fiscal_year(day: date) -> int:
    """The fiscal year (年度) a date falls in: FY2026 runs 2026-04-01 to 2027-03-31."""
    return day.year if day.month >= 4 else day.year - 1
