"""The stage 4 pages besides adoption: progress reports (list, detail, edit, transitions,
attachments), the reporting schedule, KPI trends, usage reports and measure requests.

A consented policy with a schedule makes 1,788 adoption rows: each test that needs one
builds it once through the `schedule` fixture, and the role checks loop inside one test.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from council import calendar
from progress import actions
from progress.models import (
    Adoption,
    MeasureRequest,
    ProgressReport,
    ReportAttachment,
    ReportingSchedule,
    UsageReport,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ROLES = ("secretariat", "soumu", "mhlw", "chijikai", "sapporo", "hokkaido")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def signed_in(client, demo_password):
    def login(username: str):
        client.logout()
        assert client.login(username=username, password=demo_password)
        return client

    return login


@pytest.fixture
def schedule(consented_policy, user):
    """A consented policy of 総務省 with a quarterly schedule: this quarter's report is due."""
    return actions.set_schedule(consented_policy(), user("secretariat"), frequency="quarterly", due_days_after_period=30)


@pytest.fixture
def report(schedule):
    return ProgressReport.objects.get(schedule=schedule)


def url(name, *args):
    return reverse(f"progress:{name}", args=args)


def statuses(client, paths) -> list[int]:
    return [client.get(path).status_code for path in paths]


FILLED = {
    "summary": "標準仕様の検討を進めた。",
    "milestones": [
        {"name": "標準仕様の策定", "status": "done", "percent": 100, "weight": 2},
        {"name": "先行団体の選定", "status": "in_progress", "percent": 40, "weight": 1},
    ],
    "kpis": [{"name": "利用団体数", "target": 300, "actual": 120, "unit": "団体"}],
    "risks": "ベンダーの対応が遅れる可能性。",
}


def fill(report, user, **changes):
    return actions.save_report(report, user("soumu"), {**FILLED, **changes})


def submitted(report, user):
    fill(report, user)
    return actions.move_report(report, user("soumu"), "submitted")


def accepted(report, user):
    submitted(report, user)
    return actions.move_report(report, user("secretariat"), "accepted")


def edit_data(milestones=(), kpis=(), intent="save", **fields):
    """The POST of the report edit page: the two tables as formsets."""
    data = {"summary": "", "risks": "", "intent": intent, **fields}
    for prefix, rows in (("milestones", milestones), ("kpis", kpis)):
        data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        for i, row in enumerate(rows):
            for key, value in row.items():
                data[f"{prefix}-{i}-{key}"] = value
    return data


MILESTONES = [
    {"name": "標準仕様の策定", "status": "done", "percent": "100", "weight": "2"},
    {"name": "先行団体の選定", "status": "in_progress", "percent": "40", "weight": ""},
]
KPIS = [{"name": "利用団体数", "target": "300", "actual": "120", "unit": "団体"}]


# --- Who reaches which page ----------------------------------------------------------------------

ALL_PAGES = [
    ("report-list", ()), ("report-detail", (1,)), ("report-edit", (1,)), ("report-attachment", (1,)),
    ("schedule-new", (1,)), ("kpi-trend", (1,)), ("usage-list", ()), ("usage-new", ()),
    ("measure-list", ()), ("measure-new", ()), ("measure-detail", (1,)),
]


@pytest.mark.parametrize("name, args", ALL_PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, name, args):
    response = client.get(url(name, *args))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url(name, *args)}"


def test_anonymous_posts_change_nothing(client, report):
    assert client.post(url("report-transition", report.pk), {"to": "submitted"}).status_code == 302
    assert client.post(url("report-edit", report.pk), edit_data(MILESTONES, KPIS, summary="x")).status_code == 302
    report.refresh_from_db()
    assert (report.status, report.summary) == ("due", "")


