"""The pages of stage 4: progress reports, reporting schedules, KPI trends, adoption by the
local governments, usage reports of national systems, and measure requests.

Thin views, as in candidates.views: every page starts from `visible_to(request.user)`
(outside it: 404), asks the models' `may_*` methods what to offer, and writes only through
progress.actions. A refused action is a 403 page, a conflict with the current state is 409
with a message, and an action's ValidationError goes back on the form next to the field
(or the table row) it names; nothing is saved then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from candidates.forms import add_action_errors
from candidates.views import content_disposition
from council import calendar
from council.japanmap import render_map
from council.models import Attachment
from council.transitions import perform_move
from council.workflow import Conflict, TransitionNotAllowed
from policies.models import Policy, PolicyStatus
from progress import actions, tally
from progress.charts import adoption_bar, kpi_charts
from progress.forms import (
    AdoptionFilterForm,
    AdoptionForm,
    AdoptionImportForm,
    KpiFormSet,
    MeasureFilter,
    MeasureRequestForm,
    MeasureTransitionForm,
    MetricFormSet,
    MilestoneFormSet,
    ReportFilter,
    ReportForm,
    ReportTransitionForm,
    RowFormSet,
    ScheduleForm,
    UsageFilter,
    UsageReportForm,
    row_initial,
)
from progress.pdf import current_pdf, latest_request
from progress.models import (
    Adoption,
    AdoptionStatus,
    AdoptionTally,
    Frequency,
    MeasureRequest,
    MeasureStatus,
    MilestoneStatus,
    ProgressReport,
    ReportAttachment,
    ReportingSchedule,
    ReportStatus,
    UsageLayer,
    UsageReport,
)
from progress.periods import Period
from tenants.access import access_for, is_council_member
from tenants.models import Organization, OrganizationKind, Role

PAGE_SIZE = 50
# The largest prefecture (北海道) has 179 municipalities: one page shows any prefecture whole.
ADOPTION_PAGE_SIZE = 200

REPORT_MOVES = {
    ReportStatus.SUBMITTED: gettext_lazy("提出する"),
    ReportStatus.ACCEPTED: gettext_lazy("受理する"),
    ReportStatus.RETURNED: gettext_lazy("差し戻す"),
}
DANGER_MOVES = frozenset({ReportStatus.RETURNED})

REPORT_FIELD_LABELS = {f.name: str(f.verbose_name) for f in ProgressReport._meta.fields}
USAGE_FIELD_LABELS = {f.name: str(f.verbose_name) for f in UsageReport._meta.fields}
MEASURE_FIELD_LABELS = {f.name: str(f.verbose_name) for f in MeasureRequest._meta.fields}
ADOPTION_FIELD_LABELS = {f.name: str(f.verbose_name) for f in Adoption._meta.fields}
POLICY_LABEL = {"policy": str(Policy._meta.verbose_name)}


@dataclass(frozen=True)
class Move:
    to: str
    label: str
    danger: bool


def _report_moves(report: ProgressReport, user) -> list[Move]:
    allowed = report.allowed_targets()
    return [
        Move(to=str(to), label=str(label), danger=to in DANGER_MOVES)
        for to, label in REPORT_MOVES.items()
        if to in allowed and report.may_transition(user, to)
    ]


def _page(request: HttpRequest, queryset, size: int = PAGE_SIZE):
    page = Paginator(queryset, size).get_page(request.GET.get("page"))
    page.elided_range = list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    return page


def _is_filtered(request: HttpRequest) -> bool:
    return any(v and v != "unknown" for k, v in request.GET.items() if k != "page")


def _file_response(attachment: Attachment) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition(attachment.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _visible_policy(request: HttpRequest, pk: int) -> Policy:
    return get_object_or_404(Policy.objects.visible_to(request.user).select_related("ministry"), pk=pk)


# --- Row tables: errors of the milestones, KPIs and metrics -----------------------------------------


def _split_errors(exc: ValidationError, form, tables: dict[str, RowFormSet], labels: dict[str, str]) -> None:
    """An action's ValidationError onto the page: a table's errors above that table, the rest
    next to the form's fields (or at the top of the form)."""
    if not hasattr(exc, "error_dict"):
        add_action_errors(form, exc, labels)
        return
    rest = {}
    for name, errors in exc.error_dict.items():
        if name in tables:
            tables[name].add_error([message for error in errors for message in error.messages])
        else:
            rest[name] = errors
    if rest:
        add_action_errors(form, ValidationError(rest), labels)


