"""The pages of stage 3: drafting the 共通化推進方針 and the associations' consent.

Thin views, as in candidates.views: every page starts from `visible_to(request.user)`
(outside it: 404), asks the models what to offer, and writes only through
policies.actions. A refused action is a 403 page; a conflict with the current state (a
frozen version, a closed round, someone else's newer save) is 409 with a message; an
action's ValidationError goes back on the form next to the field it names.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from candidates.forms import add_action_errors
from candidates.models import Candidate, CandidateStatus, StudyStatus
from candidates.views import content_disposition
from council.pdf import pdf_language
from council.transitions import perform_move
from council.workflow import Conflict
from policies import actions, tasks
from policies.diff import diff_bodies
from policies.forms import (
    BallotForm,
    CommentForm,
    ConsentStatusFilter,
    PolicyCreateForm,
    PolicyFilter,
    RoundForm,
    VersionEditor,
    WithdrawForm,
    default_closing_time,
)
from policies.integrity import first_broken_link
from policies.models import (
    Ballot,
    Choice,
    ConsentRecord,
    ConsentRound,
    ConsentVoter,
    CostItem,
    FrozenVersionError,
    Layer,
    Outcome,
    Payer,
    Policy,
    PolicyStatus,
    PolicyVersion,
    RoundStatus,
)
from policies.pdf import current_pdf
from policies.sections import split_sections
from tenants.access import access_for
from tenants.models import Organization, OrganizationKind

POLICY_PAGE_SIZE = 50
CONSENT_PAGE_SIZE = 20
ROUND_FIELD_LABELS = {"policy_version": gettext_lazy("対象の版"), "organization": gettext_lazy("同意権者")}


def _page(request: HttpRequest, queryset, size: int):
    page = Paginator(queryset, size).get_page(request.GET.get("page"))
    page.elided_range = list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    return page


def _is_filtered(request: HttpRequest) -> bool:
    return any(v for k, v in request.GET.items() if k != "page")


def _may_comment(user) -> bool:
    # Whether to offer the form; actions.comment_on_version decides with the same rule.
    return actions.commenting_organization_id(user) is not None


def _visible_policies(user):
    return Policy.objects.visible_to(user)


def _get_policy(request: HttpRequest, pk: int) -> Policy:
    return get_object_or_404(
        _visible_policies(request.user).select_related("ministry", "candidate", "created_by"), pk=pk
    )


def _visible_versions(user, policy: Policy):
    return PolicyVersion.objects.visible_to(user).filter(policy=policy)


def _get_version(request: HttpRequest, policy: Policy, number: int) -> PolicyVersion:
    return get_object_or_404(
        _visible_versions(request.user, policy).select_related("created_by", "submitted_by"), number=number
    )


def _get_round(request: HttpRequest, pk: int) -> ConsentRound:
    return get_object_or_404(
        ConsentRound.objects.visible_to(request.user).select_related(
            "policy", "policy__ministry", "version", "opened_by", "closed_by"
        ),
        pk=pk,
    )


# --- Policies -----------------------------------------------------------------------------------


def _latest_round(field: str) -> Subquery:
    return Subquery(
        ConsentRound.objects.filter(policy=OuterRef("pk")).order_by("-opened_at", "-pk").values(field)[:1]
    )


def _creatable_candidates(user):
    """The user's ministries' selected candidates with an accepted study and no policy yet."""
    ministries = access_for(user).ministry_ids
    if not ministries:
        return Candidate.objects.none()
    return (
        Candidate.objects.visible_to(user)
        .filter(
            owning_ministry_id__in=ministries,
            status=CandidateStatus.SELECTED,
            study__status=StudyStatus.ACCEPTED,
            policy__isnull=True,
        )
        .select_related("owning_ministry")
        .order_by("-decided_on", "-pk")
    )


@login_required
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    latest_version = PolicyVersion.objects.visible_to(user).filter(policy=OuterRef("pk")).order_by("-number")
    queryset = (
        _visible_policies(user)
        .select_related("ministry", "candidate")
        .annotate(
            latest_version_number=Subquery(latest_version.values("number")[:1]),
            latest_version_submitted_at=Subquery(latest_version.values("submitted_at")[:1]),
            latest_round_id=_latest_round("pk"),
            latest_round_status=_latest_round("status"),
            latest_round_outcome=_latest_round("outcome"),
            latest_round_closes_at=_latest_round("closes_at"),
        )
        .order_by("-created_at", "-pk")
    )
    filterset = PolicyFilter(request.GET or None, queryset=queryset)
    page = _page(request, filterset.qs, POLICY_PAGE_SIZE)
    return render(
        request,
        "policies/policy_list.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "policies": page.object_list,
            "is_filtered": _is_filtered(request),
            "creatable": list(_creatable_candidates(user)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_create(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("candidate", "")
    if not raw.isdigit():
        raise Http404
    candidate = get_object_or_404(
        Candidate.objects.visible_to(request.user).select_related("owning_ministry"), pk=int(raw)
    )
    if candidate.owning_ministry_id not in access_for(request.user).ministry_ids:
        raise PermissionDenied(_("共通化推進方針を作成できるのは制度所管府省庁です。"))
    existing = Policy.objects.filter(candidate=candidate).first()
    posted = request.method == "POST"
    form = PolicyCreateForm(
        request.POST if posted else None,
        initial={"title": _("%(title)sに関する共通化推進方針") % {"title": candidate.title.removesuffix("の共通化")}},
    )
    if posted and form.is_valid():
        try:
            policy = actions.create_policy(candidate, request.user, title=form.cleaned_data["title"])
        except ValidationError as exc:
            add_action_errors(form, exc, {"candidate": _("対象候補")})
        else:
            messages.success(
                request,
                _("共通化推進方針「%(title)s」を作成しました。第1版の下書きを記入してください。") % {"title": policy.title},
            )
            return redirect("policies:version-edit", pk=policy.pk, number=1)
    study = getattr(candidate, "study", None)
    return render(
        request,
        "policies/policy_form.html",
        {"form": form, "candidate": candidate, "study": study, "existing": existing},
    )


def _policy_detail(
    request: HttpRequest, policy: Policy, *, withdraw_form: WithdrawForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    access = access_for(user)
    versions = list(_visible_versions(user, policy).order_by("-number"))
    # The numbers the user sees, so "diff with the previous" never points at a hidden draft.
    for newer, older in zip(versions, versions[1:]):
        newer.previous_number = older.number
    for version in versions:
        version.pdf = current_pdf(version) if version.is_frozen else None
    latest = policy.versions.order_by("-number").first()
    latest_submitted = policy.versions.filter(submitted_at__isnull=False).order_by("-number").first()
    rounds = list(ConsentRound.objects.filter(policy=policy).select_related("version").order_by("-opened_at", "-pk"))
    open_round = next((r for r in rounds if r.is_open), None)
    may_draft = policy.may_draft(user)
    return render(
        request,
        "policies/policy_detail.html",
        {
            "policy": policy,
            "versions": versions,
            "rounds": rounds,
            "open_round": open_round,
            "history": list(policy.history()),
            "draft": latest if latest is not None and not latest.is_frozen and may_draft else None,
            "may_new_version": may_draft and latest is not None and latest.is_frozen,
            "may_open_round": (
                access.is_secretariat
                and policy.status == PolicyStatus.DRAFTING
                and latest_submitted is not None
                and open_round is None
            ),
            "may_withdraw": PolicyStatus.WITHDRAWN in policy.allowed_targets()
            and policy.may_transition(user, PolicyStatus.WITHDRAWN),
            "withdraw_form": withdraw_form or WithdrawForm(),
            # Stage 4 starts once the policy is consented: its schedule, reports and adoption.
            "consented": policy.status == PolicyStatus.CONSENTED,
            "schedule": getattr(policy, "schedule", None) if policy.status == PolicyStatus.CONSENTED else None,
            "may_set_schedule": access.is_secretariat and policy.status == PolicyStatus.CONSENTED,
        },
        status=status,
    )


@login_required
@require_GET
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _policy_detail(request, _get_policy(request, pk))


@login_required
@require_POST
def policy_transition(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdrawal; the consent moves happen by opening and closing rounds."""
    policy = _get_policy(request, pk)
    if request.POST.get("to", PolicyStatus.WITHDRAWN) != PolicyStatus.WITHDRAWN:
        messages.error(request, _("同意手続の開始・終了による状態の変更は、同意手続の画面から行います。"))
        return _policy_detail(request, policy, status=409)
    if not policy.may_transition(request.user, PolicyStatus.WITHDRAWN):
        raise PermissionDenied(_("この方針を取り下げる権限がありません。"))
    refused = perform_move(
        request, WithdrawForm(request.POST),
        lambda data: actions.withdraw_policy(policy, request.user, comment=data["comment"]),
        partial(_policy_detail, request, policy), form_arg="withdraw_form",
    )
    if refused is not None:
        return refused
    messages.success(request, _("共通化推進方針「%(title)s」を取り下げました。") % {"title": policy.title})
    return redirect(policy)