def test_report_pages_by_role(signed_in, report, user):
    # A report not yet accepted: the owning ministry and the secretariat only.
    detail, edit = url("report-detail", report.pk), url("report-edit", report.pk)
    expected = {
        "secretariat": [200, 200, 403], "soumu": [200, 200, 200], "mhlw": [200, 404, 404],
        "chijikai": [200, 404, 404], "sapporo": [200, 404, 404], "hokkaido": [200, 404, 404],
    }
    for username in ROLES:
        got = statuses(signed_in(username), [url("report-list"), detail, edit])
        assert got == expected[username], username
    # Accepted: published to everyone who sees the policy; nobody edits it any more.
    accepted(report, user)
    for username in ROLES:
        got = statuses(signed_in(username), [detail, edit])
        assert got == [200, 403], username


def test_a_report_outside_ones_scope_cannot_be_moved_either(signed_in, report, user):
    fill(report, user)
    assert signed_in("mhlw").post(url("report-transition", report.pk), {"to": "submitted"}).status_code == 404
    assert signed_in("sapporo").post(url("report-transition", report.pk), {"to": "submitted"}).status_code == 404
    # The secretariat sees it but may not submit for the ministry.
    assert signed_in("secretariat").post(url("report-transition", report.pk), {"to": "submitted"}).status_code == 403
    assert ProgressReport.objects.get(pk=report.pk).status == "due"


def test_schedule_and_kpi_pages_by_role(signed_in, consented_policy, submitted_policy):
    policy = consented_policy()
    draft = submitted_policy("mhlw")  # submitted, not yet put to consent: council members only
    expected = {
        "secretariat": [200, 200, 200, 200], "soumu": [403, 200, 403, 200], "mhlw": [403, 200, 403, 200],
        "chijikai": [403, 200, 403, 200], "sapporo": [403, 200, 404, 404], "hokkaido": [403, 200, 404, 404],
    }
    paths = [url("schedule-new", policy.pk), url("kpi-trend", policy.pk), url("schedule-new", draft.pk), url("kpi-trend", draft.pk)]
    for username in ROLES:
        assert statuses(signed_in(username), paths) == expected[username], username
    assert signed_in("secretariat").get(url("kpi-trend", 999_999)).status_code == 404


def test_the_navigation_has_the_stage_4_sections(signed_in):
    for username, measures in (("soumu", True), ("chijikai", True), ("sapporo", False), ("hokkaido", False)):
        html = signed_in(username).get("/").content.decode()
        for name in ("report-list", "adoption", "usage-list"):
            assert f'href="{url(name)}"' in html, (username, name)
        assert (f'href="{url("measure-list")}"' in html) is measures, username
    html = signed_in("soumu").get(url("report-list")).content.decode()
    assert f'<a href="{url("report-list")}" aria-current="page">進捗報告</a>' in html


# --- Setting the schedule ------------------------------------------------------------------------


