"""/api/v1/usage-reports/: デジタル庁 and the ministries report the usage of the systems the
state provides; every signed-in user reads them."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from progress import actions
from progress.models import UsageReport
from tests.api_helpers import get_user, org
from tests.api_progress_helpers import ROLES, snapshot

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage-reports/"
FIELDS = {"id", "reporter", "system_name", "layer", "period_start", "period_end", "metrics", "note", "created_by", "created_at"}
BODY = {
    "system_name": "公的個人認証サービス",
    "layer": "dpi",
    "period_start": "2026-04-01",
    "period_end": "2026-06-30",
    "metrics": [{"name": "利用団体数", "value": 1741, "unit": "団体"}, {"name": "稼働率", "value": 99.98, "unit": "%"}],
    "note": "四半期の実績",
}


def make(username: str = "secretariat", name: str = "公的個人認証サービス", **fields) -> UsageReport:
    data = {"system_name": name, "layer": "dpi", "period_start": date(2026, 4, 1), "period_end": date(2026, 6, 30),
            "metrics": [{"name": "利用団体数", "value": 1741, "unit": "団体"}], **fields}
    return actions.create_usage_report(get_user(username), **data)


@pytest.mark.parametrize("method, detail", [("get", False), ("post", False), ("get", True)])
def test_anonymous_requests_get_401_and_change_nothing(api, method, detail):
    report = make()
    before = snapshot()
    response = getattr(api(), method)(f"{URL}{report.pk}/" if detail else URL, BODY, format="json")
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("username, reporter", [("secretariat", "digital"), ("soumu", "soumu"), ("mhlw", "mhlw")])
def test_the_ministries_and_digital_agency_report_usage(api, username, reporter):
    response = api(username).post(URL, BODY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS
    assert body["reporter"]["code"] == reporter
    assert (body["system_name"], body["layer"], body["period_end"], body["note"]) == (
        "公的個人認証サービス", "dpi", "2026-06-30", "四半期の実績")
    assert body["metrics"] == BODY["metrics"]
    assert body["created_by"]["username"] == username
    assert UsageReport.objects.get(pk=body["id"]).reporter.code == reporter


@pytest.mark.parametrize("username", ["chijikai", "hokkaido", "sapporo"])
def test_nobody_else_reports_usage(api, username):
    before = snapshot()
    response = api(username).post(URL, {"system_name": "x"}, format="json")  # refused whatever the body
    assert response.status_code == 403
    assert snapshot() == before


def test_a_ministry_reports_only_as_itself(api):
    before = snapshot()
    response = api("soumu").post(URL, {**BODY, "reporter": org("mhlw").pk}, format="json")
    assert response.status_code == 403
    assert snapshot() == before
    assert api("soumu").post(URL, {**BODY, "reporter": org("soumu").pk}, format="json").status_code == 201


@pytest.mark.parametrize("changes, field", [
    ({"metrics": []}, "metrics"),
    ({"metrics": [{"name": "件数", "value": "多い"}]}, "metrics"),
    ({"metrics": [{"value": 3}]}, "metrics"),
    ({"metrics": "件数=3"}, "metrics"),
    ({"period_end": "2026-03-31"}, "period_end"),
    ({"period_start": "四月"}, "period_start"),
    ({"layer": "cloud"}, "layer"),
    ({"system_name": ""}, "system_name"),
    ({"note": "あ" * 4001}, "note"),
    ({"reporter": 999999}, "reporter"),
])
def test_a_bad_usage_report_is_a_400_naming_the_field(api, changes, field):
    before = snapshot()
    response = api("soumu").post(URL, {**BODY, **changes}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("username", ROLES)
def test_everyone_signed_in_reads_usage_reports(api, username):
    report = make()
    client = api(username)
    listed = client.get(URL).json()["results"]
    assert [row["id"] for row in listed] == [report.pk]
    assert client.get(f"{URL}{report.pk}/").json() == listed[0]


def test_it_filters_by_layer_reporter_and_name(api):
    dpi = make()
    saas = make("soumu", "住民記録システム標準SaaS", layer="common_saas")
    client = api("sapporo")
    assert [r["id"] for r in client.get(f"{URL}?layer=common_saas").json()["results"]] == [saas.pk]
    assert [r["id"] for r in client.get(f"{URL}?reporter={org('digital').pk}").json()["results"]] == [dpi.pk]
    assert [r["id"] for r in client.get(f"{URL}?q=住民記録").json()["results"]] == [saas.pk]
    assert client.get(f"{URL}?layer=cloud").status_code == 400


def test_usage_reports_are_not_changed_or_deleted(api):
    report = make()
    client = api("secretariat")
    before = snapshot()
    assert client.patch(f"{URL}{report.pk}/", {"note": "x"}, format="json").status_code == 405
    assert client.delete(f"{URL}{report.pk}/").status_code == 405
    assert snapshot() == before


def test_the_list_reads_in_constant_queries(api, django_assert_max_num_queries):
    client = api("sapporo")
    make()
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for n in range(8):
        make("soumu" if n % 2 else "secretariat", f"システム{n}")
    # token, count, page (reporter and author joined)
    with django_assert_max_num_queries(3):
        assert client.get(URL).json()["count"] == 9
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(many) == len(few)
