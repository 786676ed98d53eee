"""Stage 4 writes shared by pages, the API, tasks and commands."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council import calendar
from council.audit import recorder as audit
from council.dashboards import changes as dashboard_changes
from council.uploads import detect_kind, validate_uploads
from council.workflow import Conflict
from policies.models import Policy, PolicyStatus
from progress.models import (
    Adoption,
    AdoptionChange,
    AdoptionStatus,
    Frequency,
    MeasureRequest,
    MeasureStatus,
    ProgressReport,
    ReportAttachment,
    ReportingSchedule,
    UsageReport,
)
from progress.periods import Period, periods_between
from tenants.access import access_for
from tenants.models import LOCAL_GOVERNMENT_KINDS, Organization, OrganizationKind, Role

MAX_IMPORT_BYTES = 10 * 1024 * 1024
IMPORT_COLUMNS = ["code", "status", "target_fiscal_year"]


# --- Schedules and report obligations -------------------------------------------------------------


def set_schedule(policy: Policy, by, *, frequency: str, due_days_after_period: int) -> ReportingSchedule:
    """The secretariat sets a consented policy's reporting schedule; the obligation of the
    current period and the policy's adoption rows are created with it."""
    if not access_for(by).is_secretariat:
        raise PermissionDenied(_("報告スケジュールを設定できるのは事務局です。"))
    with transaction.atomic():
        locked = Policy.objects.select_for_update().get(pk=policy.pk)
        if locked.status != PolicyStatus.CONSENTED:
            raise ValidationError({"policy": _("報告スケジュールは同意済みの方針にのみ設定できます。")})
        if ReportingSchedule.objects.filter(policy=locked).exists():
            raise Conflict(_("この方針には既に報告スケジュールがあります。"))
        if frequency not in Frequency.values:
            raise ValidationError({"frequency": _("報告の頻度は quarterly, semiannual, annual から選んでください。")})
        current = Period.containing(calendar.today(), frequency)
        schedule = ReportingSchedule(
            policy=locked, frequency=frequency, due_days_after_period=due_days_after_period,
            first_fiscal_year=current.fiscal_year, first_period=current.number, created_by=by,
        )
        schedule.full_clean()
        schedule.save()
        ensure_reports(schedule)
        ensure_adoption_rows(locked)
    return schedule


def ensure_reports(schedule: ReportingSchedule, today: date | None = None) -> int:
    """Create the report obligation of every period from the schedule's first to the one
    containing today; safe to run twice (the unique constraint keeps one per period)."""
    today = today or calendar.today()
    current = Period.containing(today, schedule.frequency)
    periods = periods_between(schedule.first, current)
    reports = [
        ProgressReport(
            schedule=schedule, policy_id=schedule.policy_id, fiscal_year=p.fiscal_year, period=p.number,
            period_start=p.start, period_end=p.end, due_date=p.due_date(schedule.due_days_after_period),
        )
        for p in periods
    ]
    before = ProgressReport.objects.filter(schedule=schedule).count()
    ProgressReport.objects.bulk_create(reports, ignore_conflicts=True)
    dashboard_changes.mark(summary=True)  # bulk_create sends no signals
    created = ProgressReport.objects.filter(schedule=schedule).count() - before
    if created:  # bulk_create sends no signals: one audit event for the lot
        audit.record("bulk_create", subject=schedule, details={"model": "progress.progressreport", "created": created})
    return created


def ensure_adoption_rows(policy: Policy) -> int:
    """One adoption row per local government (47 prefectures + 1,741 municipalities)."""
    existing = set(Adoption.objects.filter(policy=policy).values_list("organization_id", flat=True))
    missing = Organization.objects.filter(kind__in=LOCAL_GOVERNMENT_KINDS).exclude(pk__in=existing).values_list("pk", flat=True)
    rows = [Adoption(policy=policy, organization_id=pk) for pk in missing]
    Adoption.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    if rows:
        dashboard_changes.mark(policies=[policy.pk])  # bulk_create sends no signals
        audit.record("bulk_create", subject=policy, details={"model": "progress.adoption", "created": len(rows)})
    return len(rows)


# --- Progress reports ---------------------------------------------------------------------------


