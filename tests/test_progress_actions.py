"""Stage 4 through progress.actions: schedules, reports, adoption and its import, usage
reports, measure requests and reminders."""

import io
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from council import calendar
from council.workflow import Conflict, TransitionNotAllowed
from progress import actions, reminders, tasks
from progress.models import Adoption, AdoptionChange, MeasureRequest, ProgressReport, Reminder
from progress.periods import Period
from tenants.models import Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(consented_policy, user):
    return actions.set_schedule(consented_policy(), user("secretariat"), frequency="quarterly", due_days_after_period=30)


def test_setting_a_schedule_creates_this_periods_report_and_every_adoption_row(schedule):
    [report] = ProgressReport.objects.filter(schedule=schedule)
    current = Period.containing(calendar.today(), "quarterly")
    assert (report.fiscal_year, report.period, report.period_end) == (current.fiscal_year, current.number, current.end)
    assert report.due_date == current.due_date(30) and calendar.is_business_day(report.due_date)
    assert Adoption.objects.filter(policy=schedule.policy).count() == 1788
    assert Adoption.objects.filter(policy=schedule.policy, organization__code="011002").exists()


def test_only_the_secretariat_sets_a_schedule_and_only_for_a_consented_policy(consented_policy, submitted_policy, user):
    policy = consented_policy()
    with pytest.raises(PermissionDenied):
        actions.set_schedule(policy, user("soumu"), frequency="quarterly", due_days_after_period=30)
    with pytest.raises(ValidationError):
        actions.set_schedule(submitted_policy("mhlw"), user("secretariat"), frequency="annual", due_days_after_period=30)
    actions.set_schedule(policy, user("secretariat"), frequency="annual", due_days_after_period=30)
    with pytest.raises(Conflict):
        actions.set_schedule(policy, user("secretariat"), frequency="annual", due_days_after_period=30)


def test_obligations_are_created_once_per_period_across_fiscal_years(schedule):
    first = schedule.first
    later = first.next().next().next().next().next()  # five quarters on: into the next fiscal year
    assert actions.ensure_reports(schedule, today=later.start) == 5
    assert actions.ensure_reports(schedule, today=later.start) == 0  # the beat ran twice
    periods = list(ProgressReport.objects.filter(schedule=schedule).order_by("period_start").values_list("fiscal_year", "period"))
    assert len(periods) == 6 and len(set(periods)) == 6
    assert periods[-1] == (later.fiscal_year, later.number)
    assert tasks.create_report_obligations() == 0


def filled(report, user, **changes):
    data = {
        "summary": "標準仕様の検討を進めた。",
        "milestones": [{"name": "標準仕様", "percent": 80, "weight": 2, "status": "in_progress"},
                       {"name": "先行団体の選定", "percent": 50, "weight": 1, "status": "in_progress"}],
        "kpis": [{"name": "利用団体数", "target": 100, "actual": 12, "unit": "団体"}],
        "risks": "ベンダーの対応",
        **changes,
    }
    return actions.save_report(report, user("soumu"), data)


