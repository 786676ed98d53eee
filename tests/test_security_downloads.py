"""Uploaded files and generated PDFs are downloaded, never shown as one of our pages:
`Content-Disposition: attachment`, `X-Content-Type-Options: nosniff` and a sandbox policy;
and only by those who may see them. Uploads are accepted by content, not by name."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse, HttpResponse
from django.test import RequestFactory

from council.security import DownloadHeadersMiddleware
from council.uploads import validate_upload
from tests.api_helpers import EXE, TINY_PDF, candidate_in, study_in, upload

pytestmark = pytest.mark.django_db

SANDBOX = "default-src 'none'; sandbox"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def signed_in(demo_password):
    from django.test import Client

    def make(username: str) -> Client:
        client = Client()
        assert client.login(username=username, password=demo_password)
        return client

    return make


def assert_safe(response, filename_part: str) -> None:
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert filename_part in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX


def test_a_study_attachment_uploaded_through_the_api_downloads_safely_to_those_who_may_see_it(api, signed_in, client):
    study = study_in("assigned")
    posted = api("soumu").post(
        f"/api/v1/feasibility-studies/{study.pk}/attachments/", {"file": upload("試算.pdf", TINY_PDF)}, format="multipart"
    )
    assert posted.status_code == 201
    url = posted.json()["url"]
    for username in ("soumu", "secretariat"):
        response = signed_in(username).get(url)
        assert_safe(response, "filename*=UTF-8''%E8%A9%A6%E7%AE%97.pdf")
        assert b"".join(response.streaming_content) == TINY_PDF
    for username in ("mhlw", "chijikai", "sapporo"):  # another ministry's draft: not even its existence
        assert signed_in(username).get(url).status_code == 404, username
    assert client.get(url).status_code == 302


def test_assessment_evidence_downloads_safely_to_council_members_only(signed_in):
    from candidates import actions

    candidate = candidate_in("proposed")
    actions.assess(
        candidate, _user("secretariat"), user_need=4, expected_effect=3,
        feasibility=5, rationale="根拠", evidence=[SimpleUploadedFile("根拠.pdf", TINY_PDF)],
    )
    evidence = candidate.assessments.get().evidence.get()
    url = f"/candidates/evidence/{evidence.pk}/"
    assert_safe(signed_in("soumu").get(url), "filename*=UTF-8''")
    assert signed_in("sapporo").get(url).status_code == 404


def _user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def test_a_report_attachment_downloads_safely(signed_in, consented_policy):
    from progress import actions
    from progress.models import ProgressReport, ReportAttachment

    schedule = actions.set_schedule(consented_policy(), _user("secretariat"), frequency="quarterly", due_days_after_period=30)
    report = ProgressReport.objects.get(schedule=schedule)
    attachment = ReportAttachment.objects.create(
        report=report, file=ContentFile(TINY_PDF, name="a.pdf"), original_name="資料.pdf",
        content_type="application/pdf", size=len(TINY_PDF), uploaded_by=_user("soumu"),
    )
    url = f"/reports/attachments/{attachment.pk}/"
    assert_safe(signed_in("soumu").get(url), "filename*=UTF-8''")
    assert signed_in("mhlw").get(url).status_code == 404


def test_a_policy_pdf_downloads_safely_from_the_page_and_the_api(signed_in, api, submitted_policy):
    from policies.pdf import ensure_version_pdf

    policy = submitted_policy()
    version = policy.versions.get()
    ensure_version_pdf(version)
    page = signed_in("soumu").get(f"/policies/{policy.pk}/versions/1/pdf/")
    assert_safe(page, ".pdf")
    from_api = api("soumu").get(f"/api/v1/policies/{policy.pk}/versions/1/pdf/")
    assert_safe(from_api, ".pdf")
    assert signed_in("sapporo").get(f"/policies/{policy.pk}/versions/1/pdf/").status_code == 404


def test_a_file_answered_inline_is_turned_into_a_download():
    # Whatever a future view forgets, the middleware adds.
    def view(request):
        return FileResponse(ContentFile(b"<html><script>alert(1)</script>", name="x.html"), filename="x.html")

    response = DownloadHeadersMiddleware(view)(RequestFactory().get("/"))
    assert response["Content-Disposition"].startswith("attachment;") and 'filename="x.html"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX


def test_ordinary_pages_keep_the_page_policy():
    response = DownloadHeadersMiddleware(lambda request: HttpResponse("<p>page</p>"))(RequestFactory().get("/"))
    assert "Content-Disposition" not in response and "Content-Security-Policy" not in response


# --- Uploads are judged by content ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content",
    [
        ("report.pdf", b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"),
        ("report.pdf", EXE),
        ("report.pdf", b"#!/bin/sh\nrm -rf /\n"),
        ("photo.png", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
        ("table.xlsx", b"PK\x03\x04" + b"\x00" * 64),  # a zip that is not an Office file
        ("invoice.pdf.exe", TINY_PDF),
        ("page.html", b"<html></html>"),
    ],
)
def test_a_renamed_executable_or_html_file_is_refused(name, content):
    with pytest.raises(ValidationError) as refused:
        validate_upload(SimpleUploadedFile(name, content))
    assert "形式は受け付けられません" in " ".join(refused.value.messages)


def test_an_html_file_named_pdf_is_refused_through_the_api_and_nothing_is_saved(api):
    study = study_in("assigned")
    html = b"<html><body onload=\"fetch('/api/v1/')\">x</body></html>"
    response = api("soumu").post(
        f"/api/v1/feasibility-studies/{study.pk}/attachments/", {"file": upload("報告.pdf", html)}, format="multipart"
    )
    assert response.status_code == 400 and "file" in response.json()
    assert not study.attachments.exists()
