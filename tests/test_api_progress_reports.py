"""/api/v1/progress-reports/: who sees a report, the owning ministry's writing and
attachments, overdue and filters, the KPI trend, and constant query counts.

Moves between states (submit, accept, return) are in test_api_progress_report_workflow.py.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from progress.models import ProgressDocument, ProgressReport, ReportAttachment
from tests.api_helpers import EXE, PNG, TINY_PDF, get_user, upload
from tests.api_progress_helpers import (  # noqa: F401 (module-scoped fixtures)
    DRAFT_READERS,
    FILLED_REPORT,
    REPORT_STATUSES,
    ROLES,
    current_report,
    fill,
    later_reports,
    make_overdue,
    report_in,
    schedule,
    scheduled_world,
    snapshot,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/progress-reports/"
DETAIL_FIELDS = {
    "id", "policy", "ministry", "schedule", "frequency", "period", "due_date", "status", "overdue",
    "summary", "milestones", "kpis", "risks", "overall_progress", "attachments",
    "submitted_at", "decided_at", "created_at", "updated_at",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def url(report=None, suffix: str = "") -> str:
    return URL if report is None else f"{URL}{report.pk}/{suffix}"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- who gets in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method, suffix, detail", [
    ("get", "", False),
    ("get", "kpi-trend/", False),
    ("get", "", True),
    ("patch", "", True),
    ("post", "transition/", True),
    ("get", "history/", True),
    ("post", "attachments/", True),
    ("get", "pdf/", True),
    ("post", "pdf/", True),
])
def test_anonymous_requests_get_401_and_change_nothing(api, schedule, method, suffix, detail):
    report = current_report(schedule)
    before = snapshot()
    target = url(report, suffix) if detail else f"{URL}{suffix}?policy={schedule.policy_id}"
    response = getattr(api(), method)(target, {"to": "submitted", "summary": "x"}, format="json")
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("status", ["due", "submitted", "returned"])
def test_an_unaccepted_report_is_the_secretariats_and_the_owning_ministrys(api, schedule, username, status):
    report = report_in(schedule, status)
    client = api(username)
    visible = username in DRAFT_READERS
    assert client.get(url(report)).status_code == (200 if visible else 404)
    assert ids(client.get(URL)) == ({report.pk} if visible else set())
    assert client.get(url(report, "history/")).status_code == (200 if visible else 404)


@pytest.mark.parametrize("username", ROLES)
def test_an_accepted_report_is_everyones_who_sees_the_policy(api, schedule, username):
    report = report_in(schedule, "accepted")
    client = api(username)
    detail = client.get(url(report))
    assert detail.status_code == 200
    assert set(detail.json()) == DETAIL_FIELDS
    assert ids(client.get(URL)) == {report.pk}
    assert client.get(url(report, "history/")).status_code == 200


@pytest.mark.parametrize("username", ROLES)
def test_the_list_and_the_detail_never_disagree(api, schedule, username):
    reports = [current_report(schedule), *later_reports(schedule, 3)]
    for report, status in zip(reports, REPORT_STATUSES, strict=True):
        report_in(report, status)
    client = api(username)
    listed = {row["id"]: row for row in client.get(URL).json()["results"]}
    assert len(listed) == (4 if username in DRAFT_READERS else 1)
    for report in reports:
        detail = client.get(url(report))
        assert detail.status_code == (200 if report.pk in listed else 404)
        if report.pk in listed:
            assert detail.json() == listed[report.pk]


def test_a_report_reads_with_its_period_progress_and_rows(api, schedule):
    report = report_in(schedule, "accepted")
    body = api("sapporo").get(url(report)).json()
    policy = schedule.policy
    assert body["policy"] == {"id": policy.pk, "title": policy.title}
    assert body["ministry"]["code"] == "soumu"
    assert (body["schedule"], body["frequency"], body["status"], body["overdue"]) == (schedule.pk, "quarterly", "accepted", False)
    assert body["period"] == {
        "fiscal_year": report.fiscal_year, "period": report.period, "label": report.period_label,
        "start": report.period_start.isoformat(), "end": report.period_end.isoformat(),
    }
    assert body["due_date"] == report.due_date.isoformat()
    assert body["summary"] == FILLED_REPORT["summary"]
    assert body["milestones"] == FILLED_REPORT["milestones"]
    assert body["kpis"] == FILLED_REPORT["kpis"]
    assert body["overall_progress"] == pytest.approx((80 * 2 + 100) / 3, abs=0.1)
    assert body["submitted_at"] and body["decided_at"]


def test_a_report_without_milestones_has_no_overall_progress(api, schedule):
    report = current_report(schedule)
    body = api("soumu").get(url(report)).json()
    assert (body["status"], body["milestones"], body["overall_progress"]) == ("due", [], None)


def test_a_missing_report_is_404(api, schedule):
    assert api("secretariat").get(f"{URL}999999/").status_code == 404


def test_reports_are_not_created_replaced_or_deleted_through_the_api(api, schedule):
    report = current_report(schedule)
    client = api("soumu")
    before = snapshot()
    assert client.post(URL, {"policy": schedule.policy_id}, format="json").status_code == 405
    assert client.put(url(report), FILLED_REPORT, format="json").status_code == 405
    assert client.delete(url(report)).status_code == 405
    assert snapshot() == before


# --- the ministry's writing ----------------------------------------------------------------------


@pytest.mark.parametrize("status", ["due", "returned"])
def test_the_owning_ministry_writes_its_report(api, schedule, status):
    report = report_in(schedule, status, filled=False)
    response = api("soumu").patch(url(report), FILLED_REPORT, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["summary"], body["risks"], body["status"]) == (FILLED_REPORT["summary"], FILLED_REPORT["risks"], status)
    assert body["milestones"] == FILLED_REPORT["milestones"]
    assert body["kpis"] == FILLED_REPORT["kpis"]
    assert body["overall_progress"] == pytest.approx(86.7)
    report.refresh_from_db()
    assert report.kpis == FILLED_REPORT["kpis"]


def test_a_report_can_be_saved_a_field_at_a_time_and_defaults_are_filled_in(api, schedule):
    report = current_report(schedule)
    client = api("soumu")
    assert client.patch(url(report), {"summary": "途中まで"}, format="json").status_code == 200
    response = client.patch(url(report), {"milestones": [{"name": "仕様", "percent": "40"}]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["milestones"] == [{"name": "仕様", "status": "in_progress", "percent": 40, "weight": 1}]
    report.refresh_from_db()
    assert (report.summary, report.kpis) == ("途中まで", [])


@pytest.mark.parametrize("status", ["submitted", "accepted"])
def test_a_submitted_or_accepted_report_is_not_editable(api, schedule, status):
    report = report_in(schedule, status)
    before = snapshot()
    assert api("soumu").patch(url(report), {"risks": "追記"}, format="json").status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("username, status, code", [
    ("secretariat", "due", 403),  # the secretariat reads drafts but the ministry writes them
    ("secretariat", "returned", 403),
    ("mhlw", "due", 404),
    ("chijikai", "returned", 404),
    ("hokkaido", "due", 404),
    ("sapporo", "submitted", 404),
    ("mhlw", "accepted", 403),
    ("chijikai", "accepted", 403),
    ("hokkaido", "accepted", 403),
    ("sapporo", "accepted", 403),
])
def test_nobody_else_writes_a_report(api, schedule, username, status, code):
    report = report_in(schedule, status)
    before = snapshot()
    assert api(username).patch(url(report), {"risks": "追記"}, format="json").status_code == code
    assert snapshot() == before


@pytest.mark.parametrize("changes, field", [
    ({"kpis": [{"name": "利用団体数", "target": "たくさん"}]}, "kpis"),
    ({"kpis": [{"name": "利用団体数", "target": 100, "actual": "十二"}]}, "kpis"),
    ({"kpis": [{"name": "利用団体数", "target": "NaN"}]}, "kpis"),
    ({"kpis": [{"target": 100}]}, "kpis"),
    ({"kpis": "利用団体数=12"}, "kpis"),
    ({"kpis": ["利用団体数"]}, "kpis"),
    ({"milestones": [{"name": "仕様", "percent": 120}]}, "milestones"),
    ({"milestones": [{"name": "仕様", "percent": -1}]}, "milestones"),
    ({"milestones": [{"name": "仕様", "percent": 50, "weight": -2}]}, "milestones"),
    ({"milestones": [{"name": "仕様", "percent": 50, "status": "paused"}]}, "milestones"),
    ({"milestones": [{"name": "", "percent": 10}]}, "milestones"),
    ({"milestones": {"name": "仕様", "percent": 10}}, "milestones"),
    ({"summary": "あ" * 20_001}, "summary"),
    ({"risks": "あ" * 10_001}, "risks"),
])
def test_bad_report_values_are_a_400_naming_the_field_and_save_nothing(api, schedule, changes, field):
    report = current_report(schedule)
    before = snapshot()
    response = api("soumu").patch(url(report), {**FILLED_REPORT, **changes}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_a_bad_row_is_named_by_its_line(api, schedule):
    report = current_report(schedule)
    milestones = [{"name": "仕様", "percent": 10}, {"name": "移行", "percent": 101}]
    response = api("soumu").patch(url(report), {"milestones": milestones}, format="json")
    assert response.status_code == 400
    assert response.json()["milestones"][0].startswith("2行目")


def test_fields_outside_the_ministrys_are_ignored(api, schedule):
    report = current_report(schedule)
    due = report.due_date
    response = api("soumu").patch(
        url(report), {"status": "accepted", "due_date": "2099-01-01", "summary": "概要", "overdue": True}, format="json"
    )
    assert response.status_code == 200
    report.refresh_from_db()
    assert (report.status, report.due_date, report.summary) == ("due", due, "概要")


# --- attachments ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["due", "returned"])
def test_the_ministry_attaches_a_file_to_its_report(api, schedule, status):
    report = report_in(schedule, status)
    response = api("soumu").post(url(report, "attachments/"), {"file": upload("進捗資料.pdf", TINY_PDF)}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["content_type"], body["size"]) == ("進捗資料.pdf", "application/pdf", len(TINY_PDF))
    assert body["url"] == f"/reports/attachments/{body['id']}/"
    detail = api("secretariat").get(url(report)).json()
    assert [a["id"] for a in detail["attachments"]] == [body["id"]]
    report.refresh_from_db()
    assert report.status == status


@pytest.mark.parametrize("name, content", [
    ("setup.exe", EXE),
    ("renamed.pdf", PNG),
    ("empty.pdf", b""),
    ("too-big.pdf", b"%PDF-" + b"0" * (20 * 1024 * 1024)),
])
def test_a_refused_attachment_is_a_400_naming_file_and_saves_nothing(api, schedule, name, content):
    report = current_report(schedule)
    before = snapshot()
    response = api("soumu").post(url(report, "attachments/"), {"file": upload(name, content)}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()
    assert snapshot() == before


def test_an_attachment_needs_a_file(api, schedule):
    response = api("soumu").post(url(current_report(schedule), "attachments/"), {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.parametrize("username, status, code", [
    ("secretariat", "due", 403),
    ("soumu", "submitted", 403),
    ("soumu", "accepted", 403),
    ("mhlw", "due", 404),
    ("mhlw", "accepted", 403),
    ("chijikai", "accepted", 403),
    ("sapporo", "returned", 404),
    ("sapporo", "accepted", 403),
])
def test_nobody_else_attaches_files(api, schedule, username, status, code):
    report = report_in(schedule, status)
    before = snapshot()
    response = api(username).post(url(report, "attachments/"), {"file": upload("x.exe", EXE)}, format="multipart")
    assert response.status_code == code  # refused before the file is even looked at
    assert snapshot() == before


# --- PDF ------------------------------------------------------------------------------------------------


def test_a_report_pdf_is_rendered_on_request_and_again_after_a_change(api, schedule, django_capture_on_commit_callbacks):
    report = report_in(schedule, "due")
    client = api("secretariat")
    missing = client.get(url(report, "pdf/"))
    assert missing.status_code == 404 and missing.json()["detail"]
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(url(report, "pdf/"))
    assert started.status_code == 202
    assert started.json() == {"status": "rendering", "url": url(report, "pdf/")}
    ready = client.get(url(report, "pdf/"), HTTP_ACCEPT="application/pdf")
    assert ready.status_code == 200, ready.content
    assert ready["Content-Type"] == "application/pdf"
    assert b"".join(ready.streaming_content).startswith(b"%PDF-")
    assert client.post(url(report, "pdf/")).json()["status"] == "ready"
    # The ministry changes the report: the PDF of the old content is not served as the current one.
    assert api("soumu").patch(url(report), {"risks": "追記"}, format="json").status_code == 200
    assert client.get(url(report, "pdf/")).status_code == 404


@pytest.mark.parametrize("username", ["mhlw", "chijikai", "sapporo"])
def test_an_unaccepted_reports_pdf_is_404_for_those_who_cannot_see_it(api, schedule, username):
    report = report_in(schedule, "submitted")
    client = api(username)
    assert client.post(url(report, "pdf/")).status_code == 404
    assert client.get(url(report, "pdf/")).status_code == 404
    assert not ProgressDocument.objects.exists()


# --- overdue and filters ------------------------------------------------------------------------------


@pytest.mark.parametrize("status, overdue", [("due", True), ("returned", True), ("submitted", False), ("accepted", False)])
def test_an_open_report_past_its_due_date_is_overdue(api, schedule, status, overdue):
    report = make_overdue(report_in(schedule, status))
    client = api("secretariat")
    assert client.get(url(report)).json()["overdue"] is overdue
    assert ids(client.get(URL + "?overdue=true")) == ({report.pk} if overdue else set())
    assert ids(client.get(URL + "?overdue=false")) == (set() if overdue else {report.pk})


def test_a_report_submitted_through_the_api_is_no_longer_overdue(api, schedule):
    report = make_overdue(report_in(schedule, "due"))
    response = api("soumu").post(url(report, "transition/"), {"to": "submitted"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["overdue"] is False


def test_it_filters_by_policy_status_and_fiscal_year(api, schedule):
    first, *later = [current_report(schedule), *later_reports(schedule, 4)]
    report_in(first, "accepted")
    report_in(later[0], "submitted")
    client = api("secretariat")
    everything = {first.pk, *(r.pk for r in later)}
    assert ids(client.get(f"{URL}?policy={schedule.policy_id}")) == everything
    assert ids(client.get(f"{URL}?policy={schedule.policy_id + 1000}")) == set()
    assert ids(client.get(URL + "?status=accepted")) == {first.pk}
    assert ids(client.get(URL + "?status=submitted")) == {later[0].pk}
    next_year = later[-1].fiscal_year
    assert first.fiscal_year == next_year - 1  # five quarters span two fiscal years
    in_next_year = {r.pk for r in [first, *later] if r.fiscal_year == next_year}
    assert ids(client.get(f"{URL}?fiscal_year={next_year}")) == in_next_year
    # Filters narrow what the user may see; they never widen it.
    assert ids(api("mhlw").get(URL + "?status=submitted")) == set()


def test_it_orders_by_due_date(api, schedule):
    reports = [current_report(schedule), *later_reports(schedule, 2)]
    client = api("secretariat")
    ascending = [r["id"] for r in client.get(URL + "?ordering=due_date").json()["results"]]
    assert ascending == [r.pk for r in reports]
    assert [r["id"] for r in client.get(URL + "?ordering=-due_date").json()["results"]] == ascending[::-1]
    assert [r["id"] for r in client.get(URL).json()["results"]] == ascending[::-1]  # latest period first


@pytest.mark.parametrize("query, field", [
    ("?status=draft", "status"), ("?policy=x", "policy"),
    ("?fiscal_year=2026.5", "fiscal_year"), ("?ordering=summary", "ordering"),
])
def test_a_bad_filter_is_a_400_naming_it(api, schedule, query, field):
    response = api("secretariat").get(URL + query)
    assert response.status_code == 400
    assert field in response.json()


# --- KPI trend ---------------------------------------------------------------------------------------------


def kpi_trend(client, policy_id):
    return client.get(f"{URL}kpi-trend/?policy={policy_id}")


def trend_reports(schedule):
    """Three periods: accepted, accepted, then the current one submitted (a draft for most)."""
    reports = [current_report(schedule), *later_reports(schedule, 2)]
    for actual, report in zip((10, 25, 40), reports, strict=True):
        fill(report, kpis=[{"name": "利用団体数", "target": 100, "actual": actual, "unit": "団体"}])
    fill(reports[1], kpis=[{"name": "利用団体数", "target": 100, "actual": 25, "unit": "団体"},
                           {"name": "満足度", "target": 80, "actual": None, "unit": "%"}])
    for report, status in zip(reports, ("accepted", "accepted", "submitted"), strict=True):
        report_in(report, status, filled=False)
    return reports


def test_the_kpi_trend_gives_each_kpis_series_over_the_periods(api, schedule):
    reports = trend_reports(schedule)
    response = kpi_trend(api("secretariat"), schedule.policy_id)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["policy"] == schedule.policy_id
    assert [p["report"] for p in body["periods"]] == [r.pk for r in reports]
    assert [p["label"] for p in body["periods"]] == [r.period_label for r in reports]
    assert [p["status"] for p in body["periods"]] == ["accepted", "accepted", "submitted"]
    users, satisfaction = body["kpis"]
    assert (users["name"], users["unit"]) == ("利用団体数", "団体")
    assert [(p["label"], p["target"], p["actual"]) for p in users["points"]] == [
        (r.period_label, 100, actual) for r, actual in zip(reports, (10, 25, 40), strict=True)]
    assert satisfaction["name"] == "満足度"
    assert [(p["report"], p["target"], p["actual"]) for p in satisfaction["points"]] == [(reports[1].pk, 80, None)]


@pytest.mark.parametrize("username, periods", [
    ("secretariat", 3), ("soumu", 3), ("mhlw", 2), ("chijikai", 2), ("hokkaido", 2), ("sapporo", 2),
])
def test_the_kpi_trend_covers_only_the_reports_the_user_may_see(api, schedule, username, periods):
    trend_reports(schedule)
    body = kpi_trend(api(username), schedule.policy_id).json()
    assert len(body["periods"]) == periods
    assert [p["actual"] for p in body["kpis"][0]["points"]] == [10, 25, 40][:periods]


def test_a_policy_without_reports_has_an_empty_trend(api, schedule):
    body = kpi_trend(api("sapporo"), schedule.policy_id).json()  # its one report is still due
    assert (body["periods"], body["kpis"]) == ([], [])


@pytest.mark.parametrize("query, code", [("", 400), ("?policy=", 400), ("?policy=abc", 400), ("?policy=999999", 404)])
def test_the_kpi_trend_needs_a_visible_policy(api, schedule, query, code):
    response = api("secretariat").get(f"{URL}kpi-trend/{query}")
    assert response.status_code == code
    if code == 400:
        assert "policy" in response.json()


# --- query counts ---------------------------------------------------------------------------------------


def attach(report: ProgressReport) -> None:
    ReportAttachment.objects.create(
        report=report, file=upload("a.pdf", TINY_PDF), original_name="a.pdf", content_type="application/pdf",
        size=len(TINY_PDF), uploaded_by=get_user("soumu"),
    )


@pytest.mark.parametrize("username", ["secretariat", "soumu", "chijikai", "sapporo"])
def test_the_list_reads_in_constant_queries(api, schedule, username, django_assert_max_num_queries):
    client = api(username)
    reports = [current_report(schedule), *later_reports(schedule, 11)]
    for report in reports[:3]:
        attach(report_in(report, "accepted"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for report in reports[3:]:
        attach(report_in(report, "accepted"))
    # token, memberships, count, page (policy, ministry, schedule joined), attachments
    with django_assert_max_num_queries(5):
        response = client.get(URL)
    assert response.json()["count"] == 12
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(many) == len(few)


def test_the_kpi_trend_reads_in_constant_queries(api, schedule, django_assert_max_num_queries):
    client = api("chijikai")
    reports = [current_report(schedule), *later_reports(schedule, 7)]
    for report in reports:
        report_in(report, "accepted")
    with django_assert_max_num_queries(6):
        response = kpi_trend(client, schedule.policy_id)
    assert len(response.json()["periods"]) == 8
