"""Geometry of the stage 4 charts, drawn server-side as inline SVG (as candidates.charts).

No JavaScript and no chart library: templates draw rectangles and lines at the positions
computed here. Horizontal positions are percentages of the chart's own width (the SVGs have
no viewBox), so a chart stretches with the page while its text keeps its real size;
vertical positions are pixels. Every chart carries a sentence stating its numbers
(role="img" + aria-label), and the page repeats the numbers in a table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from progress.models import AdoptionStatus, ProgressReport, ReportStatus
from progress.periods import PERIOD_MONTHS, PERIOD_STARTS, Period, periods_between


def _pct(value: float) -> str:
    # Always a dot as decimal separator, whatever the page's language.
    return f"{value:.2f}%"


def format_number(value: float | int | None) -> str:
    """1741 → "1,741"; 99.984 → "99.98"; None → "—"."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return number_format(round(value, 2), decimal_pos=None, force_grouping=True)
    return number_format(int(value), force_grouping=True)


# --- Adoption: one bar stacked by status ---------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    status: str
    label: str
    count: int
    share: float  # percent of the total
    x: str
    width: str


@dataclass(frozen=True)
class StackedBar:
    segments: list[Segment]
    total: int
    description: str

    @property
    def drawn(self) -> list[Segment]:
        return [s for s in self.segments if s.count]


def adoption_bar(counts: Mapping[str, int], subject: str) -> StackedBar:
    """The adoption statuses of `subject` (「全国」, a prefecture) as one bar, in the order of
    AdoptionStatus, with every status in the legend even when its count is 0."""
    total = sum(counts.get(s, 0) for s in AdoptionStatus.values)
    segments, start = [], 0.0
    for status in AdoptionStatus:
        count = counts.get(status.value, 0)
        share = count / total * 100 if total else 0.0
        segments.append(Segment(status.value, str(status.label), count, share, _pct(start), _pct(share)))
        start += share
    parts = _("、").join(
        _("%(label)s %(count)s団体（%(share)s%%）")
        % {"label": s.label, "count": format_number(s.count), "share": number_format(s.share, 1)}
        for s in segments
    )
    description = _("%(subject)sの導入状況（%(total)s団体）：%(parts)s") % {
        "subject": subject, "total": format_number(total), "parts": parts,
    }
    return StackedBar(segments=segments, total=total, description=description)


# --- KPIs: one line chart per KPI over the periods -----------------------------------------------

CHART_HEIGHT = 240
PLOT_TOP = 28  # room for the top tick's label
PLOT_BOTTOM = CHART_HEIGHT - 48  # room for two lines of period labels
X_START, X_END = 7.0, 96.0  # percent of the width; the tick labels sit left of X_START
MAX_X_LABELS = 8


@dataclass(frozen=True)
class Gridline:
    y: int
    label: str
    label_y: int


@dataclass(frozen=True)
class KpiPoint:
    period: str  # "2026年度 第1四半期"
    short: str  # "4〜6月"
    fiscal_year: str  # "2026年度", shown under the first point of each fiscal year
    show_label: bool
    narrow_hidden: bool  # every other label gives way on narrow screens
    x: str
    target: float | int | None
    actual: float | int | None
    target_y: int | None
    actual_y: int | None
    reported: bool  # False: no report of this period (not yet submitted, or not shown to the user)
    accepted: bool

    @property
    def attainment(self) -> float | None:
        """Actual as a percentage of the target."""
        if self.actual is None or not self.target:
            return None
        return round(self.actual / self.target * 100, 1)


@dataclass(frozen=True)
class Line:
    x1: str
    y1: int
    x2: str
    y2: int


@dataclass
class KpiChart:
    name: str
    unit: str
    points: list[KpiPoint]
    gridlines: list[Gridline] = field(default_factory=list)
    target_lines: list[Line] = field(default_factory=list)
    actual_lines: list[Line] = field(default_factory=list)
    description: str = ""
    height: int = CHART_HEIGHT
    label_y: int = PLOT_BOTTOM + 18
    year_y: int = PLOT_BOTTOM + 36
    baseline_y: int = PLOT_BOTTOM

    @property
    def latest(self) -> KpiPoint | None:
        with_actual = [p for p in self.points if p.actual is not None]
        return with_actual[-1] if with_actual else None


