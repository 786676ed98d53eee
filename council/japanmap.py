"""Server-side choropleth map of Japan's 47 prefectures, as inline SVG for dashboards.

The shapes come from ``council/data/japan_prefectures.json`` (see the README there). Prefectures are
keyed by their 6-digit 全国地方公共団体コード ("010006" 北海道 … "470007" 沖縄県)::

    render_map({"130001": 42.0, "010006": None}, title="導入率", legend_label="導入率（%）")
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

DATA_FILE = Path(__file__).resolve().parent / "data" / "japan_prefectures.json"

# Light to dark: the blue scale of the Digital Agency design system.
COLOURS = ("#e8f1fe", "#c5d7fb", "#7096f8", "#3460fb", "#0031d8")
NO_DATA_COLOUR = "#d8d8db"
NO_DATA = gettext_lazy("データなし")
TEXT_COLOUR = "#1a1a1c"

_ids = itertools.count(1)


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    with DATA_FILE.open(encoding="utf-8") as fp:
        return json.load(fp)


def prefecture_codes() -> list[str]:
    """The 47 prefecture codes, 北海道 (010006) to 沖縄県 (470007)."""
    return [p["code"] for p in _data()["prefectures"]]


def _number(v: float) -> str:
    return f"{v:g}"


def _bucket(value: float, low: float, high: float) -> int:
    """0..4; values outside the scale count as its nearest end."""
    if high <= low:
        return len(COLOURS) - 1
    step = math.floor((value - low) / (high - low) * len(COLOURS))
    return max(0, min(len(COLOURS) - 1, step))


def render_map(
    values: Mapping[str, float | None],
    *,
    title: str,
    link: Callable[[str], str | None] | None = None,
    legend_label: str = "",
    scale: tuple[float, float] = (0, 100),
    unit: str = "%",
) -> SafeString:
    """An inline ``<svg>`` with each prefecture filled by ``values[code]`` on ``scale`` in 5 steps.

    Missing, ``None`` and NaN values are grey ("データなし"). With ``link``, each prefecture whose
    ``link(code)`` is a URL becomes a focusable ``<a>``; the SVG is then a labelled group rather
    than a single image, so that assistive technology can reach the links.
    """
    data = _data()
    low, high = float(scale[0]), float(scale[1])
    dom_id = f"jpmap-{next(_ids)}"
    _, _, width, height = (float(v) for v in data["viewBox"].split())

    shapes = []
    for pref in data["prefectures"]:
        code, name = pref["code"], pref["name"]
        raw = values.get(code)
        value = None if raw is None else float(raw)  # also takes int and Decimal
        if value is None or math.isnan(value):
            fill, label = NO_DATA_COLOUR, f"{name}{gettext_lazy('：')}{NO_DATA}"
        else:
            fill, label = COLOURS[_bucket(value, low, high)], f"{name}{gettext_lazy('：')}{value:.1f}{unit}"
        path = format_html(
            '<path d="{}" fill="{}" data-code="{}"><title>{}</title></path>', pref["d"], fill, code, label
        )
        url = link(code) if link else None
        if url:
            path = format_html('<a href="{}" aria-label="{}">{}</a>', url, label, path)
        shapes.append(path)

    # Legend in the bottom-right corner (the Pacific south of Kanto).
    rows = [
        (colour, f"{_number(low + (high - low) * i / 5)}–{_number(low + (high - low) * (i + 1) / 5)}")
        for i, colour in enumerate(COLOURS)
    ]
    rows.append((NO_DATA_COLOUR, NO_DATA))
    x = width - 130
    y = height - 14 - 18 * len(rows)
    legend = format_html_join(
        "",
        '<rect x="{}" y="{}" width="16" height="12" fill="{}" stroke="#767676" stroke-width=".5"/>'
        '<text x="{}" y="{}">{}</text>',
        (
            (_number(x), _number(y + 18 * i), colour, _number(x + 22), _number(y + 18 * i + 10.5), text)
            for i, (colour, text) in enumerate(rows)
        ),
    )
    heading = format_html('<text x="{}" y="{}" font-weight="bold">{}</text>', _number(x), _number(y - 8), legend_label)

    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="{}" class="jpmap" role="{}" aria-labelledby="{}">'
        '<title id="{}">{}</title>'
        '<path d="{}" fill="none" stroke="#767676" stroke-width="1" aria-hidden="true"/>'
        '<g stroke="#fff" stroke-width=".6" stroke-linejoin="round">{}</g>'
        '<g font-size="12" fill="{}" aria-hidden="true">{}{}</g></svg>',
        data["viewBox"],
        "group" if link else "img",
        f"{dom_id}-title",
        f"{dom_id}-title",
        title,
        data["inset"],
        mark_safe("".join(shapes)),
        TEXT_COLOUR,
        heading if legend_label else "",
        legend,
    )