def save_report(report: ProgressReport, by, changes: dict[str, Any], attachments: Iterable[UploadedFile] = ()) -> ProgressReport:
    files = list(attachments)
    with transaction.atomic():
        locked = ProgressReport.objects.select_for_update().select_related("policy").get(pk=report.pk)
        if not locked.may_edit(by):
            raise PermissionDenied(_("この進捗報告は変更できません。"))
        content_types = validate_uploads(files, "attachments")
        for name, value in changes.items():
            if name not in ProgressReport.MINISTRY_FIELDS:
                raise ValidationError({name: _("この項目は変更できません。")})
            setattr(locked, name, value)
        locked.full_clean()
        locked.save()
        for upload, content_type in zip(files, content_types, strict=True):
            ReportAttachment.objects.create(
                report=locked, file=upload, original_name=upload.name, content_type=content_type,
                size=upload.size, uploaded_by=by,
            )
    return locked


def move_report(report: ProgressReport, by, to: str, *, comment: str = "") -> ProgressReport:
    return report.transition(to, by=by, comment=comment)


# --- Adoption -------------------------------------------------------------------------------------


def change_adoption(adoption: Adoption, by, *, status: str, target_fiscal_year: int | None = None,
                    source: str = AdoptionChange.Source.WEB) -> Adoption:
    with transaction.atomic():
        locked = Adoption.objects.select_for_update().select_related("policy").get(pk=adoption.pk)
        if not locked.may_change(by):
            raise PermissionDenied(_("この団体の導入状況は変更できません。"))
        previous = locked.status
        locked.status, locked.target_fiscal_year, locked.updated_by = status, target_fiscal_year, by
        locked.full_clean()
        locked.save()
        AdoptionChange.objects.create(
            adoption=locked, from_status=previous, to_status=status, target_fiscal_year=target_fiscal_year,
            changed_by=by, source=source,
        )
    return locked


@dataclass
class ImportResult:
    rows: int
    changed: int


def _read_rows(upload: UploadedFile) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) from a CSV or XLSX upload, the header checked."""
    if upload.size and upload.size > MAX_IMPORT_BYTES:
        raise ValidationError({"file": [_("ファイルは10MB以下にしてください。")]})
    kind = detect_kind(upload)
    name = (upload.name or "").lower()
    if kind == "xlsx" and name.endswith(".xlsx"):
        from openpyxl import load_workbook

        sheet = load_workbook(upload, read_only=True, data_only=True).worksheets[0]
        lines = [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
    elif kind == "csv" and name.endswith(".csv"):
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp932", errors="strict")
        lines = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    else:
        raise ValidationError({"file": [_("CSV または XLSX のファイルを指定してください。")]})
    if not lines or [c.lower() for c in lines[0][:3]] != IMPORT_COLUMNS:
        raise ValidationError({"file": [_("1行目（見出し）は code,status,target_fiscal_year にしてください。")]})
    return [
        (number, dict(zip(IMPORT_COLUMNS, (row + ["", "", ""])[:3], strict=True)))
        for number, row in enumerate(lines[1:], start=2)
        if any(cell for cell in row)
    ]


def import_adoption(policy: Policy, by, upload: UploadedFile) -> ImportResult:
    """The owning ministry's bulk update: every row is checked, and all rows apply or none."""
    if policy.ministry_id not in access_for(by).ministry_ids:
        raise PermissionDenied(_("導入状況を一括取込できるのは所管府省庁です。"))
    if policy.status != PolicyStatus.CONSENTED:
        # Adoption rows exist only for consented policies (set_schedule creates them).
        raise ValidationError({"policy": _("導入状況は同意済みの方針についてのみ取り込めます。")})
    rows = _read_rows(upload)
    codes = dict(Organization.objects.filter(kind__in=LOCAL_GOVERNMENT_KINDS).values_list("code", "pk"))
    errors: list[str] = []
    seen: dict[str, int] = {}
    wanted: dict[int, tuple[str, int | None]] = {}
    for line, row in rows:
        code, status, year_text = row["code"], row["status"], row["target_fiscal_year"]
        if len(code) == 5 and code.isdigit():
            code = "0" + code  # Excel drops the leading zero of Hokkaido–Fukushima codes
        if code not in codes:
            errors.append(_("%(n)s行目：団体コード「%(v)s」の地方公共団体はありません。") % {"n": line, "v": row["code"]})
            continue
        if code in seen:
            errors.append(_("%(n)s行目：団体コード「%(v)s」が%(first)s行目と重複しています。") % {"n": line, "v": code, "first": seen[code]})
            continue
        seen[code] = line
        if status not in AdoptionStatus.values:
            errors.append(_("%(n)s行目：導入状況「%(v)s」は選べません。") % {"n": line, "v": status})
            continue
        year = None
        if year_text:
            if not year_text.isdigit() or not 2000 <= int(year_text) <= 2100:
                errors.append(_("%(n)s行目：導入予定年度「%(v)s」は2000〜2100の年度で入力してください。") % {"n": line, "v": year_text})
                continue
            year = int(year_text)
        if status == AdoptionStatus.PLANNED and year is None:
            errors.append(_("%(n)s行目：導入予定の場合は導入予定年度が必要です。") % {"n": line})
            continue
        if status != AdoptionStatus.PLANNED and year is not None:
            errors.append(_("%(n)s行目：導入予定年度は導入予定の場合のみ入力します。") % {"n": line})
            continue
        wanted[codes[code]] = (status, year)
    if errors:
        raise ValidationError({"file": errors})
    if not rows:
        raise ValidationError({"file": [_("取り込む行がありません。")]})

    now = timezone.now()
    with transaction.atomic():
        ensure_adoption_rows(policy)
        current = {a.organization_id: a for a in Adoption.objects.select_for_update().filter(policy=policy, organization_id__in=wanted)}
        changed, history = [], []
        for organization_id, (status, year) in wanted.items():
            adoption = current[organization_id]
            if (adoption.status, adoption.target_fiscal_year) == (status, year):
                continue
            history.append(AdoptionChange(
                adoption=adoption, from_status=adoption.status, to_status=status, target_fiscal_year=year,
                changed_by=by, changed_at=now, source=AdoptionChange.Source.IMPORT,
            ))
            adoption.status, adoption.target_fiscal_year, adoption.updated_by, adoption.updated_at = status, year, by, now
            changed.append(adoption)
        Adoption.objects.bulk_update(changed, ["status", "target_fiscal_year", "updated_by", "updated_at"], batch_size=500)
        AdoptionChange.objects.bulk_create(history, batch_size=1000)
        if changed:
            dashboard_changes.mark(policies=[policy.pk])  # bulk writes send no signals
        audit.record("import", subject=policy, details={
            "file": upload.name, "rows": len(rows), "changed": len(changed), "unchanged": len(rows) - len(changed),
        })
    return ImportResult(rows=len(rows), changed=len(changed))


