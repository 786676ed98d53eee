import io
from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from council.pdf import ForbiddenFetch, _static_only_fetcher
from policies import actions
from policies.models import VersionPdf
from policies.pdf import ensure_version_pdf
from policies.tasks import render_version_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def text_of(pdf: VersionPdf) -> str:
    with pdf.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_a_frozen_version_renders_to_a_japanese_pdf_with_its_cost_table(submitted_policy):
    version = submitted_policy().versions.get()
    pdf = VersionPdf.objects.get(pk=render_version_pdf(version.pk))
    text = text_of(pdf)
    assert "共通化推進方針（第1版）" in text
    assert "目的と範囲" in text and "KPI" in text
    assert "共通SaaS" in text and "利用料" in text and "地方公共団体" in text and "2030年度まで" in text
    assert "1 / " in text  # page numbers
    assert version.content_hash in text.replace("\n", "")


def test_it_is_stored_once_per_content(submitted_policy):
    version = submitted_policy().versions.get()
    first = ensure_version_pdf(version)
    assert ensure_version_pdf(version).pk == first.pk
    assert VersionPdf.objects.count() == 1


def test_after_a_closed_round_it_shows_the_ballots_and_outcome(submitted_policy, user):
    policy = submitted_policy()
    version = policy.versions.get()
    before = ensure_version_pdf(version)
    round_ = actions.open_round(version, user("secretariat"), closes_at=timezone.now() + timedelta(days=2))
    actions.cast_ballot(round_, user("chijikai"), choice="conditional_consent", comment="移行時期への配慮")
    actions.cast_ballot(round_, user("shichokai"), choice="consent")
    actions.cast_ballot(round_, user("chosonkai"), choice="consent")
    actions.close_round(round_, user("secretariat"))
    after = ensure_version_pdf(version)
    assert after.pk != before.pk
    text = text_of(after)
    assert "同意手続の結果" in text and "結果：同意" in text
    assert "全国知事会" in text and "条件付き同意" in text and "移行時期への配慮" in text


def test_an_unsubmitted_version_is_not_rendered(accepted_candidate, user):
    policy = actions.create_policy(accepted_candidate(), user("soumu"), title="方針")
    assert render_version_pdf(policy.versions.get().pk) is None
    assert not VersionPdf.objects.exists()


@pytest.mark.parametrize("url", ["https://example.com/x.css", "file:///etc/passwd", "file:///static/../../etc/passwd"])
def test_weasyprint_fetches_nothing_outside_static_files(url):
    with pytest.raises(ForbiddenFetch):
        _static_only_fetcher(url)
