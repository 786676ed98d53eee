"""English pages carry no Japanese from templates or code.

1. Every template's Japanese text is inside {% translate %} / {% blocktranslate %} (or a
   comment): scanned without rendering, so a page no test opens is covered too.
2. With the demo loaded, each demo user (secretariat, soumu, chijikai, sapporo) switches to
   English (/i18n/setlang/) and walks the site from the home page, following the links of
   every page (GET, HTML pages only, a few URLs per route). A run of Japanese in the visible
   text of an English page must come from the data (some stored value contains it); one that
   no stored value contains was written in a template or in code without gettext.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from django.apps import apps
from django.db import models
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parent.parent
JAPANESE_RUN = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e\uff61-\uff9f]+")
JAPANESE_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")

TRANSLATED = re.compile(
    r"\{%\s*blocktrans(?:late)?\b.*?%\}.*?\{%\s*endblocktrans(?:late)?\s*%\}"
    r"|\{%\s*trans(?:late)?\s.*?%\}"
    r"|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}"
    r"|\{#.*?#\}"
    r"|_\(\s*\"[^\"]*\"\s*\)",  # {{ x|date:_("Y年n月j日") }}
    re.S,
)


def untranslated_japanese(source: str) -> list[str]:
    rest = TRANSLATED.sub(" ", source)
    return JAPANESE_RUN.findall(rest)


# 500.html is static and bilingual on purpose: it is shown when anything (the database, the
# catalogue) may be broken, so it uses no template tag at all.
STATIC_BILINGUAL = {"500.html"}


def test_every_template_has_its_japanese_inside_translation_tags():
    found = {}
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.suffix in {".html", ".txt"} and str(path.relative_to(ROOT / "templates")) not in STATIC_BILINGUAL:
            runs = untranslated_japanese(path.read_text(encoding="utf-8"))
            if runs:
                found[str(path.relative_to(ROOT))] = runs[:5]
    assert found == {}


def test_the_template_scan_finds_a_literal_outside_the_tags():
    assert untranslated_japanese('{% translate "保存" %}<p>（記載なし）</p>') == ["（記載なし）"]
    assert untranslated_japanese('{% translate "保存" %}：{{ x }}') == ["："]
    assert untranslated_japanese('{% blocktranslate with n=1 %}{{ n }}件{% endblocktranslate %}{# 注 #}') == []


# --- walking the English pages ---------------------------------------------------------------

SKIP_PREFIXES = ("/admin/", "/api/", "/i18n/", "/static/", "/media/", "/accounts/logout/", "/healthz", "/readyz", "/metrics")
PER_ROUTE = 2  # URLs of one route followed per user (different objects, different branches)
USERS = ("secretariat", "soumu", "chijikai", "sapporo")


class VisibleText(HTMLParser):
    """The text a reader sees or hears: text nodes and the title/alt/aria-label/placeholder
    attributes, outside <script> and <style>; and the links."""

    ATTRIBUTES = {"title", "alt", "aria-label", "placeholder"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip: list[str] = []  # open elements whose text is not checked

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        # Japanese on purpose: the language switcher names Japanese in Japanese (lang="ja").
        if tag in ("script", "style", "template") or (attributes.get("lang") or "").startswith("ja"):
            self._skip.append(tag)
            return
        if self._skip:
            return
        for name, value in attrs:
            if name in self.ATTRIBUTES and value:
                self.parts.append(value)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])

    def handle_endtag(self, tag):
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data)


def stored_text() -> str:
    """Every string stored in the database, joined: where Japanese may legitimately come from."""
    chunks = []
    for model in apps.get_models():
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField, models.JSONField))]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields):
            chunks.extend(str(value) for value in row if value)
    return "\n".join(chunks)


def route_of(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def walk(client, start: str = "/"):
    """(url, html) of every page reached from `start`, at most PER_ROUTE URLs per route."""
    queue, seen, per_route = [start], set(), {}
    while queue:
        url = queue.pop(0)
        path = urlsplit(url).path
        if url in seen or path.startswith(SKIP_PREFIXES):
            continue
        seen.add(url)
        route = route_of(path)
        if route is None or per_route.get(route, 0) >= PER_ROUTE:
            continue
        per_route[route] = per_route.get(route, 0) + 1
        response = client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        parser = VisibleText()
        parser.feed(response.content.decode())
        yield url, route, parser.parts
        for link in parser.links:
            link = urldefrag(link).url
            if link.startswith("/") and not link.startswith("//") and link not in seen:
                queue.append(link)


@pytest.fixture
def demo(db):
    from candidates.demo import load_demo_candidates
    from council.demo import load_demo_meetings
    from policies.demo import load_demo_policies
    from progress.demo import load_demo_progress

    load_demo_candidates()
    load_demo_policies()
    load_demo_progress()
    load_demo_meetings()


@pytest.mark.parametrize("username", USERS)
def test_every_english_page_is_free_of_japanese_from_templates_and_code(demo, client, user, username, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = stored_text()
    client.force_login(user(username))
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    problems, routes = {}, set()
    for url, route, parts in walk(client):
        routes.add(route)
        for part in parts:
            for run in JAPANESE_RUN.findall(part):
                if run not in data:
                    problems.setdefault(url, []).append(run)
    assert {"home", "candidates:list", "policies:list"} <= routes, sorted(routes)
    assert problems == {}, "\n".join(f"{url}: {runs[:8]}" for url, runs in problems.items())
