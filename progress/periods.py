"""Reporting periods by fiscal year (年度, April–March) and their due dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from council import calendar

# Months (of the fiscal year, April = 0) at which each frequency's periods start.
PERIOD_STARTS = {
    "quarterly": (0, 3, 6, 9),
    "semiannual": (0, 6),
    "annual": (0,),
}
PERIOD_MONTHS = {"quarterly": 3, "semiannual": 6, "annual": 12}


def _month_start(fiscal_year: int, offset: int) -> date:
    month = 4 + offset  # April + offset months
    year = fiscal_year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    fiscal_year: int
    number: int  # 1-based within the fiscal year
    frequency: str

    @property
    def start(self) -> date:
        return _month_start(self.fiscal_year, PERIOD_STARTS[self.frequency][self.number - 1])

    @property
    def end(self) -> date:
        months = PERIOD_MONTHS[self.frequency]
        return _month_start(self.fiscal_year, PERIOD_STARTS[self.frequency][self.number - 1] + months) - timedelta(days=1)

    def due_date(self, days_after: int) -> date:
        """The period's end plus `days_after`, moved to the next business day if needed."""
        return calendar.next_business_day(self.end + timedelta(days=days_after))

    def next(self) -> Period:
        if self.number < len(PERIOD_STARTS[self.frequency]):
            return Period(self.fiscal_year, self.number + 1, self.frequency)
        return Period(self.fiscal_year + 1, 1, self.frequency)

    @property
    def label(self) -> str:
        if self.frequency == "quarterly":
            return _("%(fy)s年度 第%(n)s四半期") % {"fy": self.fiscal_year, "n": self.number}
        if self.frequency == "semiannual":
            template = _("%(fy)s年度 上半期") if self.number == 1 else _("%(fy)s年度 下半期")
            return template % {"fy": self.fiscal_year}
        return _("%(fy)s年度") % {"fy": self.fiscal_year}

    @classmethod
    def containing(cls, day: date, frequency: str) -> Period:
        fiscal_year = calendar.fiscal_year(day)
        months_in = (day.month - 4) % 12
        starts = PERIOD_STARTS[frequency]
        number = max(i for i, start in enumerate(starts, start=1) if start <= months_in)
        return cls(fiscal_year, number, frequency)


def periods_between(first: Period, last: Period) -> list[Period]:
    periods, current = [], first
    while current <= last:
        periods.append(current)
        current = current.next()
    return periods
