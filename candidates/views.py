"""The pages of stage 1 (candidate selection) and stage 2 (the feasibility study).

Thin views: every page starts from `visible_to(request.user)` (outside it: 404), asks the
model's `may_*` methods what to offer, and writes only through candidates.actions. A refused
action is a 403 page, a move the workflow does not allow is 409, and an action's
ValidationError goes back on the form next to the field it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from candidates import actions
from candidates.charts import criteria_panels
from candidates.filters import CandidateFilter, StudyFilter
from candidates.forms import (
    AssessmentForm,
    AssignStudyForm,
    CandidateForm,
    CandidateTransitionForm,
    StudyForm,
    TransitionForm,
    WeightsForm,
    add_action_errors,
)
from candidates.models import (
    AssessmentEvidence,
    Candidate,
    CandidateStatus,
    CriteriaWeights,
    Criterion,
    FeasibilityStudy,
    ScoreSummary,
    StudyAttachment,
    StudyStatus,
    Viewpoint,
)
from council.models import Attachment
from council.transitions import perform_move
from council.workflow import TransitionNotAllowed, WorkflowModel
from tenants.access import access_for

PAGE_SIZE = 50

# What the button for each move says, in the order the buttons appear.
MOVE_LABELS = {
    CandidateStatus.UNDER_REVIEW: gettext_lazy("審議を開始する"),
    CandidateStatus.SELECTED: gettext_lazy("選定する"),
    CandidateStatus.NOT_SELECTED: gettext_lazy("選定しない"),
    CandidateStatus.WITHDRAWN: gettext_lazy("取り下げる"),
    StudyStatus.SUBMITTED: gettext_lazy("提出する"),
    StudyStatus.ACCEPTED: gettext_lazy("受理する"),
    StudyStatus.RETURNED: gettext_lazy("差し戻す"),
}
# Moves that undo or refuse something get the danger style.
DANGER_MOVES = frozenset({CandidateStatus.WITHDRAWN, CandidateStatus.NOT_SELECTED, StudyStatus.RETURNED})

CANDIDATE_FIELD_LABELS = {f.name: str(f.verbose_name) for f in Candidate._meta.fields}
STUDY_FIELD_LABELS = {f.name: str(f.verbose_name) for f in FeasibilityStudy._meta.fields}


@dataclass(frozen=True)
class Move:
    to: str
    label: str
    danger: bool


def _moves(obj: WorkflowModel, user) -> list[Move]:
    """The moves `user` may try on `obj` from its current status, as buttons."""
    allowed = obj.allowed_targets()
    return [
        Move(to=str(to), label=str(label), danger=to in DANGER_MOVES)
        for to, label in MOVE_LABELS.items()
        if to in allowed and obj.may_transition(user, to)
    ]


def _page(request: HttpRequest, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    page.elided_range = list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    return page


def _sort_links(request: HttpRequest, columns: dict[str, str]) -> dict[str, dict]:
    """For each sortable column (ordering param → its first direction), the link that sorts
    by it (toggling when it is already the sort) and its aria-sort state."""
    current = request.GET.get("ordering", "")
    links = {}
    for param, first in columns.items():
        if current == param:
            state, target = "ascending", f"-{param}"
        elif current == f"-{param}":
            state, target = "descending", param
        else:
            state, target = None, first
        query = request.GET.copy()
        query["ordering"] = target
        query.pop("page", None)
        links[param] = {"url": f"?{query.urlencode()}", "state": state}
    return links


# --- Candidates ---------------------------------------------------------------------------


def _visible_candidates(user):
    return Candidate.objects.visible_to(user)


@login_required
@require_GET
def candidate_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        _visible_candidates(request.user)
        .with_scores()
        .select_related("owning_ministry")
        # Explicit: a GROUP BY query ignores Meta.ordering.
        .order_by("-created_at", "-pk")
    )
    filterset = CandidateFilter(request.GET or None, queryset=queryset)
    filterset.form.fields["score"].widget.attrs.update({"step": "0.1", "min": "1", "max": "5"})
    page = _page(request, filterset.qs)
    return render(
        request,
        "candidates/candidate_list.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "candidates": page.object_list,
            "sort": _sort_links(request, {"title": "title", "weighted_total": "-weighted_total", "created": "-created"}),
            "is_filtered": any(v for k, v in request.GET.items() if k not in ("page", "ordering")),
            "may_propose": access_for(request.user).is_secretariat,
        },
    )


def _candidate_detail(
    request: HttpRequest,
    candidate: Candidate,
    *,
    transition_form: CandidateTransitionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    assessments = list(
        candidate.assessments.select_related("assessor", "organization").prefetch_related("evidence")
    )
    for assessment in assessments:
        assessment.score_items = [(Criterion(c).label, score) for c, score in assessment.scores().items()]
        assessment.viewpoint_labels = [Viewpoint(v).label for v in assessment.viewpoints]
    weights = CriteriaWeights.current()
    summary = ScoreSummary(assessments, weights)
    study = (
        FeasibilityStudy.objects.visible_to(user).filter(candidate=candidate).select_related("ministry").first()
    )
    may_assign = (
        candidate.may_assign_study(user)
        and candidate.status == CandidateStatus.SELECTED
        and study is None
        and not FeasibilityStudy.objects.filter(candidate=candidate).exists()
    )
    moves = _moves(candidate, user)
    return render(
        request,
        "candidates/candidate_detail.html",
        {
            "candidate": candidate,
            "business_areas": list(candidate.business_areas.all()),
            "assessments": assessments,
            "own_assessment": next((a for a in assessments if a.assessor_id == user.pk), None),
            "summary": summary,
            "panels": criteria_panels(summary),
            "weights": weights,
            "history": list(candidate.history()),
            "study": study,
            "study_details": study is not None and study.may_see_details(user),
            "may_edit": candidate.may_edit(user),
            "may_assess": candidate.may_assess(user),
            "may_assign_study": may_assign,
            "may_set_weights": access_for(user).is_secretariat,
            "moves": moves,
            "decides": any(m.to in (CandidateStatus.SELECTED, CandidateStatus.NOT_SELECTED) for m in moves),
            "transition_form": transition_form or CandidateTransitionForm(candidate=candidate),
        },
        status=status,
    )


@login_required
@require_GET
def candidate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = get_object_or_404(
        _visible_candidates(request.user).select_related("owning_ministry", "proposed_by", "created_by"), pk=pk
    )
    return _candidate_detail(request, candidate)


def _default_proposer(user) -> int | None:
    ids = sorted(access_for(user).organization_ids())
    return ids[0] if ids else None


@login_required
@require_http_methods(["GET", "POST"])
def candidate_create(request: HttpRequest) -> HttpResponse:
    if not access_for(request.user).is_secretariat:
        raise PermissionDenied(_("対象候補を登録できるのは事務局です。"))
    posted = request.method == "POST"
    form = CandidateForm(request.POST if posted else None, initial={"proposed_by": _default_proposer(request.user)})
    if posted and form.is_valid():
        try:
            candidate = actions.propose_candidate(request.user, **form.changes())
        except ValidationError as exc:
            add_action_errors(form, exc, CANDIDATE_FIELD_LABELS)
        else:
            messages.success(request, _("対象候補「%(title)s」を登録しました。") % {"title": candidate.title})
            return redirect(candidate)
    return render(request, "candidates/candidate_form.html", {"form": form, "candidate": None})


@login_required
@require_http_methods(["GET", "POST"])
def candidate_edit(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = get_object_or_404(_visible_candidates(request.user), pk=pk)
    if not candidate.may_edit(request.user):
        raise PermissionDenied(_("この対象候補は変更できません。"))
    posted = request.method == "POST"
    form = CandidateForm(request.POST if posted else None, instance=candidate)
    if posted and form.is_valid():
        try:
            candidate = actions.update_candidate(candidate, request.user, form.changes())
        except ValidationError as exc:
            add_action_errors(form, exc, CANDIDATE_FIELD_LABELS)
        else:
            messages.success(request, _("対象候補「%(title)s」を更新しました。") % {"title": candidate.title})
            return redirect(candidate)
    # Validating the form wrote the typed values onto `candidate`; show the stored title.
    stored = Candidate.objects.only("title").get(pk=pk) if posted else candidate
    return render(request, "candidates/candidate_form.html", {"form": form, "candidate": stored})


@login_required
@require_http_methods(["GET", "POST"])
def candidate_assess(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = get_object_or_404(_visible_candidates(request.user).select_related("owning_ministry"), pk=pk)
    if not candidate.may_assess(request.user):
        raise PermissionDenied(_("この対象候補を評価する権限がないか、評価の受付が終了しています。"))
    existing = candidate.assessments.filter(assessor=request.user).prefetch_related("evidence").first()
    posted = request.method == "POST"
    form = AssessmentForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        initial=AssessmentForm.initial_from(existing),
    )
    if posted and form.is_valid():
        data = dict(form.cleaned_data)
        evidence = data.pop("evidence")
        try:
            actions.assess(candidate, request.user, evidence=evidence, **data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            if existing is None:
                messages.success(request, _("評価を登録しました。"))
            else:
                messages.success(request, _("評価を修正しました。"))
            return redirect(f"{candidate.get_absolute_url()}#assessments")
    return render(
        request,
        "candidates/assessment_form.html",
        {"form": form, "candidate": candidate, "existing": existing},
    )


@login_required
@require_POST
def candidate_transition(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = get_object_or_404(
        _visible_candidates(request.user).select_related("owning_ministry", "proposed_by", "created_by"), pk=pk
    )
    form = CandidateTransitionForm(request.POST, candidate=candidate)
    refused = perform_move(
        request, form,
        lambda data: actions.decide(candidate, request.user, data["to"], track=data["track"], comment=data["comment"]),
        partial(_candidate_detail, request, candidate), labels=CANDIDATE_FIELD_LABELS,
    )
    if refused is not None:
        return refused
    messages.success(
        request,
        _("対象候補「%(title)s」を「%(status)s」にしました。")
        % {"title": candidate.title, "status": candidate.get_status_display()},
    )
    return redirect(candidate)


@login_required
@require_http_methods(["GET", "POST"])
def weights(request: HttpRequest) -> HttpResponse:
    if not access_for(request.user).is_secretariat:
        raise PermissionDenied(_("評価基準の重みを設定できるのは事務局です。"))
    current = CriteriaWeights.current()
    posted = request.method == "POST"
    form = WeightsForm(request.POST if posted else None, instance=current)
    if posted and form.is_valid():
        try:
            actions.set_weights(request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, _("評価基準の重みを更新しました。加重合計は新しい重みで計算されます。"))
            return redirect("candidates:weights")
    stored = CriteriaWeights.objects.select_related("updated_by").order_by("pk").first()
    return render(request, "candidates/weights_form.html", {"form": form, "stored": stored})


@login_required
@require_http_methods(["GET", "POST"])
def assign_study(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = get_object_or_404(_visible_candidates(request.user).select_related("owning_ministry"), pk=pk)
    if not candidate.may_assign_study(request.user):
        raise PermissionDenied(_("実現可能性調査を依頼できるのは事務局です。"))
    existing = FeasibilityStudy.objects.filter(candidate=candidate).first()
    posted = request.method == "POST"
    form = AssignStudyForm(request.POST if posted else None)
    if posted and form.is_valid():
        requested = form.cleaned_data["due_date"]
        try:
            study, moved = actions.assign_study(candidate, request.user, due_date=requested)
        except ValidationError as exc:
            add_action_errors(form, exc, {"candidate": str(FeasibilityStudy._meta.get_field("candidate").verbose_name)})
        else:
            fmt = _("Y年n月j日")
            text = _("%(ministry)sに実現可能性調査を依頼しました。提出期限は%(due)sです。") % {
                "ministry": study.ministry.label,
                "due": date_format(study.due_date, fmt),
            }
            if moved:
                text += _("（指定された%(requested)sは行政機関の休日のため、翌開庁日に変更しました。）") % {
                    "requested": date_format(requested, fmt)
                }
            messages.success(request, text)
            return redirect(study)
    return render(
        request,
        "candidates/assign_study_form.html",
        {"form": form, "candidate": candidate, "existing": existing},
    )


@login_required
@require_GET
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_object_or_404(
        AssessmentEvidence.objects.filter(assessment__candidate__in=_visible_candidates(request.user)), pk=pk
    )
    return _file_response(evidence)


# --- Feasibility studies --------------------------------------------------------------------


def _visible_studies(user):
    return FeasibilityStudy.objects.visible_to(user)


@login_required
@require_GET
def study_list(request: HttpRequest) -> HttpResponse:
    queryset = _visible_studies(request.user).with_overdue().select_related("candidate", "ministry")
    filterset = StudyFilter(request.GET or None, queryset=queryset)
    filterset.form.fields["overdue"].widget.choices = [
        ("unknown", _("すべて")),
        ("true", _("期限を過ぎたもののみ")),
        ("false", _("期限内のもののみ")),
    ]
    page = _page(request, filterset.qs)
    return render(
        request,
        "candidates/study_list.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "studies": page.object_list,
            "is_filtered": any(v for k, v in request.GET.items() if k != "page" and v != "unknown"),
        },
    )


def _study_detail(
    request: HttpRequest,
    study: FeasibilityStudy,
    *,
    transition_form: TransitionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    details = study.may_see_details(user)
    return render(
        request,
        "candidates/study_detail.html",
        {
            "study": study,
            "candidate": study.candidate,
            "details": details,
            "attachments": list(study.attachments.select_related("uploaded_by")) if details else [],
            "history": list(study.history()) if details else [],
            "may_edit": study.may_edit(user),
            "moves": _moves(study, user),
            "transition_form": transition_form or TransitionForm(),
        },
        status=status,
    )


def _get_study(request: HttpRequest, pk: int) -> FeasibilityStudy:
    return get_object_or_404(
        _visible_studies(request.user).select_related("candidate", "ministry", "assigned_by"), pk=pk
    )


@login_required
@require_GET
def study_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _study_detail(request, _get_study(request, pk))


@login_required
@require_POST
def study_transition(request: HttpRequest, pk: int) -> HttpResponse:
    study = _get_study(request, pk)
    refused = perform_move(
        request, TransitionForm(request.POST),
        lambda data: actions.move_study(study, request.user, data["to"], comment=data["comment"]),
        partial(_study_detail, request, study), labels=STUDY_FIELD_LABELS,
    )
    if refused is not None:
        return refused
    messages.success(request, _("実現可能性調査を「%(status)s」にしました。") % {"status": study.get_status_display()})
    return redirect(study)


@login_required
@require_http_methods(["GET", "POST"])
def study_edit(request: HttpRequest, pk: int) -> HttpResponse:
    study = _get_study(request, pk)
    if not study.may_edit(request.user):
        raise PermissionDenied(_("この実現可能性調査は変更できません。"))
    posted = request.method == "POST"
    form = StudyForm(request.POST if posted else None, request.FILES if posted else None, instance=study)
    status = 200
    if posted and form.is_valid():
        submitting = request.POST.get("intent") == "submit"
        try:
            study = actions.save_study(study, request.user, form.changes(), form.cleaned_data["attachments"])
        except ValidationError as exc:
            add_action_errors(form, exc, STUDY_FIELD_LABELS)
        else:
            if not submitting:
                messages.success(request, _("下書きを保存しました。"))
                return redirect("candidates:study-edit", pk=study.pk)
            try:
                actions.move_study(study, request.user, StudyStatus.SUBMITTED)
            except ValidationError as exc:
                add_action_errors(form, exc, STUDY_FIELD_LABELS)
                messages.warning(request, _("下書きを保存しました。提出するには、表示された項目を入力してください。"))
            except TransitionNotAllowed as exc:
                messages.error(request, exc.reason)
                status = 409
            else:
                messages.success(request, _("実現可能性調査を提出しました。"))
                return redirect(study)
    return render(
        request,
        "candidates/study_form.html",
        {
            "form": form,
            "study": study,
            "candidate": study.candidate,
            "attachments": list(study.attachments.all()),
            "may_submit": study.may_transition(request.user, StudyStatus.SUBMITTED),
        },
        status=status,
    )


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(
        StudyAttachment.objects.select_related("study").filter(study__in=_visible_studies(request.user)), pk=pk
    )
    # Attachments are details: whoever sees only a study's conclusion does not see them.
    if not attachment.study.may_see_details(request.user):
        raise Http404
    return _file_response(attachment)


# --- Files ---------------------------------------------------------------------------------------


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the real (UTF-8) name in filename*."""
    fallback = "".join(c for c in filename if 32 <= ord(c) < 127 and c not in '"\\;')
    stem, dot, extension = fallback.rpartition(".")
    if not (stem if dot else fallback).strip(" ._-"):
        fallback = f"download.{extension}" if dot and extension else "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _file_response(attachment: Attachment) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition(attachment.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response