def _row_errors(title: str, formset: RowFormSet) -> list[dict]:
    """The error summary's entries for one table: each wrong cell, linked to its input."""
    entries = []
    if formset.non_form_errors():
        entries.append({"href": f"#{formset.prefix}-table", "label": title, "errors": list(formset.non_form_errors())})
    for number, form in enumerate(formset.forms, start=1):
        for field in form:
            if field.errors:
                entries.append({
                    "href": f"#{field.auto_id}",
                    "label": _("%(table)s %(n)s行目の%(field)s") % {"table": title, "n": number, "field": field.label},
                    "errors": list(field.errors),
                })
    return entries


# --- Progress reports ---------------------------------------------------------------------------


def _visible_reports(user):
    return ProgressReport.objects.visible_to(user)


def _get_report(request: HttpRequest, pk: int) -> ProgressReport:
    return get_object_or_404(_visible_reports(request.user).select_related("policy__ministry", "schedule"), pk=pk)


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        _visible_reports(request.user)
        .with_overdue()
        .select_related("policy__ministry", "schedule")
        .order_by("-period_start", "policy__title", "pk")
    )
    filterset = ReportFilter(request.GET or None, queryset=queryset, user=request.user)
    page = _page(request, filterset.qs)
    return render(
        request,
        "progress/report_list.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "reports": page.object_list,
            "is_filtered": _is_filtered(request),
            "is_secretariat": access_for(request.user).is_secretariat,
        },
    )


def _milestone_rows(report: ProgressReport) -> list[dict]:
    labels = dict(MilestoneStatus.choices)
    return [{**m, "status_label": labels.get(m.get("status"), m.get("status"))} for m in report.milestones]


def _kpi_rows(report: ProgressReport) -> list[dict]:
    rows = []
    for kpi in report.kpis:
        target, actual = kpi.get("target"), kpi.get("actual")
        attainment = round(actual / target * 100, 1) if actual is not None and target else None
        rows.append({**kpi, "attainment": attainment, "bar": min(attainment, 100) if attainment is not None else None})
    return rows


def _return_note(report: ProgressReport):
    """The secretariat's comment when it returned the report (what the ministry must fix)."""
    if report.status != ReportStatus.RETURNED:
        return None
    return report.history().filter(to_status=ReportStatus.RETURNED).order_by("-at", "-pk").first()