def test_the_secretariat_sets_the_schedule_of_a_consented_policy(signed_in, consented_policy):
    policy = consented_policy()
    client = signed_in("secretariat")
    page = client.get(url("schedule-new", policy.pk)).content.decode()
    assert "四半期ごと" in page and "1,788団体" in page
    response = client.post(url("schedule-new", policy.pk), {"frequency": "semiannual", "due_days_after_period": "45"})
    assert response.status_code == 302
    assert response["Location"] == f"{url('report-list')}?policy={policy.pk}"
    schedule = ReportingSchedule.objects.get(policy=policy)
    assert (schedule.frequency, schedule.due_days_after_period) == ("semiannual", 45)
    assert ProgressReport.objects.filter(policy=policy).count() == 1
    assert Adoption.objects.filter(policy=policy).count() == 1788
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "報告スケジュールを設定しました" in messages[0]
    # Set already: the page says so, and a second POST is a conflict that changes nothing.
    assert "報告スケジュールは設定済みです" in client.get(url("schedule-new", policy.pk)).content.decode()
    again = client.post(url("schedule-new", policy.pk), {"frequency": "annual", "due_days_after_period": "10"})
    assert again.status_code == 409
    assert "既に報告スケジュールがあります" in again.content.decode()
    assert ReportingSchedule.objects.get(policy=policy).frequency == "semiannual"


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"frequency": "weekly", "due_days_after_period": "30"}, "frequency", "正しく選択してください"),
        ({"frequency": "quarterly", "due_days_after_period": "181"}, "due_days_after_period", "180"),
        ({"frequency": "quarterly", "due_days_after_period": "三十"}, "due_days_after_period", "整数"),
    ],
)
def test_a_bad_schedule_shows_the_error_next_to_the_field(signed_in, consented_policy, data, field, message):
    policy = consented_policy()
    response = signed_in("secretariat").post(url("schedule-new", policy.pk), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in response.content.decode() or field == "frequency"
    assert not ReportingSchedule.objects.exists()


def test_a_policy_not_consented_gets_no_schedule(signed_in, submitted_policy):
    policy = submitted_policy()
    client = signed_in("secretariat")
    assert "まだ同意されていません" in client.get(url("schedule-new", policy.pk)).content.decode()
    response = client.post(url("schedule-new", policy.pk), {"frequency": "quarterly", "due_days_after_period": "30"})
    assert response.status_code == 200
    assert "同意済みの方針にのみ設定できます" in response.content.decode()
    assert not ReportingSchedule.objects.exists() and not Adoption.objects.exists()


# --- The report list -----------------------------------------------------------------------------


def test_the_list_shows_period_status_due_date_and_the_overdue_marker(signed_in, report):
    ProgressReport.objects.filter(pk=report.pk).update(due_date=calendar.today() - timedelta(days=3))
    response = signed_in("soumu").get(url("report-list"))
    [listed] = response.context["reports"]
    assert listed.overdue is True
    html = response.content.decode()
    assert report.period_label in html and "未提出" in html and "期限超過" in html and 'class="is-overdue"' in html
    assert report.policy.title in html


def test_the_list_filters_by_status_policy_and_overdue(signed_in, report, user):
    client = signed_in("secretariat")
    later = report.schedule.first.next().next()
    actions.ensure_reports(report.schedule, today=later.start)  # two more periods
    assert len(client.get(url("report-list")).context["reports"]) == 3
    submitted(report, user)
    assert [r.pk for r in client.get(url("report-list"), {"status": "submitted"}).context["reports"]] == [report.pk]
    assert len(client.get(url("report-list"), {"policy": report.policy_id}).context["reports"]) == 3
    ProgressReport.objects.exclude(pk=report.pk).update(due_date=calendar.today() - timedelta(days=1))
    assert len(client.get(url("report-list"), {"overdue": "true"}).context["reports"]) == 2
    assert [r.pk for r in client.get(url("report-list"), {"overdue": "false"}).context["reports"]] == [report.pk]
    bad = client.get(url("report-list"), {"status": "nonsense"})
    assert bad.status_code == 200 and bad.context["filterset"].errors


def test_a_local_official_lists_only_accepted_reports(signed_in, report, user):
    client = signed_in("sapporo")
    assert list(client.get(url("report-list")).context["reports"]) == []
    accepted(report, user)
    assert [r.pk for r in client.get(url("report-list")).context["reports"]] == [report.pk]


def test_the_list_reads_in_constant_queries(signed_in, report, django_assert_max_num_queries):
    client = signed_in("secretariat")
    with CaptureQueriesContext(connection) as few:
        client.get(url("report-list"))
    later = report.schedule.first
    for _ in range(8):
        later = later.next()
    actions.ensure_reports(report.schedule, today=later.start)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url("report-list"))
    assert len(response.context["reports"]) == 9


# --- The report page -----------------------------------------------------------------------------


def test_the_report_shows_milestones_progress_kpis_and_history(signed_in, report, user):
    submitted(report, user)
    html = signed_in("secretariat").get(url("report-detail", report.pk)).content.decode()
    assert "標準仕様の策定" in html and "完了" in html and "100%" in html
    assert "80.0" in html  # (100 × 2 + 40 × 1) / 3 = 80.0
    assert "利用団体数" in html and "300" in html and "120" in html and "40.0%" in html  # attainment
    assert "ベンダーの対応" in html
    assert "受理する" in html and "差し戻す" in html and "提出する" not in html
    assert f'{url("measure-new")}?policy={report.policy_id}&amp;report={report.pk}' in html
    assert url("kpi-trend", report.policy_id) in html
    assert "提出済み" in html  # the history


