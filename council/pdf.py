"""PDF rendering with WeasyPrint, fetching nothing but the project's own static files."""

from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string


PDF_LANGUAGES = ("ja", "en")


def pdf_language(value: str | None = None) -> str:
    """The language of a PDF's labels for a language code (by default the active one, i.e. the
    reader's: session, cookie or Accept-Language): English when it is English, else Japanese."""
    from django.utils.translation import get_language

    value = get_language() if value is None else value
    return "en" if (value or "").lower().startswith("en") else "ja"


class ForbiddenFetch(Exception):
    pass


def _static_only_fetcher(url: str, *args, **kwargs):
    """Serve `/static/...` URLs from the static files; refuse everything else (no network)."""
    import weasyprint

    parsed = urlparse(url)
    path = unquote(parsed.path)
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if parsed.scheme == "file" and path.startswith(prefix) and ".." not in PurePosixPath(path).parts:
        try:
            found = finders.find(path[len(prefix):])
        except SuspiciousFileOperation:
            found = None
        if found:
            return weasyprint.default_url_fetcher(Path(found).as_uri())
    raise ForbiddenFetch(f"refused to fetch {url}")


def render_pdf(template_name: str, context: dict) -> bytes:
    import weasyprint

    html = render_to_string(template_name, context)
    document = weasyprint.HTML(string=html, base_url="file:///", url_fetcher=_static_only_fetcher)
    return document.write_pdf()
