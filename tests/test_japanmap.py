"""The prefecture map: shapes data, colours, titles, links and well-formed SVG (no database)."""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from council.japanmap import COLOURS, DATA_FILE, NO_DATA_COLOUR, prefecture_codes, render_map

SVG = "{http://www.w3.org/2000/svg}"


def check_digit(code5: str) -> int:
    s = sum(w * int(d) for w, d in zip((6, 5, 4, 3, 2), code5, strict=True))
    return (11 - s % 11) % 10


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def paths(root: ET.Element) -> dict[str, ET.Element]:
    return {p.get("data-code"): p for p in root.iter(f"{SVG}path") if p.get("data-code")}


def test_codes_are_the_47_prefectures_in_order():
    codes = prefecture_codes()
    assert len(codes) == 47 == len(set(codes))
    assert codes[0] == "010006" and codes[12] == "130001" and codes[46] == "470007"
    for number, code in enumerate(codes, start=1):
        assert code[:5] == f"{number:02d}000"
        assert int(code[5]) == check_digit(code[:5])


def test_data_file_is_small_and_complete():
    assert DATA_FILE.stat().st_size < 120_000
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    assert data["licence"].startswith("Apache-2.0 (japanmap ")
    assert re.fullmatch(r"0 0 \d+ \d+", data["viewBox"])
    assert data["inset"].startswith("M")
    names = [p["name"] for p in data["prefectures"]]
    assert names[0] == "北海道" and names[12] == "東京都" and names[46] == "沖縄県"
    assert [p["number"] for p in data["prefectures"]] == list(range(1, 48))
    for p in data["prefectures"]:
        assert re.fullmatch(r"M[\d. ]+Z", p["d"]), p["name"]


def test_one_path_per_prefecture_and_well_formed():
    root = parse(render_map({}, title="地図"))
    assert root.tag == f"{SVG}svg"
    assert list(paths(root)) == prefecture_codes()
    assert {"010006", "130001", "470007"} <= set(paths(root))


@pytest.mark.parametrize(
    ("value", "colour"),
    [
        (0, COLOURS[0]),
        (19.9, COLOURS[0]),
        (20, COLOURS[1]),
        (50, COLOURS[2]),
        (79.9, COLOURS[3]),
        (80, COLOURS[4]),
        (100, COLOURS[4]),
        (150, COLOURS[4]),
        (-5, COLOURS[0]),
    ],
)
def test_colour_by_bucket(value, colour):
    root = parse(render_map({"130001": value}, title="t"))
    assert paths(root)["130001"].get("fill") == colour


def test_custom_scale():
    root = parse(render_map({"130001": 0.5, "010006": 0.95}, title="t", scale=(0, 1)))
    assert paths(root)["130001"].get("fill") == COLOURS[2]
    assert paths(root)["010006"].get("fill") == COLOURS[4]


def test_none_missing_and_nan_are_grey_with_no_data_title():
    root = parse(render_map({"010006": None, "130001": float("nan")}, title="t"))
    for code in ("010006", "130001", "470007"):
        path = paths(root)[code]
        assert path.get("fill") == NO_DATA_COLOUR
        assert path.find(f"{SVG}title").text.endswith("：データなし")


def test_titles():
    root = parse(render_map({"010006": 42, "470007": 7.26}, title="導入率 <速報>"))
    assert paths(root)["010006"].find(f"{SVG}title").text == "北海道：42.0%"
    assert paths(root)["470007"].find(f"{SVG}title").text == "沖縄県：7.3%"
    label_id = root.get("aria-labelledby")
    assert root.get("role") == "img"
    assert [t.text for t in root.iter(f"{SVG}title") if t.get("id") == label_id] == ["導入率 <速報>"]


def test_escapes_text():
    svg = render_map({}, title='<script>alert("x")</script>', legend_label="A & B")
    assert "<script>" not in svg
    root = parse(svg)
    assert any(t.text == "A & B" for t in root.iter(f"{SVG}text"))


def test_links_wrap_paths():
    svg = render_map(
        {"130001": 10},
        title="t",
        link=lambda code: None if code == "470007" else f'/orgs/{code}/?a=1&b="2"',
    )
    root = parse(svg)
    anchors = list(root.iter(f"{SVG}a"))
    assert len(anchors) == 46
    tokyo = next(a for a in anchors if a.find(f"{SVG}path").get("data-code") == "130001")
    assert tokyo.get("href") == '/orgs/130001/?a=1&b="2"'
    assert tokyo.get("aria-label") == "東京都：10.0%"
    assert root.get("role") == "group"


def test_no_links_by_default():
    assert "<a " not in render_map({}, title="t")


def test_legend_and_inset():
    root = parse(render_map({}, title="t", legend_label="導入率（%）"))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts[:2] == ["導入率（%）", "0–20"] and texts[-1] == "データなし"
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect")]
    assert fills == [*COLOURS, NO_DATA_COLOUR]
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    assert any(p.get("d") == data["inset"] for p in root.iter(f"{SVG}path"))


def test_ids_are_unique_per_render():
    a, b = parse(render_map({}, title="a")), parse(render_map({}, title="b"))
    assert a.get("aria-labelledby") != b.get("aria-labelledby")