def test_the_ministry_gets_submit_and_edit_and_no_measure_link(signed_in, report, user):
    fill(report, user)
    html = signed_in("soumu").get(url("report-detail", report.pk)).content.decode()
    assert "提出する" in html and url("report-edit", report.pk) in html
    assert "受理する" not in html and url("measure-new") not in html


def test_the_secretariat_returns_with_a_comment_then_accepts(signed_in, report, user):
    submitted(report, user)
    client = signed_in("secretariat")
    refused = client.post(url("report-transition", report.pk), {"to": "returned", "comment": " "})
    assert refused.status_code == 200
    assert "差し戻す理由をコメントに入力してください。" in refused.context["transition_form"].errors["comment"]
    assert ProgressReport.objects.get(pk=report.pk).status == "submitted"
    response = client.post(url("report-transition", report.pk), {"to": "returned", "comment": "KPIの根拠を追記してください。"})
    assert response.status_code == 302
    assert ProgressReport.objects.get(pk=report.pk).status == "returned"
    # The ministry sees why, resubmits; the secretariat accepts.
    ministry = signed_in("soumu")
    assert "KPIの根拠を追記してください。" in ministry.get(url("report-edit", report.pk)).content.decode()
    assert ministry.post(url("report-transition", report.pk), {"to": "submitted"}).status_code == 302
    client = signed_in("secretariat")
    assert client.post(url("report-transition", report.pk), {"to": "accepted"}).status_code == 302
    report.refresh_from_db()
    assert report.status == "accepted"
    assert [h.to_status for h in report.history()] == ["submitted", "returned", "submitted", "accepted"]
    # A move the workflow does not allow from here: a message and 409.
    conflict = client.post(url("report-transition", report.pk), {"to": "returned", "comment": "再度"})
    assert conflict.status_code == 409
    assert "「受理」から「差戻し」へは変更できません。" in conflict.content.decode()


def test_submitting_an_empty_report_names_what_is_missing(signed_in, report):
    response = signed_in("soumu").post(url("report-transition", report.pk), {"to": "submitted"})
    assert response.status_code == 200
    errors = response.context["transition_form"].non_field_errors()
    assert any("概要" in e for e in errors) and any("マイルストーン" in e for e in errors)
    assert ProgressReport.objects.get(pk=report.pk).status == "due"


# --- Editing a report ----------------------------------------------------------------------------


def test_the_edit_page_has_the_two_tables_with_extra_rows(signed_in, report, user):
    fill(report, user)
    response = signed_in("soumu").get(url("report-edit", report.pk))
    html = response.content.decode()
    assert response.context["milestones"].total_form_count() == 4  # two rows + two blank
    assert response.context["kpis"].total_form_count() == 3
    assert 'value="標準仕様の策定"' in html and "1行目の</span>マイルストーン名" in html and "2行目の</span>進捗率（%）" in html
    assert "下書き保存" in html and ">提出<" in html


def test_the_ministry_saves_a_draft(signed_in, report):
    data = edit_data(MILESTONES + [{"name": "", "status": "in_progress", "percent": "", "weight": ""}], KPIS, summary="検討を進めた。")
    response = signed_in("soumu").post(url("report-edit", report.pk), data)
    assert response.status_code == 302 and response["Location"] == url("report-edit", report.pk)
    report.refresh_from_db()
    assert report.status == "due" and report.summary == "検討を進めた。"
    assert report.milestones == [
        {"name": "標準仕様の策定", "status": "done", "percent": 100, "weight": 2},
        {"name": "先行団体の選定", "status": "in_progress", "percent": 40, "weight": 1},  # blank weight: 1
    ]
    assert report.kpis == [{"name": "利用団体数", "target": 300, "actual": 120, "unit": "団体"}]