# --- Versions -------------------------------------------------------------------------------------------


@dataclass
class SectionView:
    anchor: str
    title: str
    text: str
    comments: list
    form: CommentForm


def _cost_matrix(cost_sharing: list[dict]) -> list[dict]:
    """Items down, layers across; each cell the payer (and the support's last fiscal year)."""
    cells = {(row["layer"], row["item"]): row for row in cost_sharing}
    return [
        {"item": item, "cells": [cells.get((layer, item)) for layer in Layer]}
        for item in CostItem
    ]


def _sections(version: PolicyVersion, comments: list, form: CommentForm | None) -> tuple[list[SectionView], list]:
    """The body's sections with their comments (and the comment form, bound to the one
    that was posted with errors); plus comments on the whole version or on a section the
    body no longer has."""
    by_section: dict[str, list] = defaultdict(list)
    for comment in comments:  # oldest first, as the model orders them
        by_section[comment.section].append(comment)
    sections = []
    for index, section in enumerate(split_sections(version.body), start=1):
        posted_here = form is not None and form.data.get("section", "") == section.title
        sections.append(
            SectionView(
                anchor=f"section-{index}",
                title=section.title,
                text=section.text,
                comments=by_section.pop(section.title, []),
                form=form if posted_here else CommentForm(initial={"section": section.title}, auto_id=f"id_c{index}_%s"),
            )
        )
    other = [c for group in by_section.values() for c in group]
    other.sort(key=lambda c: (c.created_at, c.pk))
    return sections, other