def _nice_step(span: float, ticks: int = 4) -> float:
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _scale(values: Iterable[float]) -> tuple[float, float, float]:
    """(low, high, step) of a y axis that starts at 0 (or below, for negative values)."""
    values = list(values)
    low, high = min([0.0, *values]), max([0.0, *values])
    if high == low:
        high = low + 1
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _short_label(period: Period) -> str:
    if period.frequency == "annual":
        return ""
    if period.frequency == "semiannual":
        return _("上期") if period.number == 1 else _("下期")
    first = 4 + PERIOD_STARTS[period.frequency][period.number - 1]
    last = first + PERIOD_MONTHS[period.frequency] - 1
    return _("%(first)s〜%(last)s月") % {"first": (first - 1) % 12 + 1, "last": (last - 1) % 12 + 1}


def kpi_charts(reports: list[ProgressReport]) -> list[KpiChart]:
    """One chart per KPI name across `reports`, in the order the KPIs first appear. The x axis
    runs over every period from the first report to the last, so a period without a report
    (or without the KPI) is a visible gap in the lines, not a silently closed one."""
    if not reports:
        return []
    ordered = sorted(reports, key=lambda r: r.period_start)
    frequency = ordered[0].schedule.frequency
    periods = periods_between(
        Period(ordered[0].fiscal_year, ordered[0].period, frequency),
        Period(ordered[-1].fiscal_year, ordered[-1].period, frequency),
    )
    by_period = {(r.fiscal_year, r.period): r for r in ordered}
    units: dict[str, str] = {}
    for report in ordered:
        for kpi in report.kpis:
            units.setdefault(kpi["name"], "")
            if kpi.get("unit"):
                units[kpi["name"]] = kpi["unit"]  # the latest unit wins
    return [_kpi_chart(name, unit, periods, by_period) for name, unit in units.items()]


def _kpi_chart(name: str, unit: str, periods: list[Period], by_period: dict) -> KpiChart:
    values = []
    for period in periods:
        report = by_period.get((period.fiscal_year, period.number))
        kpi = next((k for k in report.kpis if k["name"] == name), None) if report else None
        values.append((report, kpi.get("target") if kpi else None, kpi.get("actual") if kpi else None))
    low, high, step = _scale(v for _report, *pair in values for v in pair if v is not None)

    def y(value):
        return None if value is None else round(PLOT_BOTTOM - (value - low) / (high - low) * (PLOT_BOTTOM - PLOT_TOP))

    count = len(periods)
    every = math.ceil(count / MAX_X_LABELS)
    points, labelled_years = [], set()
    for index, (period, (report, target, actual)) in enumerate(zip(periods, values, strict=True)):
        # Labels are thinned counting back from the latest period, which is always labelled;
        # on narrow screens every other remaining label gives way too.
        step_back = count - 1 - index
        show = step_back % every == 0
        points.append(KpiPoint(
            period=period.label,
            short=_short_label(period),
            fiscal_year=_("%(year)s年度") % {"year": period.fiscal_year} if show and period.fiscal_year not in labelled_years else "",
            show_label=show,
            narrow_hidden=show and count > 4 and (step_back // every) % 2 == 1,
            x=_pct((X_START + X_END) / 2 if count == 1 else X_START + index * (X_END - X_START) / (count - 1)),
            target=target, actual=actual, target_y=y(target), actual_y=y(actual),
            reported=report is not None,
            accepted=report is not None and report.status == ReportStatus.ACCEPTED,
        ))
        if show:
            labelled_years.add(period.fiscal_year)
    ticks = [low + i * step for i in range(round((high - low) / step) + 1)]
    return KpiChart(
        name=name, unit=unit, points=points,
        gridlines=[Gridline(y=y(t), label=format_number(t), label_y=y(t) - 4) for t in ticks],
        target_lines=_lines(points, "target_y"), actual_lines=_lines(points, "actual_y"),
        description=_kpi_description(name, unit, points),
    )


def _lines(points: list[KpiPoint], attribute: str) -> list[Line]:
    lines = []
    for before, after in zip(points, points[1:]):
        y1, y2 = getattr(before, attribute), getattr(after, attribute)
        if y1 is not None and y2 is not None:
            lines.append(Line(before.x, y1, after.x, y2))
    return lines


def _kpi_description(name: str, unit: str, points: list[KpiPoint]) -> str:
    parts = [
        _("%(period)s 目標%(target)s・実績%(actual)s")
        % {"period": p.period, "target": format_number(p.target), "actual": format_number(p.actual)}
        if p.reported else _("%(period)s 報告なし") % {"period": p.period}
        for p in points
    ]
    unit_note = _("（単位：%(unit)s）") % {"unit": unit} if unit else ""
    return _("%(name)sの推移%(unit)s：%(parts)s") % {"name": name, "unit": unit_note, "parts": _("、").join(parts)}