def test_the_ministry_submits_from_the_edit_page(signed_in, report):
    data = edit_data(MILESTONES, KPIS + [{"name": "稼働率", "target": "９９．５", "actual": "1,234", "unit": "%"}], summary="概要", intent="submit")
    response = signed_in("soumu").post(url("report-edit", report.pk), data)
    assert response.status_code == 302 and response["Location"] == url("report-detail", report.pk)
    report.refresh_from_db()
    assert report.status == "submitted"
    assert report.kpis[1] == {"name": "稼働率", "target": 99.5, "actual": 1234, "unit": "%"}  # full-width and commas


def test_submitting_without_a_summary_keeps_the_draft_and_names_the_field(signed_in, report):
    data = edit_data(MILESTONES, KPIS, intent="submit")
    response = signed_in("soumu").post(url("report-edit", report.pk), data)
    assert response.status_code == 200
    assert response.context["form"].errors["summary"] == ["提出するには概要を入力してください。"]
    report.refresh_from_db()
    assert report.status == "due" and len(report.milestones) == 2  # the draft was saved


@pytest.mark.parametrize(
    "milestones, kpis, prefix, row, field, message",
    [
        (MILESTONES, [{"name": "利用団体数", "target": "たくさん", "actual": "", "unit": ""}], "kpis", 0, "target", "数値で入力してください。"),
        (MILESTONES, [{"name": "利用団体数", "target": "10", "actual": "NaN", "unit": ""}], "kpis", 0, "actual", "数値で入力してください。"),
        (MILESTONES, [{"name": "", "target": "10", "actual": "", "unit": ""}], "kpis", 0, "name", "KPI名を入力してください。"),
        (MILESTONES, [{"name": "利用団体数", "target": "", "actual": "3", "unit": ""}], "kpis", 0, "target", "目標値を数値で入力してください。"),
        ([MILESTONES[0], {"name": "移行", "status": "in_progress", "percent": "120", "weight": "1"}], KPIS, "milestones", 1, "percent", "100 以下"),
        ([{"name": "移行", "status": "in_progress", "percent": "-1", "weight": "1"}], KPIS, "milestones", 0, "percent", "0 以上"),
        ([{"name": "移行", "status": "finished", "percent": "10", "weight": "1"}], KPIS, "milestones", 0, "status", "正しく選択してください"),
        ([{"name": "移行", "status": "in_progress", "percent": "", "weight": "1"}], KPIS, "milestones", 0, "percent", "進捗率を0から100の数値で入力してください。"),
    ],
)
def test_a_bad_row_shows_the_error_next_to_its_field_and_saves_nothing(signed_in, report, milestones, kpis, prefix, row, field, message):
    response = signed_in("soumu").post(url("report-edit", report.pk), edit_data(milestones, kpis, summary="概要", intent="submit"))
    assert response.status_code == 200
    errors = response.context[prefix].forms[row].errors[field]
    assert message in " ".join(errors)
    html = response.content.decode()
    # The error sits in the row's cell (tied to the input), and the summary links to that input.
    assert f'id="id_{prefix}-{row}-{field}_error"' in html
    assert f'aria-describedby="id_{prefix}-{row}-{field}_error"' in html
    assert f'href="#id_{prefix}-{row}-{field}"' in html
    report.refresh_from_db()
    assert (report.status, report.summary, report.milestones, report.kpis) == ("due", "", [], [])