def _version_page(
    request: HttpRequest,
    policy: Policy,
    version: PolicyVersion,
    *,
    comment_form: CommentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    comments = list(version.comments.select_related("author", "organization"))
    sections, other_comments = _sections(version, comments, comment_form)
    general_posted = comment_form is not None and not any(s.form is comment_form for s in sections)
    others = list(
        _visible_versions(user, policy).exclude(pk=version.pk).order_by("-number").values_list("number", flat=True)
    )
    previous = next((n for n in others if n < version.number), None)
    may_draft = not version.is_frozen and policy.may_draft(user)
    return render(
        request,
        "policies/version_detail.html",
        {
            "policy": policy,
            "version": version,
            "sections": sections,
            "other_comments": other_comments,
            "general_form": comment_form if general_posted else CommentForm(initial={"section": ""}, auto_id="id_c0_%s"),
            "may_comment": _may_comment(user),
            "cost_layers": list(Layer),
            "cost_matrix": _cost_matrix(version.cost_sharing),
            "other_versions": others,
            "default_against": previous if previous is not None else (others[0] if others else None),
            "pdf": current_pdf(version) if version.is_frozen else None,
            "rounds": list(version.rounds.order_by("-opened_at", "-pk")),
            "may_edit": may_draft,
        },
        status=status,
    )


@login_required
@require_GET
def version_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    policy = _get_policy(request, pk)
    return _version_page(request, policy, _get_version(request, policy, number))


def _frozen(request: HttpRequest, policy: Policy, version: PolicyVersion) -> HttpResponse:
    messages.error(
        request,
        _("第%(n)s版は提出済みのため変更できません。変更するには新しい版を作成してください。") % {"n": version.number},
    )
    return _version_page(request, policy, version, status=409)


def _version_form(
    request: HttpRequest, policy: Policy, version: PolicyVersion, editor: VersionEditor, *, status: int = 200, **extra
) -> HttpResponse:
    return render(
        request,
        "policies/version_form.html",
        {"policy": policy, "version": version, "editor": editor, "form": editor.form, "formset": editor.schedule, **extra},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def version_edit(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    policy = _get_policy(request, pk)
    version = _get_version(request, policy, number)
    if version.is_frozen and request.method == "POST":
        # Submitted since the form was opened (from another tab, by a colleague): nothing is
        # saved, and the text stays on the page so it can go into the next version.
        editor = VersionEditor(version, request.POST.copy())
        return _version_form(request, policy, version, editor, status=409, frozen=True)
    if version.is_frozen:
        return _frozen(request, policy, version)
    if not policy.may_draft(request.user):
        raise PermissionDenied(_("この版を編集できません。"))
    if request.method != "POST":
        return _version_form(request, policy, version, VersionEditor(version))

    editor = VersionEditor(version, request.POST.copy())
    if not editor.is_valid():
        return _version_form(request, policy, version, editor)
    submitting = request.POST.get("intent") == "submit"
    try:
        version = actions.update_version(version, request.user, editor.changes(), revision=editor.revision)
    except FrozenVersionError:
        return _version_form(request, policy, version, editor, status=409, frozen=True)
    except Conflict:
        # Someone saved in between. Keep what this user typed; the next save, made knowing
        # that, replaces the newer revision (the page says so).
        current = PolicyVersion.objects.get(pk=version.pk)
        stale = {"yours": editor.revision, "theirs": current.revision}
        editor.set_revision(current.revision)
        return _version_form(request, policy, current, editor, status=409, stale=stale)
    except ValidationError as exc:
        editor.add_action_errors(exc)
        return _version_form(request, policy, version, editor)
    if not submitting:
        messages.success(request, _("下書きを保存しました。"))
        return redirect("policies:version-edit", pk=policy.pk, number=version.number)
    editor.set_revision(version.revision)
    return _submit(request, policy, version, editor)


def _submit(request: HttpRequest, policy: Policy, version: PolicyVersion, editor: VersionEditor) -> HttpResponse:
    try:
        version = actions.submit_version(version, request.user)
    except FrozenVersionError:
        return _frozen(request, policy, version)
    except ValidationError as exc:
        editor.add_action_errors(exc)
        messages.warning(request, _("下書きは保存されています。提出するには、表示された項目を直してください。"))
        return _version_form(request, policy, version, editor)
    messages.success(
        request,
        _("第%(n)s版を提出しました。この版は確定し、以後変更できません。") % {"n": version.number},
    )
    return redirect("policies:version", pk=policy.pk, number=version.number)


@login_required
@require_POST
def version_submit(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    policy = _get_policy(request, pk)
    version = _get_version(request, policy, number)
    if version.is_frozen:
        return _frozen(request, policy, version)
    if not policy.may_draft(request.user):
        raise PermissionDenied(_("この版を提出できません。"))
    editor = VersionEditor(version, VersionEditor.data_from(version))
    editor.is_valid()
    return _submit(request, policy, version, editor)


@login_required
@require_POST
def version_new(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _get_policy(request, pk)
    try:
        version = actions.create_version(policy, request.user)
    except Conflict as exc:
        messages.error(request, str(exc))
        return _policy_detail(request, policy, status=409)
    messages.success(
        request,
        _("第%(n)s版を作成しました。前の版の内容から編集を始められます。") % {"n": version.number},
    )
    return redirect("policies:version-edit", pk=policy.pk, number=version.number)


@login_required
@require_POST
def version_comment(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    policy = _get_policy(request, pk)
    version = _get_version(request, policy, number)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _version_page(request, policy, version, comment_form=form)
    section = form.cleaned_data["section"]
    try:
        actions.comment_on_version(version, request.user, section=section, body=form.cleaned_data["body"])
    except ValidationError as exc:
        add_action_errors(form, exc)
        return _version_page(request, policy, version, comment_form=form)
    messages.success(request, _("コメントを投稿しました。"))
    titles = [s.title for s in split_sections(version.body)]
    anchor = f"section-{titles.index(section) + 1}" if section in titles else "comments-general"
    return redirect(f"{reverse('policies:version', args=[policy.pk, version.number])}#{anchor}")


@dataclass
class Change:
    label: str
    status: str  # "added", "removed", "changed"
    old: str = ""
    new: str = ""


def _cost_label(row: dict | None) -> str:
    if row is None:
        return ""
    label = Payer(row["payer"]).label
    if row.get("until"):
        label = _("%(payer)s（%(year)s年度まで）") % {"payer": label, "year": row["until"]}
    return label


def _cost_changes(old: list[dict], new: list[dict]) -> list[Change]:
    before = {(r["layer"], r["item"]): r for r in old}
    after = {(r["layer"], r["item"]): r for r in new}
    changes = []
    for layer in Layer:
        for item in CostItem:
            a, b = before.get((layer, item)), after.get((layer, item))
            if a == b:
                continue
            status = "added" if a is None else "removed" if b is None else "changed"
            changes.append(Change(f"{layer.label}・{item.label}", status, _cost_label(a), _cost_label(b)))
    return changes


def _schedule_changes(old: list[dict], new: list[dict]) -> list[Change]:
    before = {r["milestone"]: r["target_date"] for r in old}
    after = {r["milestone"]: r["target_date"] for r in new}
    changes = []
    for milestone, target in after.items():
        if milestone not in before:
            changes.append(Change(milestone, "added", "", target))
        elif before[milestone] != target:
            changes.append(Change(milestone, "changed", before[milestone], target))
    changes.extend(Change(m, "removed", t, "") for m, t in before.items() if m not in after)
    return changes


@login_required
@require_GET
def version_diff(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    policy = _get_policy(request, pk)
    version = _get_version(request, policy, number)
    others = list(_visible_versions(request.user, policy).exclude(pk=version.pk).order_by("-number"))
    raw = request.GET.get("against", "")
    if raw.isdigit():
        other = next((v for v in others if v.number == int(raw)), None)
        if other is None:
            raise Http404
    else:
        other = next((v for v in others if v.number < version.number), others[0] if others else None)
    sections = diff_bodies(other.body, version.body) if other is not None else []
    counts = {key: sum(1 for s in sections if s.status == key) for key in ("changed", "added", "removed", "unchanged")}
    return render(
        request,
        "policies/version_diff.html",
        {
            "policy": policy,
            "version": version,
            "other": other,
            "others": others,
            "sections": sections,
            "counts": counts,
            "cost_changes": _cost_changes(other.cost_sharing, version.cost_sharing) if other else [],
            "schedule_changes": _schedule_changes(other.schedule, version.schedule) if other else [],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def version_pdf(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    policy = _get_policy(request, pk)
    version = _get_version(request, policy, number)
    page = reverse("policies:version", args=[policy.pk, version.number])
    if not version.is_frozen:
        messages.error(request, _("PDFは提出済みの版についてのみ作成できます。"))
        return _version_page(request, policy, version, status=409)
    if request.method == "POST":
        if current_pdf(version) is None:
            # Celery runs the task in place without a broker; with one, the page says so.
            tasks.render_version_pdf.delay(version.pk, pdf_language())
        if current_pdf(version) is not None:
            messages.success(request, _("PDFを作成しました。"))
        else:
            messages.info(request, _("PDFを作成しています。しばらくしてからこのページを再読み込みしてください。"))
        return redirect(page)
    pdf = current_pdf(version)
    if pdf is None:
        messages.info(request, _("この版のPDFはまだ作成されていません。「PDFを作成」を押してください。"))
        return redirect(page)
    try:
        handle = pdf.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(_("%(title)s_第%(number)s版.pdf") % {"title": policy.title, "number": version.number})
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Consent rounds --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def round_new(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _get_policy(request, pk)
    if not access_for(request.user).is_secretariat:
        raise PermissionDenied(_("同意手続を開始できるのは事務局です。"))
    version = policy.versions.filter(submitted_at__isnull=False).order_by("-number").first()
    posted = request.method == "POST"
    form = RoundForm(request.POST if posted else None, initial={"closes_at": default_closing_time()})
    status = 200
    if posted and form.is_valid():
        if version is None:
            form.add_error(None, _("提出済みの版がありません。所管府省庁が版を提出してから同意手続を開始してください。"))
        else:
            try:
                round_ = actions.open_round(
                    version, request.user,
                    closes_at=form.cleaned_data["closes_at"], extra_voters=form.cleaned_data["extra_voters"],
                )
            except Conflict as exc:
                messages.error(request, str(exc))
                status = 409
            except ValidationError as exc:
                add_action_errors(form, exc, ROUND_FIELD_LABELS)
            else:
                messages.success(
                    request,
                    _("第%(n)s版の同意手続を開始しました。締切は%(closes)sです。")
                    % {"n": version.number, "closes": date_format(timezone.localtime(round_.closes_at), _("Y年n月j日 H:i"))},
                )
                return redirect(round_)
    open_round = policy.rounds.filter(status=RoundStatus.OPEN).first()
    return render(
        request,
        "policies/round_form.html",
        {
            "form": form,
            "policy": policy,
            "version": version,
            "open_round": open_round,
            # A refused post (someone opened a round meanwhile) keeps the form and its message.
            "may_open": status == 409
            or (policy.status == PolicyStatus.DRAFTING and version is not None and open_round is None),
            "newer_draft": version is not None
            and policy.versions.filter(number__gt=version.number, submitted_at__isnull=True).first(),
            "associations": Organization.objects.filter(kind=OrganizationKind.ASSOCIATION).order_by("pk"),
        },
        status=status,
    )


def _record_summary(record: ConsentRecord, round_: ConsentRound, names: dict[int, str]) -> str:
    """One line saying what a record of the chain holds."""
    payload = record.payload
    if record.kind == ConsentRecord.Kind.OPENED:
        closes = timezone.localtime(datetime.fromisoformat(payload["closes_at"]))
        return _("第%(n)s版（ハッシュ %(hash)s）を付議、締切 %(closes)s") % {
            "n": round_.version.number,
            "hash": payload["version_hash"][:12],
            "closes": date_format(closes, _("Y年n月j日 H:i")),
        }
    if record.kind == ConsentRecord.Kind.VOTER_ADDED:
        return names.get(payload["organization"], str(payload["organization"]))
    if record.kind == ConsentRecord.Kind.BALLOT:
        return _("%(org)s：%(choice)s") % {
            "org": names.get(payload["organization"], str(payload["organization"])),
            "choice": Choice(payload["choice"]).label,
        }
    summary = _("結果：%(outcome)s") % {"outcome": Outcome(payload["outcome"]).label}
    if payload.get("comment"):
        summary += _("（%(comment)s）") % {"comment": payload["comment"]}
    return summary


def _round_detail(request: HttpRequest, round_: ConsentRound, *, status: int = 200) -> HttpResponse:
    user = request.user
    # pk order is the official order (全国知事会, 全国市長会, 全国町村会), not the codes' alphabet.
    voters = list(round_.voters.select_related("organization").order_by("organization_id"))
    ballots = {b.organization_id: b for b in round_.ballots.select_related("organization", "cast_by")}
    names = {v.organization_id: v.organization.label for v in voters}
    records = list(round_.records.select_related("by").order_by("seq"))
    for record in records:
        record.summary = _record_summary(record, round_, names)
    voting_for = round_.voting_organizations_of(user) if round_.is_open else []
    return render(
        request,
        "policies/round_detail.html",
        {
            "round": round_,
            "policy": round_.policy,
            "version": round_.version,
            "rows": [(v.organization, ballots.get(v.organization_id)) for v in voters],
            "records": records,
            "broken_link": first_broken_link(round_),
            "past_closing": round_.is_open and timezone.now() >= round_.closes_at,
            "may_vote": bool(voting_for) and round_.accepting_ballots(),
            "has_voted": any(o in ballots for o in voting_for),
            "may_close": round_.is_open and access_for(user).is_secretariat,
        },
        status=status,
    )


@login_required
@require_GET
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _round_detail(request, _get_round(request, pk))


@login_required
@require_POST
def round_close(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = _get_round(request, pk)
    try:
        closed = actions.close_round(round_, request.user)
    except Conflict as exc:
        messages.error(request, str(exc))
        return _round_detail(request, _get_round(request, pk), status=409)
    messages.success(
        request, _("同意手続を締め切りました。結果は「%(outcome)s」です。") % {"outcome": closed.get_outcome_display()}
    )
    return redirect(closed)


@login_required
@require_http_methods(["GET", "POST"])
def ballot(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = _get_round(request, pk)
    bodies = round_.voting_organizations_of(request.user)
    if not bodies:
        raise PermissionDenied(_("この同意手続で投票できるのは同意権を持つ団体の代表者です。"))
    if not round_.accepting_ballots():
        messages.error(request, _("この同意手続は終了しているか、締切日時を過ぎているため、投票できません。"))
        return _round_detail(request, round_, status=409)
    current = list(Ballot.objects.filter(round=round_, organization_id__in=bodies).select_related("organization", "cast_by"))
    initial = {}
    if len(bodies) == 1 and current:
        initial = {"choice": current[0].choice, "comment": current[0].comment}
    posted = request.method == "POST"
    form = BallotForm(request.POST if posted else None, organizations=bodies, initial=initial)
    if posted and form.is_valid():
        data = form.ballot()
        try:
            cast = actions.cast_ballot(round_, request.user, **data)
        except Conflict as exc:
            messages.error(request, str(exc))
            return _round_detail(request, round_, status=409)
        except ValidationError as exc:
            add_action_errors(form, exc, {"organization": _("投票する団体")})
        else:
            messages.success(
                request,
                _("%(org)sとして「%(choice)s」を登録しました。締切までは変更できます。")
                % {"org": cast.organization.label, "choice": cast.get_choice_display()},
            )
            return redirect(round_)
    return render(
        request,
        "policies/ballot_form.html",
        {"form": form, "round": round_, "policy": round_.policy, "version": round_.version, "current": current},
    )


@login_required
@require_GET
def consent_status(request: HttpRequest) -> HttpResponse:
    """Every policy put to consent, latest first: the version voted on, each voting body's
    ballot with its conditions or reasons, and the outcome."""
    rounds = (
        ConsentRound.objects.select_related("version")
        .prefetch_related(
            Prefetch("ballots", queryset=Ballot.objects.select_related("organization")),
            Prefetch("voters", queryset=ConsentVoter.objects.select_related("organization").order_by("organization_id")),
        )
        .order_by("-opened_at", "-pk")
    )
    queryset = (
        _visible_policies(request.user)
        .filter(Exists(ConsentRound.objects.filter(policy=OuterRef("pk"))))
        .select_related("ministry")
        .annotate(
            latest_opened_at=_latest_round("opened_at"),
            latest_round_status=_latest_round("status"),
            latest_round_outcome=_latest_round("outcome"),
        )
        .prefetch_related(Prefetch("rounds", queryset=rounds))
        .order_by("-latest_opened_at", "-pk")
    )
    filterset = ConsentStatusFilter(request.GET or None, queryset=queryset)
    page = _page(request, filterset.qs, CONSENT_PAGE_SIZE)
    policies = list(page.object_list)
    for policy in policies:
        policy.round_list = list(policy.rounds.all())
        for round_ in policy.round_list:
            ballots = {b.organization_id: b for b in round_.ballots.all()}
            round_.rows = [(v.organization, ballots.get(v.organization_id)) for v in round_.voters.all()]
        policy.latest_round = policy.round_list[0]
        policy.earlier_rounds = policy.round_list[1:]
    return render(
        request,
        "policies/consent_status.html",
        {"filterset": filterset, "page_obj": page, "policies": policies, "is_filtered": _is_filtered(request)},
    )

