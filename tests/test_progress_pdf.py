import io

import pytest
from pypdf import PdfReader

from progress import actions
from progress.models import DocumentStatus, ProgressDocument, ProgressReport
from progress.pdf import request_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


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


def text_of(document: ProgressDocument) -> str:
    with document.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_a_report_pdf_in_japanese(report, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        document = request_document(user("secretariat"), report=report)
    document.refresh_from_db()
    assert document.status == DocumentStatus.DONE and document.pages >= 1
    text = text_of(document)
    assert "進捗報告：共通化推進方針" in text
    assert "標準仕様の確定" in text and "利用団体数" in text and "42" in text
    assert "導入状況（1788団体）" in text
    assert "1 / " in text


def test_the_council_pack_bundles_the_quarters_reports(report, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        document = request_document(user("secretariat"), fiscal_year=report.fiscal_year, quarter=report.period)
    document.refresh_from_db()
    assert document.status == DocumentStatus.DONE
    text = text_of(document)
    assert f"{report.fiscal_year}年度 第{report.period}四半期" in text
    assert "共通化推進方針" in text and "利用団体数" in text


def test_a_failed_render_is_recorded_and_can_be_retried(report, user, monkeypatch, django_capture_on_commit_callbacks):
    import progress.pdf

    def broken(document):
        raise RuntimeError("フォントが見つかりません")

    monkeypatch.setattr(progress.pdf, "render_document", broken)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        document = request_document(user("secretariat"), report=report)
    document = ProgressDocument.objects.get()
    assert document.status == DocumentStatus.FAILED and "フォント" in document.error
    monkeypatch.undo()
    assert progress.pdf.run(document.pk) is True
    document.refresh_from_db()
    assert document.status == DocumentStatus.DONE


def test_a_document_is_rendered_once_even_if_the_task_runs_twice(report, user):
    import progress.pdf

    document = ProgressDocument.objects.create(kind="report", report=report, requested_by=user("secretariat"))
    assert progress.pdf.run(document.pk) is True
    assert progress.pdf.run(document.pk) is False
