"""PDF labels follow the reader's language: one PDF per language from the same version or
report, stored separately; what the ministry wrote stays as written."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from policies import actions as policy_actions
from policies.models import VersionPdf
from policies.pdf import current_pdf, ensure_version_pdf
from progress import actions
from progress.models import DocumentStatus, ProgressDocument, ProgressReport
from progress.pdf import request_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def file_text(row) -> str:
    with row.file.open("rb") as handle:
        return text(handle.read())


def test_one_version_renders_in_english_and_in_japanese(submitted_policy, user):
    version = submitted_policy().versions.get()
    round_ = policy_actions.open_round(version, user("secretariat"), closes_at=timezone.now() + timedelta(days=2))
    for username in ("chijikai", "shichokai", "chosonkai"):
        policy_actions.cast_ballot(round_, user(username), choice="consent")
    policy_actions.close_round(round_, user("secretariat"))
    english, japanese = ensure_version_pdf(version, "en"), ensure_version_pdf(version, "ja")
    assert english.pk != japanese.pk and (english.language, japanese.language) == ("en", "ja")
    assert english.key == japanese.key and VersionPdf.objects.count() == 2
    en, ja = file_text(english), file_text(japanese)
    assert "Cost sharing" in en and "Consent round outcome" in en and "until FY2030" in en
    assert "費用負担" not in en and "同意手続の結果" not in en and "2030年度まで" not in en
    assert "費用負担" in ja and "同意手続の結果" in ja and "2030年度まで" in ja and "Cost sharing" not in ja
    # The policy text, written by the ministry, is the same in both.
    assert "目的と範囲" in en and "目的と範囲" in ja
    assert ensure_version_pdf(version, "en").pk == english.pk  # stored once per language


def test_the_page_renders_and_serves_the_pdf_in_the_readers_language(submitted_policy, client, user):
    policy = submitted_policy()
    url = reverse("policies:version-pdf", args=[policy.pk, 1])
    client.force_login(user("soumu"))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert client.post(url).status_code == 302
    assert VersionPdf.objects.get().language == "en"
    response = client.get(url)
    assert response.status_code == 200
    en = text(b"".join(response.streaming_content))
    assert "Cost sharing" in en and "費用負担" not in en
    # A Japanese reader has no Japanese PDF yet: the page says so instead of serving the English one.
    client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    assert current_pdf(policy.versions.get(), "ja") is None
    assert client.get(url).status_code == 302
    client.post(url)
    ja = text(b"".join(client.get(url).streaming_content))
    assert "費用負担" in ja and "Cost sharing" not in ja


def test_the_api_follows_accept_language(submitted_policy, api):
    policy = submitted_policy()
    version = policy.versions.get()
    client = api("soumu")
    url = f"/api/v1/policies/{policy.pk}/versions/{version.number}/pdf/"
    assert client.post(url, HTTP_ACCEPT_LANGUAGE="en").status_code == 202
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert "Cost sharing" in text(b"".join(response.streaming_content))
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="ja", HTTP_ACCEPT="application/pdf").status_code == 404


@pytest.fixture
def report(consented_policy, user):
    schedule = actions.set_schedule(consented_policy(), user("secretariat"), frequency="quarterly", due_days_after_period=30)
    report = ProgressReport.objects.get(schedule=schedule)
    return actions.save_report(report, user("soumu"), {
        "summary": "標準仕様の検討を進めた。",
        "milestones": [{"name": "標準仕様の確定", "percent": 60, "weight": 1, "status": "in_progress"}],
        "kpis": [{"name": "利用団体数", "target": 300, "actual": 42, "unit": "団体"}],
        "risks": "移行時期の調整",
    })


def test_a_report_pdf_in_each_language(report, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        english = request_document(user("soumu"), report=report, language="en")
        japanese = request_document(user("soumu"), report=report, language="ja")
    english.refresh_from_db(), japanese.refresh_from_db()
    assert english.pk != japanese.pk and english.status == japanese.status == DocumentStatus.DONE
    en, ja = file_text(english), file_text(japanese)
    assert "Progress report: " in en and "Milestone" in en and "Overall progress" in en and f"FY{report.fiscal_year}" in en
    assert "進捗報告：" not in en and "マイルストーン" not in en and "全体の進捗" not in en
    assert "進捗報告：" in ja and "マイルストーン" in ja and "Milestone" not in ja
    assert "標準仕様の確定" in en and "移行時期の調整" in en  # the ministry's text as written


def test_the_report_page_requests_the_readers_language(report, client, user, django_capture_on_commit_callbacks):
    client.force_login(user("soumu"))
    url = reverse("progress:report-pdf", args=[report.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, HTTP_ACCEPT_LANGUAGE="en")
    assert ProgressDocument.objects.get().language == "en"
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "Overall progress" in text(b"".join(response.streaming_content))
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="ja").status_code == 404


def test_the_council_pack_in_english(report, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        document = request_document(user("secretariat"), fiscal_year=report.fiscal_year, quarter=report.period, language="en")
    document.refresh_from_db()
    en = file_text(document)
    assert f"FY{report.fiscal_year} Q{report.period}" in en and "Contents" in en and "利用団体数" in en
    assert "年度" not in en.replace(report.policy.title, "") and "目次" not in en