def test_attachments_are_uploaded_checked_and_downloaded_by_those_who_see_the_report(signed_in, report, user):
    client = signed_in("soumu")
    bad = edit_data(MILESTONES, KPIS, summary="概要", attachments=SimpleUploadedFile("a.pdf", b"MZ\x90\x00 not a pdf"))
    response = client.post(url("report-edit", report.pk), bad)
    assert response.status_code == 200
    assert "形式は受け付けられません" in " ".join(response.context["form"].errors["attachments"])
    assert not ReportAttachment.objects.exists() and ProgressReport.objects.get(pk=report.pk).summary == ""
    good = edit_data(MILESTONES, KPIS, summary="概要", attachments=SimpleUploadedFile("進捗資料.pdf", PDF, content_type="application/pdf"))
    assert client.post(url("report-edit", report.pk), good).status_code == 302
    attachment = ReportAttachment.objects.get()
    download = client.get(url("report-attachment", attachment.pk))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert "filename*=UTF-8''%E9%80%B2" in download["Content-Disposition"]
    # Not accepted yet: another ministry and local officials do not see it.
    assert signed_in("mhlw").get(url("report-attachment", attachment.pk)).status_code == 404
    assert signed_in("sapporo").get(url("report-attachment", attachment.pk)).status_code == 404
    actions.move_report(report, user("soumu"), "submitted")
    actions.move_report(report, user("secretariat"), "accepted")
    assert signed_in("sapporo").get(url("report-attachment", attachment.pk)).status_code == 200


def test_a_submitted_report_cannot_be_edited(signed_in, report, user):
    submitted(report, user)
    client = signed_in("soumu")
    assert client.get(url("report-edit", report.pk)).status_code == 403
    assert client.post(url("report-edit", report.pk), edit_data(MILESTONES, KPIS, summary="後から")).status_code == 403
    assert ProgressReport.objects.get(pk=report.pk).summary == FILLED["summary"]


# --- KPI trend ------------------------------------------------------------------------------------


def test_the_kpi_trend_draws_one_chart_per_kpi_with_its_table(signed_in, report, user):
    accepted(report, user)
    # Three periods on: one more report accepted, one left due (a gap), one submitted.
    later = report.schedule.first.next().next().next()
    actions.ensure_reports(report.schedule, today=later.start)
    second, third, fourth = ProgressReport.objects.filter(schedule=report.schedule).exclude(pk=report.pk).order_by("period_start")
    accepted(second, user)
    fill(fourth, user, kpis=[{"name": "利用団体数", "target": 300, "actual": 180, "unit": "団体"},
                             {"name": "稼働率", "target": 99.9, "actual": 99.95, "unit": "%"}])
    actions.move_report(fourth, user("soumu"), "submitted")

    response = signed_in("secretariat").get(url("kpi-trend", report.policy_id))
    charts = response.context["charts"]
    assert [c.name for c in charts] == ["利用団体数", "稼働率"]
    first = charts[0]
    assert [p.actual for p in first.points] == [120, 120, None, 180]
    assert [p.reported for p in first.points] == [True, True, False, True]
    assert len(first.actual_lines) == 1  # the gap at the third period breaks the line
    html = response.content.decode()
    assert html.count('class="kpi-chart"') == 2 and "kpi-chart__target" in html
    assert 'role="img"' in html and "利用団体数の推移（単位：団体）" in html
    assert "利用団体数の期ごとの値" in html and "報告なし" in html and "99.95" in html
    # A local official sees only accepted figures: the submitted one is not there.
    charts = signed_in("sapporo").get(url("kpi-trend", report.policy_id)).context["charts"]
    assert [p.actual for p in charts[0].points] == [120, 120]


def test_a_policy_without_reports_explains_the_empty_trend(signed_in, consented_policy):
    policy = consented_policy()
    html = signed_in("chijikai").get(url("kpi-trend", policy.pk)).content.decode()
    assert "報告スケジュールが設定されていません" in html


# --- Usage reports ---------------------------------------------------------------------------------


def usage_data(metrics=({"name": "利用団体数", "value": "1,741", "unit": "団体"},), **fields):
    data = {"system_name": "公的個人認証サービス", "layer": "dpi", "period_start": "2026-04-01", "period_end": "2026-06-30", "note": "", **fields}
    data["metrics-TOTAL_FORMS"], data["metrics-INITIAL_FORMS"] = str(len(metrics)), "0"
    for i, row in enumerate(metrics):
        for key, value in row.items():
            data[f"metrics-{i}-{key}"] = value
    return data


