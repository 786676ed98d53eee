"""Readings (kana) are stored as full-width katakana, whatever form they arrive in."""

import re
import unicodedata

# Hiragana ぁ..ゖ sit exactly 0x60 code points below their katakana counterparts.
_HIRAGANA = re.compile("[\u3041-\u3096]")
_KATAKANA_ONLY = re.compile(r"^[\u30a1-\u30fa\u30fc\u30fb\u3000 ]*$")


def to_full_width_katakana(text: str) -> str:
    """NFKC turns half-width katakana into full-width; hiragana is shifted to katakana."""
    normalized = unicodedata.normalize("NFKC", text or "").strip()
    return _HIRAGANA.sub(lambda m: chr(ord(m.group()) + 0x60), normalized)


def is_full_width_katakana(text: str) -> bool:
    return bool(_KATAKANA_ONLY.match(text))
