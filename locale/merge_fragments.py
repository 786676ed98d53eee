"""Merge the English translation fragments into the catalogue, then compile it.

    .venv/bin/python locale/merge_fragments.py [FRAGMENT.po | DIRECTORY ...] [--no-makemessages] [--check]

1. `manage.py makemessages -l en` (as `make messages`) brings locale/en/LC_MESSAGES/django.po
   up to date with the code and templates: new msgids come in empty (or fuzzy, with a guess).
2. Every entry of the catalogue that is untranslated or fuzzy takes the English of the same
   msgid (and msgctxt) from the fragments (default: /tmp/i18n/*.po; `msgid "日本語"` /
   `msgstr "English"` entries, no header needed), and loses its fuzzy flag. A translated entry
   is kept as it is; a fragment that says otherwise is listed as a conflict.
3. Obsolete entries (#~, msgids gone from the code) are dropped, and the catalogue compiled
   (`compilemessages -l en`).

It prints what it filled, the conflicts, the fragment msgids the code does not use (yet), and
every entry still untranslated or fuzzy: translate those in django.po by hand and run it again
(with --no-makemessages it only fills and compiles). --check exits 1 while any remain.
tests/test_i18n_catalogue.py fails as long as one does.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
DEFAULT_FRAGMENTS = Path("/tmp/i18n")
IGNORE = [".venv/*", "tests/*", "media/*", "bench/*", "node_modules/*"]


def manage(*args: str) -> None:
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "true")}
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def key(entry: polib.POEntry) -> tuple[str | None, str]:
    return entry.msgctxt, entry.msgid


def is_translated(entry: polib.POEntry) -> bool:
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def needs_work(entry: polib.POEntry) -> bool:
    return not entry.obsolete and ("fuzzy" in entry.flags or not is_translated(entry))


def fragment_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths or [str(DEFAULT_FRAGMENTS)]:
        path = Path(raw)
        files.extend(sorted(path.glob("*.po")) if path.is_dir() else [path])
    return files


def load_fragments(files: list[Path]) -> dict[tuple[str | None, str], tuple[polib.POEntry, Path]]:
    found: dict[tuple[str | None, str], tuple[polib.POEntry, Path]] = {}
    for path in files:
        try:
            fragment = polib.pofile(str(path), encoding="utf-8")
        except (OSError, ValueError) as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
            continue
        for entry in fragment:
            if entry.obsolete or "fuzzy" in entry.flags or not is_translated(entry) or not entry.msgid:
                continue
            if key(entry) in found and found[key(entry)][0].msgstr != entry.msgstr:
                print(f"fragments disagree on {entry.msgid!r}: {found[key(entry)][1].name} kept, {path.name} ignored")
                continue
            found.setdefault(key(entry), (entry, path))
    return found


def merge(catalogue: polib.POFile, fragments: dict) -> tuple[int, list[str], set]:
    filled, conflicts, used = 0, [], set()
    for entry in catalogue:
        if entry.obsolete or key(entry) not in fragments:
            continue
        source, path = fragments[key(entry)]
        used.add(key(entry))
        if needs_work(entry):
            if entry.msgid_plural:
                if source.msgid_plural and source.msgstr_plural:
                    entry.msgstr_plural = dict(source.msgstr_plural)
                elif source.msgstr:
                    entry.msgstr_plural = {index: source.msgstr for index in (entry.msgstr_plural or {0: ""})}
                else:
                    continue
            else:
                entry.msgstr = source.msgstr or source.msgstr_plural.get(0, "")
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
            filled += 1
        elif not entry.msgid_plural and source.msgstr and source.msgstr != entry.msgstr:
            conflicts.append(f"{entry.msgid!r}: catalogue {entry.msgstr!r}, {path.name} {source.msgstr!r}")
    return filled, conflicts, used


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fragments", nargs="*", help="fragment files or directories (default /tmp/i18n)")
    parser.add_argument("--no-makemessages", action="store_true", help="do not run makemessages first")
    parser.add_argument("--check", action="store_true", help="exit 1 while an entry is untranslated or fuzzy")
    args = parser.parse_args(argv)

    if not args.no_makemessages:
        manage("makemessages", "-l", "en", *[f"--ignore={pattern}" for pattern in IGNORE])
    catalogue = polib.pofile(str(CATALOGUE), encoding="utf-8", wrapwidth=79)
    fragments = load_fragments(fragment_files(args.fragments))
    filled, conflicts, used = merge(catalogue, fragments)
    for entry in catalogue.obsolete_entries():
        catalogue.remove(entry)
    catalogue.save(str(CATALOGUE))
    manage("compilemessages", "-l", "en", "--ignore=.venv/*")

    unused = sorted(msgid for (_ctx, msgid) in set(fragments) - used)
    remaining = [entry for entry in catalogue if needs_work(entry)]
    print(f"filled from fragments: {filled}")
    for line in conflicts:
        print(f"conflict (catalogue kept): {line}")
    if unused:
        print(f"fragment msgids not in the code (yet): {len(unused)}")
        for msgid in unused:
            print(f"  {msgid!r}")
    print(f"still untranslated or fuzzy: {len(remaining)}")
    for entry in remaining:
        where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
        print(f"  {'fuzzy' if 'fuzzy' in entry.flags else 'empty'} {entry.msgid!r} ({where})")
    return 1 if args.check and remaining else 0


if __name__ == "__main__":
    sys.exit(main())