# --- Usage reports ---------------------------------------------------------------------------------


def usage_reporter_ids(user) -> set[int]:
    """The organizations a user may report usage for: their ministries, and the secretariat
    bodies (デジタル庁) where they are staff."""
    return {
        s.organization_id for s in access_for(user).seats
        if s.role == Role.MINISTRY_OFFICER or (s.role == Role.SECRETARIAT_STAFF and s.kind == OrganizationKind.SECRETARIAT)
    }


def create_usage_report(by, **fields) -> UsageReport:
    reporters = usage_reporter_ids(by)
    reporter = fields.pop("reporter", None)
    if not reporters:
        raise PermissionDenied(_("利用状況を報告できるのは府省庁とデジタル庁です。"))
    if reporter is None:
        reporter = Organization.objects.get(pk=min(reporters))
    elif reporter.pk not in reporters:
        raise PermissionDenied(_("この団体として報告する権限がありません。"))
    report = UsageReport(reporter=reporter, created_by=by, **fields)
    report.full_clean()
    report.save()
    return report


# --- Measure requests -------------------------------------------------------------------------------


def request_measures(by, *, policy: Policy, request: str, due_date: date, ministry: Organization | None = None,
                     report: ProgressReport | None = None) -> MeasureRequest:
    if not access_for(by).is_secretariat:
        raise PermissionDenied(_("措置を依頼できるのは事務局です。"))
    if due_date is None or due_date <= calendar.today():
        raise ValidationError({"due_date": _("回答期限は明日以降の日付にしてください。")})
    ministry = ministry or policy.ministry
    if ministry.kind != OrganizationKind.MINISTRY:
        raise ValidationError({"ministry": _("依頼先には府省庁を選んでください。")})
    if report is not None and report.policy_id != policy.pk:
        raise ValidationError({"report": _("この方針の進捗報告を指定してください。")})
    measure = MeasureRequest(policy=policy, ministry=ministry, report=report, request=request,
                             due_date=calendar.next_business_day(due_date), requested_by=by)
    measure.full_clean()
    with transaction.atomic():
        measure.save()
        measure.record_creation(by)
    return measure


def respond_to_measure(measure: MeasureRequest, by, *, response: str, comment: str = "") -> MeasureRequest:
    return measure.transition(MeasureStatus.RESPONDED, by=by, comment=comment, response=response)


def close_measure(measure: MeasureRequest, by, *, comment: str = "") -> MeasureRequest:
    return measure.transition(MeasureStatus.CLOSED, by=by, comment=comment)
