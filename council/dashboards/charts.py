"""Dashboard charts drawn server-side as inline SVG geometry (no JavaScript, no chart library),
in the manner of progress.charts: positions are percentages of the chart's width, each chart
carries a sentence stating its numbers, and the page repeats them in a table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from progress.charts import Segment, StackedBar, format_number
from progress.models import AdoptionStatus


def _pct(value: float) -> str:
    return f"{value:.2f}%"


def stage_bar(counts: Mapping[str, int], labels: Mapping[str, str], subject: str) -> StackedBar:
    """One bar stacked by status (in the order of ``labels``); segment classes use the index."""
    total = sum(counts.get(k, 0) for k in labels)
    segments, start = [], 0.0
    for key, label in labels.items():
        count = counts.get(key, 0)
        share = count / total * 100 if total else 0.0
        segments.append(Segment(key, str(label), count, share, _pct(start), _pct(share)))
        start += share
    parts = _("、").join(f"{s.label} {format_number(s.count)}" for s in segments)
    return StackedBar(segments=segments, total=total, description=_("%(subject)s（計%(total)s）：%(parts)s") % {
        "subject": subject, "total": format_number(total), "parts": parts,
    })


# --- Adoption over time: one line per status ----------------------------------------------------

HEIGHT = 220
TOP, BOTTOM = 16, HEIGHT - 36
X0, X1 = 8.0, 97.0
TREND_STATUSES = (AdoptionStatus.IN_USE, AdoptionStatus.MIGRATING, AdoptionStatus.PLANNED, AdoptionStatus.CONSIDERING)


@dataclass(frozen=True)
class TrendLine:
    status: str
    label: str
    points: list[tuple[str, float]]  # (x %, y px)
    last: int

    @property
    def segments(self) -> list[tuple[str, float, str, float]]:
        return [(a[0], a[1], b[0], b[1]) for a, b in zip(self.points, self.points[1:])]


@dataclass(frozen=True)
class TrendChart:
    lines: list[TrendLine]
    x_labels: list[tuple[str, str]]  # (x %, "2026-04")
    y_ticks: list[tuple[float, str]]  # (y px, label)
    description: str
    height: int = HEIGHT


def trend_chart(points: Sequence[dict]) -> TrendChart | None:
    """Local governments per status (利用中, 移行中, 導入予定, 検討中) at each month's end."""
    if not points:
        return None
    top = max(max(p["counts"].get(s, 0) for s in TREND_STATUSES) for p in points) or 1
    step = max(1, _nice(top / 4))
    ceiling = step * max(1, -(-top // step))
    n = len(points)

    def x(i: int) -> str:
        return _pct(X0 + (X1 - X0) * (i / (n - 1) if n > 1 else 0.5))

    def y(v: int) -> float:
        return round(BOTTOM - (BOTTOM - TOP) * v / ceiling, 1)

    lines = [
        TrendLine(
            status=str(s.value), label=str(s.label),
            points=[(x(i), y(p["counts"].get(s.value, 0))) for i, p in enumerate(points)],
            last=points[-1]["counts"].get(s.value, 0),
        )
        for s in TREND_STATUSES
    ]
    every = max(1, -(-n // 8))
    x_labels = [(x(i), p["month"]) for i, p in enumerate(points) if i % every == 0 or i == n - 1]
    y_ticks = [(y(v), number_format(v, force_grouping=True)) for v in range(0, ceiling + 1, step)]
    description = _("%(first)sから%(last)sまでの月末の団体数。%(latest)s") % {
        "first": points[0]["month"], "last": points[-1]["month"],
        "latest": _("、").join(f"{line.label} {format_number(line.last)}" for line in lines),
    }
    return TrendChart(lines=lines, x_labels=x_labels, y_ticks=y_ticks, description=description)


def _nice(value: float) -> int:
    for base in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= base:
            return base
    return int(value)


# --- Costs: one bar per policy, stacked by payer -----------------------------------------------------


def cost_bars(rows: Sequence[dict], phase: str, labels: Mapping[str, str]) -> list[tuple[dict, StackedBar, str]]:
    """(row, bar, width %) per policy: bars share one scale (the largest policy's cost)."""
    largest = max((sum(r[phase].values()) for r in rows), default=0) or 1
    result = []
    for row in rows:
        bar = stage_bar(row[phase], labels, row["policy"]["title"])
        result.append((row, bar, _pct(sum(row[phase].values()) / largest * 100)))
    return result
