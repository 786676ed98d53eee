"""A policy version's body: Markdown with one `##` heading per section."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# The sections every submitted version must have, in order (their headings as written).
REQUIRED_SECTIONS = (
    ("purpose", "目的と範囲"),
    ("targets", "対象システムと業務"),
    ("schedule", "スケジュールとマイルストーン"),
    ("migration", "移行の考え方"),
    ("kpi", "KPI"),
)

BODY_TEMPLATE = "\n\n".join(f"## {title}\n" for _key, title in REQUIRED_SECTIONS)


@dataclass(frozen=True)
class Section:
    title: str  # "" for any text before the first heading
    text: str


def split_sections(body: str) -> list[Section]:
    sections: list[Section] = []
    title, lines = "", []
    for line in (body or "").replace("\r\n", "\n").split("\n"):
        if line.startswith("## "):
            if title or any(l.strip() for l in lines):
                sections.append(Section(title, "\n".join(lines).strip("\n")))
            title, lines = line[3:].strip(), []
        else:
            lines.append(line)
    if title or any(l.strip() for l in lines):
        sections.append(Section(title, "\n".join(lines).strip("\n")))
    return sections


def missing_sections(body: str) -> list[str]:
    """Titles of required sections absent or empty in `body`."""
    present = {s.title: s.text.strip() for s in split_sections(body)}
    return [title for _key, title in REQUIRED_SECTIONS if not present.get(title)]


def section_titles(body: str) -> list[str]:
    return [s.title for s in split_sections(body)]


MISSING_SECTIONS_MESSAGE = _("提出するには次の節（## 見出し）に内容が必要です：%(titles)s")