def _report_detail(
    request: HttpRequest,
    report: ProgressReport,
    *,
    transition_form: ReportTransitionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    access = access_for(user)
    moves = _report_moves(report, user)
    transition_form = transition_form or ReportTransitionForm()
    if not any(m.to == ReportStatus.RETURNED for m in moves):
        transition_form.fields["comment"].label = _("コメント")  # the reason is only asked of a return
    return render(
        request,
        "progress/report_detail.html",
        {
            "report": report,
            "policy": report.policy,
            "milestones": _milestone_rows(report),
            "overall": report.overall_progress,
            "kpis": _kpi_rows(report),
            "attachments": list(report.attachments.select_related("uploaded_by")),
            "history": list(report.history()),
            "return_note": _return_note(report),
            "may_edit": report.may_edit(user),
            "moves": moves,
            "transition_form": transition_form,
            "may_request_measures": access.is_secretariat,
            "measures": list(MeasureRequest.objects.visible_to(user).filter(report=report).select_related("ministry")),
            "pdf_current": current_pdf(report),
            "pdf_latest": latest_request(report),
        },
        status=status,
    )


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_detail(request, _get_report(request, pk))


@login_required
@require_POST
def report_transition(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get_report(request, pk)
    refused = perform_move(
        request, ReportTransitionForm(request.POST),
        lambda data: actions.move_report(report, request.user, data["to"], comment=data["comment"]),
        partial(_report_detail, request, report), labels=REPORT_FIELD_LABELS,
    )
    if refused is not None:
        return refused
    messages.success(request, _("進捗報告を「%(status)s」にしました。") % {"status": report.get_status_display()})
    return redirect(report)


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get_report(request, pk)
    if not report.may_edit(request.user):
        raise PermissionDenied(_("この進捗報告は変更できません。"))
    posted = request.method == "POST"
    data, files = (request.POST, request.FILES) if posted else (None, None)
    form = ReportForm(data, files, initial={"summary": report.summary, "risks": report.risks})
    milestones = MilestoneFormSet(
        data, prefix="milestones", initial=row_initial(report.milestones, ("name", "status", "percent", "weight"))
    )
    kpis = KpiFormSet(data, prefix="kpis", initial=row_initial(report.kpis, ("name", "target", "actual", "unit")))
    tables = {"milestones": milestones, "kpis": kpis}
    status = 200
    # Every part is validated (no short-circuit), so all the errors show at once.
    if posted and all([form.is_valid(), milestones.is_valid(), kpis.is_valid()]):
        submitting = request.POST.get("intent") == "submit"
        changes = {
            "summary": form.cleaned_data["summary"],
            "risks": form.cleaned_data["risks"],
            "milestones": milestones.rows(),
            "kpis": kpis.rows(),
        }
        try:
            report = actions.save_report(report, request.user, changes, form.cleaned_data["attachments"])
        except ValidationError as exc:
            _split_errors(exc, form, tables, REPORT_FIELD_LABELS)
        else:
            if not submitting:
                messages.success(request, _("下書きを保存しました。"))
                return redirect("progress:report-edit", pk=report.pk)
            try:
                actions.move_report(report, request.user, ReportStatus.SUBMITTED)
            except ValidationError as exc:
                _split_errors(exc, form, tables, REPORT_FIELD_LABELS)
                messages.warning(request, _("下書きを保存しました。提出するには、表示された項目を入力してください。"))
            except Conflict as exc:
                messages.error(request, str(exc))
                status = 409
            else:
                messages.success(request, _("進捗報告を提出しました。"))
                return redirect(report)
    row_errors = _row_errors(_("マイルストーン"), milestones) + _row_errors(_("KPI"), kpis)
    return render(
        request,
        "progress/report_form.html",
        {
            "form": form,
            "milestones": milestones,
            "kpis": kpis,
            "row_errors": row_errors,
            "report": report,
            "policy": report.policy,
            "attachments": list(report.attachments.all()),
            "may_submit": report.may_transition(request.user, ReportStatus.SUBMITTED),
            "return_note": _return_note(report),
        },
        status=status,
    )


@login_required
@require_GET
def report_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(
        ReportAttachment.objects.filter(report__in=_visible_reports(request.user)), pk=pk
    )
    return _file_response(attachment)


# --- Schedules ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def schedule_new(request: HttpRequest, policy_pk: int) -> HttpResponse:
    policy = _visible_policy(request, policy_pk)
    if not access_for(request.user).is_secretariat:
        raise PermissionDenied(_("報告スケジュールを設定できるのは事務局です。"))
    existing = ReportingSchedule.objects.filter(policy=policy).first()
    posted = request.method == "POST"
    form = ScheduleForm(request.POST if posted else None)
    status = 200
    if posted and form.is_valid():
        try:
            schedule = actions.set_schedule(policy, request.user, **form.cleaned_data)
        except Conflict as exc:
            messages.error(request, str(exc))
            existing = ReportingSchedule.objects.filter(policy=policy).first()
            status = 409
        except ValidationError as exc:
            add_action_errors(form, exc, POLICY_LABEL)
        else:
            report = schedule.reports.order_by("-period_start").first()
            messages.success(
                request,
                _("報告スケジュールを設定しました。%(period)sの進捗報告（提出期限：%(due)s）と、全団体の導入状況の欄を作成しました。")
                % {"period": report.period_label, "due": date_format(report.due_date, _("Y年n月j日"))},
            )
            return redirect(f"{reverse('progress:report-list')}?{urlencode({'policy': policy.pk})}")
    today = calendar.today()
    current = [(label, Period.containing(today, value).label) for value, label in Frequency.choices]
    return render(
        request,
        "progress/schedule_form.html",
        {"form": form, "policy": policy, "existing": existing, "current_periods": current},
        status=status,
    )


# --- KPI trends ------------------------------------------------------------------------------------


@login_required
@require_GET
def kpi_trend(request: HttpRequest, policy_pk: int) -> HttpResponse:
    policy = _visible_policy(request, policy_pk)
    # Drafts (due, returned) are not figures yet: the trend shows what was submitted.
    reports = list(
        _visible_reports(request.user)
        .filter(policy=policy, status__in=(ReportStatus.SUBMITTED, ReportStatus.ACCEPTED))
        .select_related("schedule")
        .order_by("period_start")
    )
    return render(
        request,
        "progress/kpi_trend.html",
        {
            "policy": policy,
            "charts": kpi_charts(reports),
            "reports": reports,
            "has_schedule": ReportingSchedule.objects.filter(policy=policy).exists(),
            "has_unaccepted": any(r.status != ReportStatus.ACCEPTED for r in reports),
        },
    )


# --- Adoption -------------------------------------------------------------------------------------


def _adoption_policies(user) -> list[Policy]:
    has_rows = Exists(Adoption.objects.filter(policy=OuterRef("pk")))
    return list(
        Policy.objects.visible_to(user).filter(has_rows, status=PolicyStatus.CONSENTED).select_related("ministry").order_by("title")
    )


def _choose(policies: list[Policy], value: str | None) -> Policy | None:
    if not value:
        return policies[0] if policies else None
    try:
        wanted = int(value)
    except ValueError:
        raise Http404 from None
    for policy in policies:
        if policy.pk == wanted:
            return policy
    raise Http404


def _counts_by_prefecture(policy: Policy) -> dict[int, dict[str, int]]:
    """{prefecture id: {status: count}} over the prefecture itself and its municipalities,
    from the adoption tally (exact: kept by triggers with the rows)."""
    counts: dict[int, dict[str, int]] = {}
    rows = AdoptionTally.objects.filter(policy_id=policy.pk, n__gt=0).exclude(prefecture_id=tally.NATIONAL)
    for prefecture, status, n in rows.values_list(
        "prefecture_id", "status", "n"
    ):
        counts.setdefault(prefecture, {})[status] = n
    return counts


def _rate_map(prefectures: list[dict], national_url: str):
    """The prefectures coloured by their rate of use, each linking to its drill-down. The scale
    ends at the next 10% above the highest rate, so early adoption still shows differences."""
    rates = {row["organization"].code: row["rate"] for row in prefectures}
    top = max((r for r in rates.values() if r is not None), default=0)
    return render_map(
        rates,
        title=_("都道府県別の利用率（利用中の団体の割合）"),
        link=lambda code: f"{national_url}&{urlencode({'prefecture': code})}",
        legend_label=_("利用率（%）"),
        scale=(0, max(10, math.ceil(top / 10) * 10)),
    )


def _rate(counts: dict[str, int]) -> float | None:
    total = sum(counts.values())
    return round(counts.get(AdoptionStatus.IN_USE, 0) / total * 100, 1) if total else None


@login_required
@require_GET
def adoption(request: HttpRequest) -> HttpResponse:
    user = request.user
    policies = _adoption_policies(user)
    policy = _choose(policies, request.GET.get("policy"))
    if policy is None:
        return render(request, "progress/adoption.html", {"policies": policies, "policy": None})
    prefecture = None
    if code := request.GET.get("prefecture"):
        prefecture = get_object_or_404(Organization, kind=OrganizationKind.PREFECTURE, code=code)
    filter_form = AdoptionFilterForm(request.GET)
    status_filter = filter_form.cleaned_data["status"] if filter_form.is_valid() else ""

    by_prefecture = _counts_by_prefecture(policy)
    statuses = AdoptionStatus.values
    prefectures = []
    for pref in Organization.objects.filter(kind=OrganizationKind.PREFECTURE).order_by("code"):
        counts = by_prefecture.get(pref.pk, {})
        prefectures.append({
            "organization": pref,
            "counts": [counts.get(s, 0) for s in statuses],
            "total": sum(counts.values()),
            "in_use": counts.get(AdoptionStatus.IN_USE, 0),
            "rate": _rate(counts),
            "shares": [(s, counts.get(s, 0) / sum(counts.values()) * 100 if counts else 0) for s in statuses],
        })
    national = {s: sum(c.get(s, 0) for c in by_prefecture.values()) for s in statuses}
    national_url = f"{reverse('progress:adoption')}?{urlencode({'policy': policy.pk})}"
    scope_counts = by_prefecture.get(prefecture.pk, {}) if prefecture else national
    scope_name = prefecture.label if prefecture else _("全国")

    page = None
    if prefecture or status_filter:
        rows = Adoption.objects.filter(policy=policy).select_related("organization").order_by("organization_code")
        if prefecture:
            rows = rows.filter(Q(organization=prefecture) | Q(organization__parent=prefecture))
        if status_filter:
            rows = rows.filter(status=status_filter)
        page = _page(request, rows, ADOPTION_PAGE_SIZE)
    access = access_for(user)
    return render(
        request,
        "progress/adoption.html",
        {
            "policies": policies,
            "policy": policy,
            "prefecture": prefecture,
            "national_url": national_url,
            "map": None if prefecture else _rate_map(prefectures, national_url),
            "filter_form": filter_form,
            "status_filter": status_filter,
            "status_choices": AdoptionStatus.choices,
            "bar": adoption_bar(scope_counts, scope_name),
            "scope_name": scope_name,
            "scope_total": sum(scope_counts.values()),
            "scope_rate": _rate(scope_counts),
            "prefectures": prefectures,
            "national_counts": [national.get(s, 0) for s in statuses],
            "national_total": sum(national.values()),
            "national_rate": _rate(national),
            "page_obj": page,
            "rows": page.object_list if page else [],
            "edit_all": policy.ministry_id in access.ministry_ids,
            "own_ids": access.local_government_ids,
            "may_import": policy.ministry_id in access.ministry_ids,
            "is_local_official": bool(access.local_government_ids),
        },
    )


@login_required
@require_GET
def adoption_mine(request: HttpRequest) -> HttpResponse:
    own = access_for(request.user).local_government_ids
    if not own:
        raise PermissionDenied(_("自団体の導入状況のページは、地方公共団体の職員のためのものです。"))
    rows = list(
        Adoption.objects.visible_to(request.user)
        .filter(organization_id__in=own, policy__status=PolicyStatus.CONSENTED)
        .select_related("policy__ministry", "organization", "updated_by")
        .order_by("organization__code", "policy__title", "pk")
    )
    organizations = {}
    for row in rows:
        organizations.setdefault(row.organization, []).append(row)
    return render(request, "progress/adoption_mine.html", {"organizations": organizations})


@login_required
@require_http_methods(["GET", "POST"])
def adoption_edit(request: HttpRequest, pk: int) -> HttpResponse:
    adoption_row = get_object_or_404(
        Adoption.objects.visible_to(request.user).select_related("policy__ministry", "organization__parent"), pk=pk
    )
    if not adoption_row.may_change(request.user):
        raise PermissionDenied(_("この団体の導入状況は変更できません。"))
    posted = request.method == "POST"
    form = AdoptionForm(
        request.POST if posted else None,
        initial={"status": adoption_row.status, "target_fiscal_year": adoption_row.target_fiscal_year},
    )
    own = adoption_row.organization_id in access_for(request.user).local_government_ids
    organization = adoption_row.organization
    prefecture = organization if organization.kind == OrganizationKind.PREFECTURE else organization.parent
    back = (
        reverse("progress:adoption-mine")
        if own
        else f"{reverse('progress:adoption')}?{urlencode({'policy': adoption_row.policy_id, 'prefecture': prefecture.code})}"
    )
    if posted and form.is_valid():
        try:
            changed = actions.change_adoption(
                adoption_row, request.user,
                status=form.cleaned_data["status"], target_fiscal_year=form.cleaned_data["target_fiscal_year"],
            )
        except ValidationError as exc:
            add_action_errors(form, exc, ADOPTION_FIELD_LABELS)
        else:
            messages.success(
                request,
                _("%(organization)sの「%(policy)s」の導入状況を「%(status)s」にしました。")
                % {"organization": organization.label, "policy": adoption_row.policy.title, "status": changed.get_status_display()},
            )
            return redirect(back)
    history = list(adoption_row.changes.select_related("changed_by").order_by("-changed_at", "-pk")[:20])
    return render(
        request,
        "progress/adoption_form.html",
        {"form": form, "adoption": adoption_row, "policy": adoption_row.policy, "back": back, "history": history},
    )


@login_required
@require_http_methods(["GET", "POST"])
def adoption_import(request: HttpRequest, policy_pk: int) -> HttpResponse:
    policy = _visible_policy(request, policy_pk)
    if not policy.is_owner(request.user):
        raise PermissionDenied(_("導入状況を一括取込できるのは所管府省庁です。"))
    posted = request.method == "POST"
    form = AdoptionImportForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        try:
            result = actions.import_adoption(policy, request.user, form.cleaned_data["file"])
        except ValidationError as exc:
            add_action_errors(form, exc, POLICY_LABEL)
        else:
            messages.success(
                request,
                _("%(rows)s行を取り込み、%(changed)s団体の導入状況を更新しました（変更のない行は%(same)s行）。")
                % {"rows": result.rows, "changed": result.changed, "same": result.rows - result.changed},
            )
            return redirect(f"{reverse('progress:adoption')}?{urlencode({'policy': policy.pk})}")
    return render(
        request,
        "progress/adoption_import.html",
        {
            "form": form,
            "policy": policy,
            "file_errors": form.errors.get("file", []),
            "status_choices": AdoptionStatus.choices,
        },
    )


# --- Usage reports ---------------------------------------------------------------------------------


def _usage_reporters(user):
    """The organizations the user may report usage for (the action checks it again)."""
    return Organization.objects.filter(pk__in=actions.usage_reporter_ids(user)).order_by("pk")


@login_required
@require_GET
def usage_list(request: HttpRequest) -> HttpResponse:
    queryset = UsageReport.objects.visible_to(request.user).select_related("reporter").order_by("-period_end", "system_name", "pk")
    filterset = UsageFilter(request.GET or None, queryset=queryset)
    page = _page(request, filterset.qs)
    return render(
        request,
        "progress/usage_list.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "usage_reports": page.object_list,
            "is_filtered": _is_filtered(request),
            "may_report": bool(access_for(request.user).organization_ids(Role.MINISTRY_OFFICER, Role.SECRETARIAT_STAFF)),
            "layers": UsageLayer,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def usage_new(request: HttpRequest) -> HttpResponse:
    reporters = _usage_reporters(request.user)
    if not reporters:
        raise PermissionDenied(_("利用状況を報告できるのは府省庁とデジタル庁です。"))
    posted = request.method == "POST"
    data = request.POST if posted else None
    form = UsageReportForm(data, reporters=reporters, initial={"reporter": reporters[0].pk})
    metrics = MetricFormSet(data, prefix="metrics")
    if posted and all([form.is_valid(), metrics.is_valid()]):
        try:
            report = actions.create_usage_report(request.user, metrics=metrics.rows(), **form.changes())
        except ValidationError as exc:
            _split_errors(exc, form, {"metrics": metrics}, USAGE_FIELD_LABELS)
        else:
            messages.success(request, _("「%(name)s」の利用状況を登録しました。") % {"name": report.system_name})
            return redirect("progress:usage-list")
    return render(
        request,
        "progress/usage_form.html",
        {"form": form, "metrics": metrics, "row_errors": _row_errors(_("指標"), metrics)},
    )


# --- Measure requests ----------------------------------------------------------------------------


def _visible_measures(user):
    return MeasureRequest.objects.visible_to(user)


def _council_only(user) -> None:
    if not is_council_member(user):
        raise PermissionDenied(_("措置依頼は、協議会の構成員（事務局・府省庁・地方三団体）が閲覧できます。"))


@login_required
@require_GET
def measure_list(request: HttpRequest) -> HttpResponse:
    _council_only(request.user)
    queryset = (
        _visible_measures(request.user)
        .with_overdue()
        .select_related("policy", "ministry", "report__schedule")
        .order_by("-requested_at", "-pk")
    )
    filterset = MeasureFilter(request.GET or None, queryset=queryset)
    page = _page(request, filterset.qs)
    return render(
        request,
        "progress/measure_list.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "measures": page.object_list,
            "is_filtered": _is_filtered(request),
            "may_request": access_for(request.user).is_secretariat,
        },
    )


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def measure_new(request: HttpRequest) -> HttpResponse:
    if not access_for(request.user).is_secretariat:
        raise PermissionDenied(_("措置を依頼できるのは事務局です。"))
    initial = {}
    if report_pk := _int_param(request, "report"):
        report = get_object_or_404(_visible_reports(request.user), pk=report_pk)
        initial.update(report=report.pk, policy=report.policy_id)
    if policy_pk := _int_param(request, "policy"):
        initial["policy"] = _visible_policy(request, policy_pk).pk
    posted = request.method == "POST"
    form = MeasureRequestForm(request.POST if posted else None, initial=initial)
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            measure = actions.request_measures(
                request.user, policy=data["policy"], request=data["request"], due_date=data["due_date"],
                ministry=data["ministry"], report=data["report"],
            )
        except ValidationError as exc:
            add_action_errors(form, exc, MEASURE_FIELD_LABELS)
        else:
            fmt = _("Y年n月j日")
            text = _("%(ministry)sに措置を依頼しました。回答期限は%(due)sです。") % {
                "ministry": measure.ministry.label, "due": date_format(measure.due_date, fmt),
            }
            if measure.due_date != data["due_date"]:
                text += _("（指定された%(requested)sは行政機関の休日のため、翌開庁日に変更しました。）") % {
                    "requested": date_format(data["due_date"], fmt)
                }
            messages.success(request, text)
            return redirect(measure)
    # The report the request is about, shown as text (it travels in a hidden field).
    report_value = form["report"].value()
    linked = (
        ProgressReport.objects.select_related("policy", "schedule").filter(pk=report_value).first()
        if str(report_value or "").isdigit()
        else None
    )
    return render(request, "progress/measure_form.html", {"form": form, "linked_report": linked})


def _measure_detail(
    request: HttpRequest, measure: MeasureRequest, *, form: MeasureTransitionForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    report_visible = (
        measure.report_id is not None and _visible_reports(user).filter(pk=measure.report_id).exists()
    )
    return render(
        request,
        "progress/measure_detail.html",
        {
            "measure": measure,
            "policy": measure.policy,
            "report_visible": report_visible,
            "history": list(measure.history()),
            "may_respond": measure.may_respond(user),
            "may_close": measure.status == MeasureStatus.RESPONDED and measure.may_transition(user, MeasureStatus.CLOSED),
            "form": form or MeasureTransitionForm(initial={"response": measure.response}),
        },
        status=status,
    )


def _get_measure(request: HttpRequest, pk: int) -> MeasureRequest:
    return get_object_or_404(
        _visible_measures(request.user).select_related("policy__ministry", "ministry", "report__schedule", "requested_by"),
        pk=pk,
    )


@login_required
@require_GET
def measure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _measure_detail(request, _get_measure(request, pk))


@login_required
@require_POST
def measure_transition(request: HttpRequest, pk: int) -> HttpResponse:
    measure = _get_measure(request, pk)
    form = MeasureTransitionForm(request.POST)

    def move(data: dict) -> None:
        if data["to"] == MeasureStatus.RESPONDED:
            actions.respond_to_measure(measure, request.user, response=data["response"])
        elif data["to"] == MeasureStatus.CLOSED:
            actions.close_measure(measure, request.user, comment=data["comment"])
        else:
            raise TransitionNotAllowed(measure, data["to"])

    refused = perform_move(
        request, form, move, partial(_measure_detail, request, measure), labels=MEASURE_FIELD_LABELS, form_arg="form"
    )
    if refused is not None:
        return refused
    measure.refresh_from_db()
    if form.cleaned_data["to"] == MeasureStatus.RESPONDED:
        messages.success(request, _("措置依頼に回答しました。"))
    else:
        messages.success(request, _("措置依頼を完了にしました。"))
    return redirect(measure)
