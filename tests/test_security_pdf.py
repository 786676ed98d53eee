"""A policy body cannot make the PDF renderer (WeasyPrint) fetch anything but our static files:
no request to a server, no local file read."""

import http.server
import threading

import pytest
import weasyprint
from django.contrib.auth import get_user_model

from policies import actions
from policies.pdf import render_version_pdf_bytes
from tests.conftest import COMPLETE_BODY, COST_SHARING, SCHEDULE

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    """A server on the loopback address that counts every request it gets."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def fetched(monkeypatch):
    """Every URL WeasyPrint's own fetcher is asked for (the project's fetcher calls it for
    static files only)."""
    urls: list[str] = []
    original = weasyprint.default_url_fetcher

    def spy(url, *args, **kwargs):
        urls.append(url)
        return original(url, *args, **kwargs)

    monkeypatch.setattr(weasyprint, "default_url_fetcher", spy)
    return urls


def test_images_and_links_in_a_policy_body_fetch_nothing(accepted_candidate, listener, fetched):
    base, hits = listener
    owner = get_user_model().objects.get(username="soumu")
    policy = actions.create_policy(accepted_candidate(), owner, title="外部参照を含む方針")
    version = policy.versions.get()
    body = COMPLETE_BODY + (
        f"\n\n![外部画像]({base}/tracker.png)\n\n"
        "![ローカルファイル](file:///etc/passwd)\n\n"
        "![相対パス](../../../../etc/passwd)\n\n"
        f'<img src="{base}/raw-html.png">\n\n'
        f"[リンク]({base}/link)\n"
    )
    actions.update_version(version, owner, {"body": body, "cost_sharing": COST_SHARING, "schedule": SCHEDULE})
    actions.submit_version(version, owner)

    pdf = render_version_pdf_bytes(version)

    assert pdf.startswith(b"%PDF-")
    assert hits == []  # the loopback server was never asked
    assert fetched, "the stylesheet itself is fetched, through the static files"
    assert all(url.startswith("file://") and "/static/" in url for url in fetched), fetched
    assert not any("passwd" in url for url in fetched)
    assert b"root:x:0:0" not in pdf