def test_the_report_workflow_with_a_return_and_a_resubmission(schedule, user):
    report = ProgressReport.objects.get(schedule=schedule)
    with pytest.raises(ValidationError) as excinfo:
        actions.move_report(report, user("soumu"), "submitted")
    assert set(excinfo.value.message_dict) == {"summary", "milestones"}
    report = filled(report, user)
    assert report.overall_progress == pytest.approx((80 * 2 + 50) / 3, abs=0.1)
    actions.move_report(report, user("soumu"), "submitted")
    with pytest.raises(PermissionDenied):
        actions.save_report(report, user("soumu"), {"summary": "提出後の変更"})
    with pytest.raises(ValidationError):
        actions.move_report(report, user("secretariat"), "returned", comment="")
    actions.move_report(report, user("secretariat"), "returned", comment="KPIの実績値の根拠を追記してください。")
    filled(report, user, summary="根拠を追記した。")
    actions.move_report(report, user("soumu"), "submitted")
    actions.move_report(report, user("secretariat"), "accepted")
    report.refresh_from_db()
    assert report.status == "accepted"
    assert [h.to_status for h in report.history()] == ["submitted", "returned", "submitted", "accepted"]
    with pytest.raises(TransitionNotAllowed):
        actions.move_report(report, user("secretariat"), "returned", comment="x")


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"kpis": [{"name": "利用団体数", "target": "たくさん"}]}, "kpis"),
        ({"kpis": [{"name": "利用団体数", "target": 10, "actual": "NaN"}]}, "kpis"),
        ({"milestones": [{"name": "仕様", "percent": 120}]}, "milestones"),
        ({"milestones": [{"name": "仕様", "percent": -1}]}, "milestones"),
        ({"milestones": [{"name": "", "percent": 10}]}, "milestones"),
        ({"summary": "あ" * 20_001}, "summary"),
    ],
)
def test_bad_report_values_are_refused_and_nothing_saved(schedule, user, changes, field):
    report = ProgressReport.objects.get(schedule=schedule)
    with pytest.raises(ValidationError) as excinfo:
        filled(report, user, **changes)
    assert field in excinfo.value.message_dict
    report.refresh_from_db()
    assert report.summary == "" and report.kpis == []


@pytest.mark.parametrize("username", ["mhlw", "secretariat", "chijikai", "sapporo"])
def test_only_the_owning_ministry_writes_its_report(schedule, user, username):
    report = ProgressReport.objects.get(schedule=schedule)
    with pytest.raises(PermissionDenied):
        actions.save_report(report, user(username), {"summary": "x"})


def test_a_local_official_changes_only_their_own_adoption(schedule, user, org):
    sapporo = Adoption.objects.get(policy=schedule.policy, organization=org("011002"))
    asahikawa = Adoption.objects.get(policy=schedule.policy, organization=org("012041"))
    actions.change_adoption(sapporo, user("sapporo"), status="planned", target_fiscal_year=2028)
    with pytest.raises(PermissionDenied):
        actions.change_adoption(asahikawa, user("sapporo"), status="in_use")
    with pytest.raises(PermissionDenied):
        actions.change_adoption(sapporo, user("hokkaido"), status="in_use")
    with pytest.raises(ValidationError):
        actions.change_adoption(sapporo, user("sapporo"), status="planned")  # the year is required
    sapporo.refresh_from_db()
    asahikawa.refresh_from_db()
    assert (sapporo.status, sapporo.target_fiscal_year, asahikawa.status) == ("planned", 2028, "not_planned")
    assert list(AdoptionChange.objects.filter(adoption=sapporo).values_list("from_status", "to_status")) == [("not_planned", "planned")]


