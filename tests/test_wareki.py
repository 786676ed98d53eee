"""The Japanese-era filters: 令和8年12月1日 / 令和8年度 in Japanese, plain dates / FY2026 in English."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from council.templatetags.council_tags import era_of, nendo, wareki


def render(source: str, **context) -> str:
    return Template("{% load council_tags %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 12, 31), "令和元年12月31日"),
        (date(2020, 1, 1), "令和2年1月1日"),
        (date(2026, 12, 1), "令和8年12月1日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1912, 7, 30), "大正元年7月30日"),
    ],
)
def test_dates_in_japanese_show_the_era(day, expected):
    with translation.override("ja"):
        assert wareki(day) == expected


def test_era_of_counts_the_first_year_as_one():
    assert era_of(date(2019, 5, 1)) == ("令和", 1)
    assert era_of(date(2019, 4, 30)) == ("平成", 31)
    assert era_of(date(1850, 1, 1)) is None


def test_a_datetime_is_read_in_local_time():
    # 2019-04-30 23:30 UTC is already 1 May in Tokyo: the first day of 令和.
    moment = datetime(2019, 4, 30, 15, 30, tzinfo=ZoneInfo("UTC"))
    with translation.override("ja"):
        assert wareki(moment) == "令和元年5月1日"


@pytest.mark.parametrize(
    ("fiscal_year", "expected"),
    [(2026, "令和8年度"), (2019, "令和元年度"), (2018, "平成30年度"), (2020, "令和2年度"), (1989, "平成元年度"), (1988, "昭和63年度")],
)
def test_fiscal_years_in_japanese(fiscal_year, expected):
    with translation.override("ja"):
        assert nendo(fiscal_year) == expected


def test_a_date_gives_the_fiscal_year_it_falls_in():
    with translation.override("ja"):
        assert nendo(date(2027, 3, 31)) == "令和8年度"
        assert nendo(date(2027, 4, 1)) == "令和9年度"


def test_english_shows_plain_dates_and_fy():
    with translation.override("en"):
        assert wareki(date(2026, 12, 1)) == "Dec. 1, 2026"
        assert nendo(2026) == "FY2026"
        assert nendo("2019") == "FY2019"


def test_the_filters_in_a_template_and_empty_values():
    with translation.override("ja"):
        assert render("{{ d|wareki }} {{ d|nendo }}", d=date(2019, 5, 1)) == "令和元年5月1日 令和元年度"
        assert render("[{{ d|wareki }}][{{ d|nendo }}]", d=None) == "[][]"
        assert render("[{{ d|nendo }}]", d="abc") == "[]"
    with translation.override("en"):
        assert render("{{ d|wareki }} {{ d|nendo }}", d=date(2019, 5, 1)) == "May 1, 2019 FY2019"
        # Before the Gregorian calendar's adoption there is no era date to give.
        assert render("{{ d|wareki }}", d=date(1850, 1, 1)) == "Jan. 1, 1850"


def test_before_1873_japanese_falls_back_to_a_plain_date():
    with translation.override("ja"):
        assert wareki(date(1850, 1, 1)) == "1850年1月1日"
