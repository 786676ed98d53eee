"""Content-Security-Policy: every page carries it, and no template needs what it forbids.

The policy allows scripts and styles from our own origin only, so a template must not
contain an inline <script> body, an on…= event handler, a style attribute, a <style>
element or a javascript: URL. The scan covers templates/ and every project app's templates.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(settings.BASE_DIR)
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def directives(header: str) -> dict[str, str]:
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


# --- The header ----------------------------------------------------------------------------------


def page_paths() -> list[str]:
    """Every route without parameters, found in the URL configuration (new pages included)."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if not re.search(r"[<(\\^$]", route.lstrip("^")):
                    walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern) and not re.search(r"[<(\\]", route.strip("^$")):
                found.append("/" + prefix + route.strip("^$"))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


@pytest.fixture
def secretariat(client, demo_password):
    assert client.login(username="secretariat", password=demo_password)
    return client


@pytest.mark.django_db
def test_every_page_carries_the_policy(secretariat, client):
    paths = page_paths()
    assert {"/", "/candidates/", "/policies/", "/accounts/login/", "/api/docs/", "/accounts/password/"} <= set(paths)
    seen = 0
    for path in paths:
        response = secretariat.get(path)
        if response.status_code >= 300 and response.status_code < 400:
            continue  # a redirect lands on a page of this same list
        if response.get("Content-Disposition", "").startswith("attachment"):
            # A download (an export, a file) gets the stricter sandbox (tests/test_security_downloads.py).
            assert response["Content-Security-Policy"] == "default-src 'none'; sandbox", path
            continue
        assert directives(response["Content-Security-Policy"]) == directives(POLICY), path
        seen += 1
    assert seen >= 20


@pytest.mark.django_db
def test_anonymous_pages_errors_and_api_answers_carry_it_too(client, api):
    for response in (
        client.get("/accounts/login/"),
        client.get("/no-such-page/"),
        api().get("/api/v1/candidates/"),
        api("soumu").get("/api/v1/candidates/"),
    ):
        assert directives(response["Content-Security-Policy"]) == directives(POLICY)


@pytest.mark.django_db
def test_swagger_ui_needs_no_inline_script(secretariat):
    page = secretariat.get("/api/docs/")
    html = page.content.decode()
    assert page.status_code == 200
    assert not inline_problems(html)
    script = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1).replace("&amp;", "&")
    init = secretariat.get(script)
    assert init.status_code == 200 and init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in init.content.decode()


# --- The templates -----------------------------------------------------------------------------


class InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._inline_script = False

    def handle_starttag(self, tag: str, attrs) -> None:
        names = {name.lower(): value for name, value in attrs}
        for name, value in names.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name == "style":
                self.problems.append(f"<{tag} style=…> style attribute")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "style":
            self.problems.append("<style> element")
        self._inline_script = tag == "script" and not names.get("src") and names.get("type") != "application/json"

    def handle_data(self, data: str) -> None:
        if self._inline_script and data.strip():
            self.problems.append("inline <script> body")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inline_script = False


def inline_problems(source: str) -> list[str]:
    # Template comments are not output; tags and variables are blanked so the HTML parses.
    source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", source, flags=re.S)
    source = re.sub(r"{#.*?#}", "", source, flags=re.S)
    source = re.sub(r"{%.*?%}", "", source, flags=re.S)
    source = re.sub(r"{{.*?}}", "x", source, flags=re.S)
    finder = InlineFinder()
    finder.feed(source)
    finder.close()
    return finder.problems


# Rendered only by WeasyPrint into PDFs (council.pdf), never served as a page: CSP does not
# apply there, and their print styles may be inline.
PDF_ONLY = re.compile(r"(^|/)pdf/|_pdf(_body)?\.html$")


def project_templates() -> list[Path]:
    folders = [ROOT / "templates"]
    for config in apps.get_app_configs():
        folder = Path(config.path) / "templates"
        if folder.is_dir() and ROOT in folder.parents and ".venv" not in folder.parts:
            folders.append(folder)
    return sorted(
        path
        for folder in folders
        for path in folder.rglob("*.html")
        if not PDF_ONLY.search(path.relative_to(folder).as_posix())
    )


def test_no_template_has_inline_script_handlers_or_styles():
    templates = project_templates()
    assert len(templates) > 50
    problems = {str(path.relative_to(ROOT)): found for path in templates if (found := inline_problems(path.read_text()))}
    assert problems == {}


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<script type="text/javascript">\n  go();\n</script>',
        '<button onclick="go()">x</button>',
        '<a href="#" onMouseOver="go()">x</a>',
        '<div style="width: {{ x }}%"></div>',
        "<style>p { color: red }</style>",
        '<a href="javascript:go()">x</a>',
        '<body {% if a %}onload="go()"{% endif %}>',
    ],
)
def test_the_scan_finds_each_kind_of_inline_code(source):
    assert inline_problems(source)


@pytest.mark.parametrize(
    "source",
    [
        '<script src="{% static \'js/bars.js\' %}" defer></script>',
        '<span data-bar-width="{{ x }}"></span>',
        "{% comment %}an inline <script>x()</script> in a comment{% endcomment %}",
        '<script type="application/json" id="data">{"a": 1}</script>',
        "<p>Click once: the online form opens.</p>",
    ],
)
def test_the_scan_lets_static_scripts_and_data_through(source):
    assert inline_problems(source) == []
