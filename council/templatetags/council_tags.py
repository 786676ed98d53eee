from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext

from council import calendar
from council.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str):
    """Render user-written Markdown (raw HTML disabled) for pages and PDFs."""
    return render_markdown(text)


@register.filter
def yen(value) -> str:
    """1234567 → "1,234,567円" (in English "¥1,234,567")."""
    if value in (None, ""):
        return "—"
    return gettext("%(amount)s円") % {"amount": f"{int(value):,}"}


# --- Japanese era dates (和暦) ------------------------------------------------------------
# Officials read dates in the era (令和8年12月1日) and fiscal years as 令和8年度; English
# pages show plain dates and FY2026. Eras begin on these (Gregorian) days; before 1873 the
# country used the lunisolar calendar, so earlier dates are shown as plain dates.
ERAS = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
    (date(1912, 7, 30), "大正"),
    (date(1873, 1, 1), "明治"),
)


def era_of(day: date) -> tuple[str, int] | None:
    """(era name, year of the era) of a day, e.g. 2019-05-01 → ("令和", 1)."""
    for start, name in ERAS:
        if day >= start:
            return name, day.year - start.year + 1
    return None


def _era_year(name: str, year: int) -> str:
    return f"{name}{'元' if year == 1 else year}年"


def _japanese() -> bool:
    return (get_language() or "ja").startswith("ja")


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value if isinstance(value, date) else None


def wareki_date(day: date) -> str:
    """令和8年12月1日 in Japanese, the locale's plain date otherwise."""
    era = era_of(day) if _japanese() else None
    if era is None:
        return date_format(day, "DATE_FORMAT")
    return f"{_era_year(*era)}{day.month}月{day.day}日"


def wareki_fiscal_year(fiscal_year: int) -> str:
    """令和8年度 in Japanese, FY2026 otherwise. A fiscal year takes the era in force at the
    end of its first calendar year, so FY2019 is 令和元年度 and FY1989 平成元年度."""
    era = era_of(date(fiscal_year, 12, 31)) if _japanese() else None
    if era is None:
        return f"{fiscal_year}年度" if _japanese() else f"FY{fiscal_year}"
    return f"{_era_year(*era)}度"


@register.filter
def wareki(value) -> str:
    """A date (or datetime, in local time) in the Japanese era: {{ meeting.date|wareki }}."""
    day = _as_date(value)
    return wareki_date(day) if day is not None else ""


@register.filter
def nendo(value) -> str:
    """A fiscal year (an int, or the fiscal year a date falls in) as 令和8年度 / FY2026."""
    if value in (None, ""):
        return ""
    day = _as_date(value)
    if day is not None:
        return wareki_fiscal_year(calendar.fiscal_year(day))
    try:
        return wareki_fiscal_year(int(value))
    except (TypeError, ValueError):
        return ""


@register.simple_tag
def meeting_decision(obj):
    """The meeting decision that decided a candidate or concluded a consent round, or None:
    {% meeting_decision candidate as decision %}."""
    from council.meetings.actions import decision_taken_on

    return decision_taken_on(obj)
