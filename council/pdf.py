"""PDF rendering with WeasyPrint, fetching nothing but the project's own static files."""

from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string


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