def csv_upload(text: str, name: str = "adoption.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def all_municipalities_csv(bad_line: int | None = None) -> str:
    lines = ["code,status,target_fiscal_year"]
    for i, code in enumerate(Organization.objects.filter(kind="municipality").order_by("code").values_list("code", flat=True)):
        lines.append(f"{code},planned,2029" if i % 2 else f"{code},in_use,")
    if bad_line is not None:
        lines[bad_line - 1] = "999999,in_use,"
    return "\n".join(lines) + "\n"


def test_importing_all_1741_municipalities_applies_every_row(schedule, user):
    result = actions.import_adoption(schedule.policy, user("soumu"), csv_upload(all_municipalities_csv()))
    assert (result.rows, result.changed) == (1741, 1741)
    assert Adoption.objects.filter(policy=schedule.policy, status="in_use").count() == 871
    assert AdoptionChange.objects.filter(adoption__policy=schedule.policy, source="import").count() == 1741


def test_one_bad_line_among_1741_applies_none_and_names_the_line(schedule, user):
    with pytest.raises(ValidationError) as excinfo:
        actions.import_adoption(schedule.policy, user("soumu"), csv_upload(all_municipalities_csv(bad_line=900)))
    assert excinfo.value.message_dict["file"] == ["900行目：団体コード「999999」の地方公共団体はありません。"]
    assert not Adoption.objects.filter(policy=schedule.policy).exclude(status="not_planned").exists()
    assert not AdoptionChange.objects.exists()


@pytest.mark.parametrize(
    "content, name, message",
    [
        ("code,state,year\n011002,in_use,\n", "a.csv", "1行目"),
        ("code,status,target_fiscal_year\n011002,in_use,\n011002,planned,2028\n", "a.csv", "重複"),
        ("code,status,target_fiscal_year\n011002,using,\n", "a.csv", "導入状況「using」"),
        ("code,status,target_fiscal_year\n011002,planned,\n", "a.csv", "導入予定年度が必要"),
        ("code,status,target_fiscal_year\n011002,planned,20x8\n", "a.csv", "年度"),
        ("%PDF-1.4 not a table", "a.pdf", "CSV または XLSX"),
    ],
)
def test_bad_import_files_are_refused_with_a_reason(schedule, user, content, name, message):
    with pytest.raises(ValidationError) as excinfo:
        actions.import_adoption(schedule.policy, user("soumu"), csv_upload(content, name))
    assert message in " ".join(excinfo.value.message_dict["file"])


def test_an_import_over_10_mb_is_refused(schedule, user):
    big = SimpleUploadedFile("a.csv", b"code,status,target_fiscal_year\n" + b"0" * (10 * 1024 * 1024), content_type="text/csv")
    with pytest.raises(ValidationError, match="10MB"):
        actions.import_adoption(schedule.policy, user("soumu"), big)


def test_an_xlsx_import(schedule, user):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["code", "status", "target_fiscal_year"])
    sheet.append([11002, "migrating", None])  # Excel dropped the leading zero
    sheet.append(["131016", "planned", 2028])
    buffer = io.BytesIO()
    book.save(buffer)
    upload = SimpleUploadedFile("adoption.xlsx", buffer.getvalue())
    assert actions.import_adoption(schedule.policy, user("soumu"), upload).changed == 2
    assert Adoption.objects.get(policy=schedule.policy, organization__code="011002").status == "migrating"


def test_only_the_owning_ministry_imports(schedule, user):
    for username in ("mhlw", "secretariat", "sapporo"):
        with pytest.raises(PermissionDenied):
            actions.import_adoption(schedule.policy, user(username), csv_upload("code,status,target_fiscal_year\n"))


def test_usage_reports(user):
    report = actions.create_usage_report(
        user("secretariat"), system_name="公的個人認証サービス", layer="dpi",
        period_start=date(2026, 4, 1), period_end=date(2026, 6, 30),
        metrics=[{"name": "利用団体数", "value": 1741, "unit": "団体"}, {"name": "稼働率", "value": 99.98, "unit": "%"}],
    )
    assert report.reporter.code == "digital"
    with pytest.raises(ValidationError) as excinfo:
        actions.create_usage_report(user("soumu"), system_name="x", layer="dpi", period_start=date(2026, 7, 1),
                                    period_end=date(2026, 6, 30), metrics=[{"name": "件数", "value": "多い"}])
    assert {"metrics", "period_end"} <= set(excinfo.value.message_dict)
    with pytest.raises(PermissionDenied):
        actions.create_usage_report(user("sapporo"), system_name="x", layer="dpi", period_start=date(2026, 4, 1),
                                    period_end=date(2026, 6, 30), metrics=[{"name": "件数", "value": 1}])