def test_usage_pages_by_role(signed_in):
    expected = {
        "secretariat": [200, 200], "soumu": [200, 200], "mhlw": [200, 200],
        "chijikai": [200, 403], "sapporo": [200, 403], "hokkaido": [200, 403],
    }
    for username in ROLES:
        assert statuses(signed_in(username), [url("usage-list"), url("usage-new")]) == expected[username], username


def test_a_ministry_reports_usage_and_everyone_sees_it(signed_in, org):
    client = signed_in("soumu")
    response = client.post(url("usage-new"), usage_data(reporter=org("soumu").pk))
    assert response.status_code == 302 and response["Location"] == url("usage-list")
    report = UsageReport.objects.get()
    assert (report.reporter.code, report.metrics) == ("soumu", [{"name": "利用団体数", "value": 1741, "unit": "団体"}])
    html = signed_in("sapporo").get(url("usage-list")).content.decode()
    assert "公的個人認証サービス" in html and "1,741" in html and "DPI" in html


@pytest.mark.parametrize(
    "data, where, message",
    [
        (usage_data(metrics=({"name": "件数", "value": "多い", "unit": ""},)), ("metrics", 0, "value"), "数値で入力してください。"),
        (usage_data(metrics=()), "metrics", "指標を1件以上入力してください。"),
        (usage_data(period_end="2026-03-31"), "period_end", "対象期間の終了は開始以降にしてください。"),
        (usage_data(layer=""), "layer", "区分を選んでください。"),
    ],
)
def test_bad_usage_input_shows_the_error_and_saves_nothing(signed_in, org, data, where, message):
    response = signed_in("soumu").post(url("usage-new"), {**data, "reporter": org("soumu").pk})
    assert response.status_code == 200
    if isinstance(where, tuple):
        prefix, row, field = where
        errors = response.context[prefix].forms[row].errors[field]
    elif where == "metrics":
        errors = response.context["metrics"].non_form_errors()
    else:
        errors = response.context["form"].errors[where]
    assert message in " ".join(errors)
    assert not UsageReport.objects.exists()


def test_a_ministry_cannot_report_as_another(signed_in, org):
    response = signed_in("soumu").post(url("usage-new"), usage_data(reporter=org("mhlw").pk))
    assert response.status_code == 200 and "reporter" in response.context["form"].errors
    assert not UsageReport.objects.exists()


def test_the_usage_list_reads_in_constant_queries(signed_in, user, django_assert_max_num_queries):
    from datetime import date

    def add(n, reporter):
        for i in range(n):
            actions.create_usage_report(user(reporter), system_name=f"システム{reporter}{i}", layer="dpi",
                                        period_start=date(2026, 4, 1), period_end=date(2026, 6, 30),
                                        metrics=[{"name": "件数", "value": i}])

    add(1, "secretariat")
    client = signed_in("sapporo")
    with CaptureQueriesContext(connection) as few:
        client.get(url("usage-list"))
    add(10, "soumu")
    add(10, "mhlw")
    with django_assert_max_num_queries(len(few)):
        response = client.get(url("usage-list"))
    assert len(response.context["usage_reports"]) == 21


# --- Measure requests ----------------------------------------------------------------------------


def measure(policy, user, report=None):
    return actions.request_measures(user("secretariat"), policy=policy, report=report, request="移行支援策を示してください。",
                                    due_date=calendar.today() + timedelta(days=30))


def test_measure_pages_by_role(signed_in, consented_policy, user):
    request = measure(consented_policy(), user)
    paths = [url("measure-list"), url("measure-new"), url("measure-detail", request.pk)]
    expected = {
        "secretariat": [200, 200, 200], "soumu": [200, 403, 200], "mhlw": [200, 403, 200],
        "chijikai": [200, 403, 200], "sapporo": [403, 403, 404], "hokkaido": [403, 403, 404],
    }
    for username in ROLES:
        assert statuses(signed_in(username), paths) == expected[username], username


