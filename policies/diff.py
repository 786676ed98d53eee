"""A readable diff of two policy versions, section by section, that works for Japanese.

Japanese prose has no spaces and long lines, so a line diff would mark a whole paragraph
changed for one character: lines that changed are compared again character by character.
"""

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from policies.sections import split_sections


@dataclass
class Piece:
    kind: str  # "equal", "insert", "delete"
    text: str


@dataclass
class SectionDiff:
    title: str
    status: str  # "unchanged", "changed", "added", "removed"
    lines: list[list[Piece]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "status": self.status,
            "lines": [[{"kind": p.kind, "text": p.text} for p in line] for line in self.lines],
        }


def _chars(old: str, new: str) -> list[Piece]:
    pieces = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(Piece("equal", old[a1:a2]))
        else:
            if a2 > a1:
                pieces.append(Piece("delete", old[a1:a2]))
            if b2 > b1:
                pieces.append(Piece("insert", new[b1:b2]))
    return pieces


def _lines(old: str, new: str) -> list[list[Piece]]:
    a, b = old.split("\n"), new.split("\n")
    out: list[list[Piece]] = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend([Piece("equal", line)] for line in a[a1:a2])
        elif op == "replace" and a2 - a1 == b2 - b1:
            # Same number of lines replaced: pair them up and show what changed inside each.
            out.extend(_chars(x, y) for x, y in zip(a[a1:a2], b[b1:b2], strict=True))
        else:
            out.extend([Piece("delete", line)] for line in a[a1:a2])
            out.extend([Piece("insert", line)] for line in b[b1:b2])
    return out


def diff_bodies(old_body: str, new_body: str) -> list[SectionDiff]:
    old = {s.title: s.text for s in split_sections(old_body)}
    new_sections = split_sections(new_body)
    new = {s.title: s.text for s in new_sections}
    titles = [s.title for s in new_sections] + [t for t in old if t not in new]
    result = []
    for title in titles:
        if title not in old:
            result.append(SectionDiff(title, "added", [[Piece("insert", l)] for l in new[title].split("\n")]))
        elif title not in new:
            result.append(SectionDiff(title, "removed", [[Piece("delete", l)] for l in old[title].split("\n")]))
        elif old[title] == new[title]:
            result.append(SectionDiff(title, "unchanged", [[Piece("equal", l)] for l in new[title].split("\n")]))
        else:
            result.append(SectionDiff(title, "changed", _lines(old[title], new[title])))
    return result
