"""The PDF pages of stage 4: a report's PDF and the quarterly council packs."""

import pytest

from progress import actions
from progress.models import ProgressDocument, ProgressReport

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def report(consented_policy, user):
    schedule = actions.set_schedule(consented_policy(), user("secretariat"), frequency="quarterly", due_days_after_period=30)
    return ProgressReport.objects.get(schedule=schedule)


@pytest.fixture
def signed_in(client, demo_password):
    def login(username):
        client.logout()
        assert client.login(username=username, password=demo_password)
        return client

    return login


def test_a_report_pdf_is_requested_shown_and_downloaded(report, signed_in, django_capture_on_commit_callbacks):
    client = signed_in("soumu")
    url = f"/reports/{report.pk}/pdf/"
    assert client.get(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert "PDFをダウンロード" in page
    download = client.get(url)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_a_report_pdf_follows_report_visibility(report, signed_in):
    # A report still due is the ministry's and the secretariat's: others get 404.
    for username in ("mhlw", "chijikai", "sapporo"):
        assert signed_in(username).post(f"/reports/{report.pk}/pdf/").status_code == 404
    assert not ProgressDocument.objects.exists()


def test_the_secretariat_makes_a_quarterly_pack(report, signed_in, django_capture_on_commit_callbacks):
    client = signed_in("secretariat")
    assert client.get("/reports/packs/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/reports/packs/", {"period": f"{report.fiscal_year}-{report.period}"})
    document = ProgressDocument.objects.get(kind="pack")
    assert document.status == "done" and (document.fiscal_year, document.quarter) == (report.fiscal_year, report.period)
    assert client.get(f"/reports/packs/{document.pk}/").status_code == 200


def test_a_bad_quarter_is_refused(report, signed_in):
    response = signed_in("secretariat").post("/reports/packs/", {"period": "2026-9"}, follow=True)
    assert "年度と四半期を正しく選んでください" in response.content.decode()
    assert not ProgressDocument.objects.exists()


@pytest.mark.parametrize("username", ["soumu", "chijikai", "sapporo"])
def test_packs_are_the_secretariats(report, signed_in, username):
    assert signed_in(username).get("/reports/packs/").status_code == 403


def test_a_consented_policy_leads_to_its_schedule_reports_and_adoption(consented_policy, signed_in, user):
    policy = consented_policy()
    page = signed_in("secretariat").get(f"/policies/{policy.pk}/").content.decode()
    assert f"/policies/{policy.pk}/schedule/" in page
    assert f"/policies/{policy.pk}/schedule/" not in signed_in("soumu").get(f"/policies/{policy.pk}/").content.decode()
    actions.set_schedule(policy, user("secretariat"), frequency="quarterly", due_days_after_period=30)
    page = signed_in("soumu").get(f"/policies/{policy.pk}/").content.decode()
    assert f"/reports/?policy={policy.pk}" in page and f"/adoption/?policy={policy.pk}" in page
    assert f"/policies/{policy.pk}/kpis/" in page