def test_the_measure_request_workflow(schedule, user):
    report = ProgressReport.objects.get(schedule=schedule)
    measure = actions.request_measures(user("secretariat"), policy=schedule.policy, report=report,
                                       request="移行が遅れている団体への支援策を示してください。",
                                       due_date=calendar.today() + timedelta(days=30))
    assert measure.ministry.code == "soumu" and measure.status == "open"
    with pytest.raises(PermissionDenied):
        actions.respond_to_measure(measure, user("mhlw"), response="x")
    with pytest.raises(ValidationError):
        actions.respond_to_measure(measure, user("soumu"), response="  ")
    with pytest.raises(PermissionDenied):
        actions.close_measure(measure, user("soumu"))
    actions.respond_to_measure(measure, user("soumu"), response="移行支援の補助を拡充します。")
    actions.close_measure(measure, user("secretariat"))
    measure.refresh_from_db()
    assert (measure.status, measure.response) == ("closed", "移行支援の補助を拡充します。")
    with pytest.raises(ValidationError):
        actions.request_measures(user("secretariat"), policy=schedule.policy, request="x", due_date=calendar.today())
    with pytest.raises(PermissionDenied):
        actions.request_measures(user("soumu"), policy=schedule.policy, request="x", due_date=calendar.today() + timedelta(days=9))


# --- reminders --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "offset, kind",
    [(-8, None), (-7, "7d"), (-2, "7d"), (-1, "1d"), (0, "1d"), (1, "overdue"), (6, "overdue"), (7, "overdue_7d"), (30, "overdue_7d")],
)
def test_reminder_windows(offset, kind):
    due = date(2026, 12, 1)
    window = reminders.window_for(due, due + timedelta(days=offset))
    assert (window.kind if window else None) == kind


def due_in(schedule, days):
    report = ProgressReport.objects.get(schedule=schedule)
    ProgressReport.objects.filter(pk=report.pk).update(due_date=calendar.today() + timedelta(days=days))
    return report


def test_each_reminder_is_sent_exactly_once_even_when_the_beat_runs_twice(schedule):
    due_in(schedule, 7)
    mail.outbox.clear()
    assert tasks.plan_and_send_reminders() == 1
    assert tasks.plan_and_send_reminders() == 0
    assert [m.subject for m in mail.outbox] == [mail.outbox[0].subject]
    assert mail.outbox[0].subject.startswith("【期限7日前】進捗報告")
    assert mail.outbox[0].to == ["soumu@example.jp"]


def test_seven_days_overdue_goes_to_the_secretariat(schedule):
    due_in(schedule, -7)
    mail.outbox.clear()
    tasks.plan_and_send_reminders()
    assert mail.outbox[0].subject.startswith("【期限超過7日】")
    assert mail.outbox[0].to == ["secretariat@example.jp"]


def test_a_reminder_claimed_by_a_worker_that_died_is_sent_by_the_reconcile(schedule):
    from django.utils import timezone

    due_in(schedule, 1)
    reminders.plan_reminders()
    reminder = Reminder.objects.get()
    # A worker claimed it, then died before sending.
    Reminder.objects.filter(pk=reminder.pk).update(claimed_at=timezone.now())
    mail.outbox.clear()
    assert tasks.reconcile_reminders() == 0  # the claim is still within its lease
    Reminder.objects.filter(pk=reminder.pk).update(claimed_at=timezone.now() - reminders.CLAIM_LEASE - timedelta(seconds=1))
    assert tasks.reconcile_reminders() == 1
    assert len(mail.outbox) == 1
    assert tasks.reconcile_reminders() == 0
    assert Reminder.objects.get().attempts == 1


def test_reminders_cover_studies_and_measure_requests_too(consented_policy, user):
    from candidates.models import FeasibilityStudy

    policy = consented_policy()
    actions.request_measures(user("secretariat"), policy=policy, request="対応を", due_date=calendar.today() + timedelta(days=5))
    MeasureRequest.objects.update(due_date=calendar.today() + timedelta(days=1))
    # Reopen the policy's (accepted) study as if it were still being written, due in 7 days.
    FeasibilityStudy.objects.update(status="assigned", due_date=calendar.today() + timedelta(days=7))
    reminders.plan_reminders()
    assert set(Reminder.objects.values_list("subject_type", "kind")) == {("measure", "1d"), ("study", "7d")}
