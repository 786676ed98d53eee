"""Geometry of the criteria charts on a candidate's page, drawn server-side as inline SVG.

No JavaScript and no chart library: the template draws rectangles and lines at the
positions computed here. The score bar is sized in percentages of its own width (the SVG
has no viewBox), so it stretches with the page while its text keeps its real size; the
small distribution chart has a fixed size. Every chart also carries a sentence stating its
numbers (role="img" + aria-label), and the page repeats them in a table.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from candidates.models import CriterionScore, ScoreSummary

SCALE = (1, 2, 3, 4, 5)
# The score axis runs from 1 to 5 between these two positions (percent of the width),
# leaving room for the end labels.
AXIS_START, AXIS_END = 3.0, 97.0

# Distribution chart: one column per score, fixed pixel geometry.
COLUMN_WIDTH, COLUMN_GAP, COLUMN_MAX_HEIGHT = 22, 8, 36
DIST_TOP = 16  # room for the count above the tallest column
DIST_HEIGHT = DIST_TOP + COLUMN_MAX_HEIGHT + 20
DIST_WIDTH = len(SCALE) * COLUMN_WIDTH + (len(SCALE) - 1) * COLUMN_GAP


def _pos(score: float) -> float:
    return AXIS_START + (score - SCALE[0]) / (SCALE[-1] - SCALE[0]) * (AXIS_END - AXIS_START)


def _pct(value: float) -> str:
    # Always a dot as decimal separator, whatever the page's language.
    return f"{value:.2f}%"


@dataclass(frozen=True)
class Tick:
    x: str
    label: int


@dataclass(frozen=True)
class Column:
    score: int
    count: int
    x: int
    y: int
    height: int
    center: int
    count_y: int
    label_y: int


@dataclass(frozen=True)
class CriterionChart:
    score: CriterionScore
    ticks: list[Tick]
    bar_start: str
    bar_width: str
    mean_x: str
    min_x: str
    max_x: str
    columns: list[Column]
    description: str
    distribution_description: str
    track_width: str = _pct(AXIS_END - AXIS_START)
    dist_width: int = DIST_WIDTH
    dist_height: int = DIST_HEIGHT
    baseline_y: int = DIST_TOP + COLUMN_MAX_HEIGHT

    @property
    def id(self) -> str:
        return self.score.criterion


def _columns(distribution: dict[int, int]) -> list[Column]:
    tallest = max(distribution.values(), default=0) or 1
    columns = []
    for i, score in enumerate(SCALE):
        count = distribution.get(score, 0)
        height = round(count / tallest * COLUMN_MAX_HEIGHT)
        if count and height < 2:
            height = 2
        x = i * (COLUMN_WIDTH + COLUMN_GAP)
        y = DIST_TOP + COLUMN_MAX_HEIGHT - height
        columns.append(
            Column(
                score=score,
                count=count,
                x=x,
                y=y,
                height=height,
                center=x + COLUMN_WIDTH // 2,
                count_y=y - 4,
                label_y=DIST_TOP + COLUMN_MAX_HEIGHT + 15,
            )
        )
    return columns


def _description(score: CriterionScore) -> str:
    return _(
        "%(label)s：平均 %(mean)s（1〜5の5段階）、最小 %(min)s、最大 %(max)s、"
        "ばらつき %(spread)s、評価者 %(count)s人"
    ) % {
        "label": score.label,
        "mean": number_format(score.mean, 2),
        "min": score.min,
        "max": score.max,
        "spread": score.spread,
        "count": score.count,
    }


def _distribution_description(score: CriterionScore) -> str:
    parts = [_("%(score)s点 %(count)s人") % {"score": s, "count": score.distribution[s]} for s in SCALE]
    return _("%(label)sの評点の分布：%(parts)s") % {"label": score.label, "parts": _("、").join(parts)}


def criterion_chart(score: CriterionScore) -> CriterionChart | None:
    """The chart of one criterion, or None when nobody has scored it yet."""
    if score.mean is None:
        return None
    start, mean = _pos(SCALE[0]), _pos(score.mean)
    return CriterionChart(
        score=score,
        ticks=[Tick(x=_pct(_pos(s)), label=s) for s in SCALE],
        bar_start=_pct(start),
        bar_width=_pct(mean - start),
        mean_x=_pct(mean),
        min_x=_pct(_pos(score.min)),
        max_x=_pct(_pos(score.max)),
        columns=_columns(score.distribution),
        description=_description(score),
        distribution_description=_distribution_description(score),
    )


def criteria_panels(summary: ScoreSummary) -> list[tuple[CriterionScore, CriterionChart | None]]:
    """Each criterion's aggregate with its chart (None until someone has scored it)."""
    return [(score, criterion_chart(score)) for score in summary.criteria]
