"""The English catalogue is complete: every msgid has an English msgstr, none is fuzzy, and
the compiled .mo is not older than the .po. (locale/merge_fragments.py lists what is missing.)"""

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES"


def test_every_entry_of_the_english_catalogue_is_translated_and_none_is_fuzzy():
    catalogue = polib.pofile(str(LOCALE / "django.po"), encoding="utf-8")
    assert len(catalogue) > 100
    untranslated = [e.msgid for e in catalogue.untranslated_entries() if not e.obsolete]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries() if not e.obsolete]
    assert untranslated == [], f"untranslated: {untranslated[:20]}"
    assert fuzzy == [], f"fuzzy: {fuzzy[:20]}"


def test_the_compiled_catalogue_has_every_translation():
    catalogue = polib.pofile(str(LOCALE / "django.po"), encoding="utf-8")
    compiled = {(e.msgctxt, e.msgid) for e in polib.mofile(str(LOCALE / "django.mo"))}
    missing = [e.msgid for e in catalogue.translated_entries() if (e.msgctxt, e.msgid) not in compiled]
    assert missing == [], f"run compilemessages (or locale/merge_fragments.py): {missing[:20]}"