def test_the_secretariat_requests_measures_from_a_report(signed_in, report, user):
    accepted(report, user)
    client = signed_in("secretariat")
    page = client.get(url("measure-new"), {"policy": report.policy_id, "report": report.pk})
    assert page.context["form"].initial == {"report": report.pk, "policy": report.policy_id}
    assert report.period_label in page.content.decode()
    due = calendar.next_business_day(calendar.today() + timedelta(days=20))
    response = client.post(url("measure-new"), {
        "policy": report.policy_id, "report": report.pk, "ministry": "", "request": "小規模団体への支援策を示してください。",
        "due_date": due.isoformat(),
    })
    request = MeasureRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == url("measure-detail", request.pk)
    assert (request.report_id, request.ministry.code, request.due_date, request.status) == (report.pk, "soumu", due, "open")
    # The report lists the request; the measure page links back to the report.
    assert "小規模団体への支援策" in client.get(url("report-detail", report.pk)).content.decode()
    assert url("report-detail", report.pk) in client.get(url("measure-detail", request.pk)).content.decode()


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"request": ""}, "request", "依頼内容を入力してください。"),
        ({"due_date": "today"}, "due_date", "回答期限は明日以降の日付にしてください。"),
        ({"due_date": "2026-02-30"}, "due_date", "日付を正しく入力してください。"),
    ],
)
def test_a_bad_measure_request_shows_the_error_and_saves_nothing(signed_in, consented_policy, overrides, field, message):
    policy = consented_policy()
    data = {"policy": policy.pk, "ministry": "", "report": "", "request": "対応を", "due_date": (calendar.today() + timedelta(days=9)).isoformat()}
    if overrides.get("due_date") == "today":
        overrides = {"due_date": calendar.today().isoformat()}
    response = signed_in("secretariat").post(url("measure-new"), {**data, **overrides})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not MeasureRequest.objects.exists()


def test_the_ministry_responds_and_the_secretariat_closes(signed_in, consented_policy, user):
    request = measure(consented_policy(), user)
    transition = url("measure-transition", request.pk)
    assert signed_in("mhlw").post(transition, {"to": "responded", "response": "他省の回答"}).status_code == 403
    client = signed_in("soumu")
    assert "回答する" in client.get(url("measure-detail", request.pk)).content.decode()
    empty = client.post(transition, {"to": "responded", "response": "  "})
    assert empty.status_code == 200 and empty.context["form"].errors["response"] == ["回答を入力してください。"]
    assert client.post(transition, {"to": "responded", "response": "補助を拡充します。"}).status_code == 302
    assert client.post(transition, {"to": "closed"}).status_code == 403
    secretariat = signed_in("secretariat")
    assert "完了にする" in secretariat.get(url("measure-detail", request.pk)).content.decode()
    assert secretariat.post(transition, {"to": "closed", "comment": "確認しました。"}).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.response) == ("closed", "補助を拡充します。")
    again = secretariat.post(transition, {"to": "closed"})
    assert again.status_code == 409 and "「完了」から「完了」へは変更できません。" in again.content.decode()
    assert signed_in("sapporo").post(transition, {"to": "closed"}).status_code == 404


def test_the_measure_list_marks_overdue_and_reads_in_constant_queries(signed_in, consented_policy, user, django_assert_max_num_queries):
    policy = consented_policy()
    first = measure(policy, user)
    MeasureRequest.objects.filter(pk=first.pk).update(due_date=calendar.today() - timedelta(days=2))
    client = signed_in("chijikai")
    with CaptureQueriesContext(connection) as few:
        response = client.get(url("measure-list"))
    assert "期限超過" in response.content.decode()
    for _ in range(10):
        measure(policy, user)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url("measure-list"))
    assert len(response.context["measures"]) == 11
    assert [m.pk for m in client.get(url("measure-list"), {"overdue": "true"}).context["measures"]] == [first.pk]
