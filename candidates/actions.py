"""Writes that span several models: what views, serializers, tasks and commands all call.

Each function checks the acting user may do it, validates, and writes in one transaction,
so a refused or invalid request changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from candidates.models import (
    Assessment,
    AssessmentEvidence,
    BusinessArea,
    Candidate,
    CandidateStatus,
    CriteriaWeights,
    FeasibilityStudy,
    StudyAttachment,
)
from council import calendar
from council.uploads import validate_uploads
from tenants.access import access_for, grant
from tenants.models import Organization

CANDIDATE_FIELDS = ("title", "description", "owning_ministry", "proposed_by")
STUDY_MINISTRY_PERMISSIONS = ("view_feasibilitystudy", "change_feasibilitystudy", "submit_feasibilitystudy")


def _full_clean(obj, exclude: Iterable[str] = ()) -> None:
    obj.full_clean(exclude=list(exclude))


def propose_candidate(
    by,
    *,
    title: str,
    description: str,
    owning_ministry: Organization,
    proposed_by: Organization | None = None,
    business_areas: Iterable[BusinessArea] = (),
) -> Candidate:
    if not access_for(by).is_secretariat:
        raise PermissionDenied(_("対象候補を登録できるのは事務局です。"))
    if proposed_by is None:
        proposed_by = Organization.objects.get(pk=next(iter(sorted(access_for(by).organization_ids()))))
    candidate = Candidate(
        title=title,
        description=description,
        owning_ministry=owning_ministry,
        proposed_by=proposed_by,
        created_by=by,
    )
    _full_clean(candidate)
    with transaction.atomic():
        candidate.save()
        candidate.business_areas.set(business_areas)
        candidate.record_creation(by)
    return candidate


def update_candidate(candidate: Candidate, by, changes: dict[str, Any]) -> Candidate:
    if not candidate.may_edit(by):
        raise PermissionDenied(_("この対象候補は変更できません。"))
    areas = changes.pop("business_areas", None)
    with transaction.atomic():
        locked = Candidate.objects.select_for_update().get(pk=candidate.pk)
        if not locked.may_edit(by):
            raise PermissionDenied(_("この対象候補は変更できません。"))
        for name, value in changes.items():
            if name not in CANDIDATE_FIELDS:
                raise ValidationError({name: _("この項目は変更できません。")})
            setattr(locked, name, value)
        _full_clean(locked)
        locked.save()
        if areas is not None:
            locked.business_areas.set(areas)
    return locked


def assess(
    candidate: Candidate,
    by,
    *,
    user_need: int,
    expected_effect: int,
    feasibility: int,
    rationale: str,
    viewpoints: Iterable[str] = (),
    evidence: Iterable[UploadedFile] = (),
) -> Assessment:
    """Record `by`'s assessment of `candidate`, or revise it if they already assessed it."""
    if not candidate.may_assess(by):
        raise PermissionDenied(_("この対象候補を評価する権限がないか、評価の受付が終了しています。"))
    access = access_for(by)
    organization_id = _assessing_organization(candidate, access)
    files = list(evidence)
    content_types = validate_uploads(files, "evidence")
    with transaction.atomic():
        locked = Candidate.objects.select_for_update().get(pk=candidate.pk)
        if not locked.may_assess(by):
            raise PermissionDenied(_("この対象候補を評価する権限がないか、評価の受付が終了しています。"))
        assessment = Assessment.objects.filter(candidate=locked, assessor=by).first() or Assessment(
            candidate=locked, assessor=by
        )
        assessment.organization_id = organization_id
        assessment.user_need, assessment.expected_effect, assessment.feasibility = user_need, expected_effect, feasibility
        assessment.rationale = rationale
        unknown = set(viewpoints) - {"i", "ii", "iii"}
        if unknown:
            raise ValidationError({"viewpoints": _("観点は i, ii, iii から選んでください。")})
        assessment.viewpoints = list(viewpoints)
        _full_clean(assessment, exclude=["candidate", "assessor"])
        assessment.save()
        for upload, content_type in zip(files, content_types, strict=True):
            AssessmentEvidence.objects.create(
                assessment=assessment,
                file=upload,
                original_name=upload.name,
                content_type=content_type,
                size=upload.size,
                uploaded_by=by,
            )
    return assessment


def _assessing_organization(candidate: Candidate, access) -> int:
    """The organization on whose behalf the assessor speaks: secretariat, owning ministry, or association."""
    from tenants.models import Role

    for seat in access.seats:
        if seat.role == Role.SECRETARIAT_STAFF:
            return seat.organization_id
    if candidate.owning_ministry_id in access.ministry_ids:
        return candidate.owning_ministry_id
    return min(access.association_ids)


def decide(candidate: Candidate, by, to: str, *, track: str = "", comment: str = "", decided_on=None) -> Candidate:
    """Any candidate transition; decisions carry the track, the decision note and (when taken
    at a council meeting) the meeting's date."""
    changes = {"track": track, "decision_note": comment, "decided_on": decided_on} if to in (CandidateStatus.SELECTED, CandidateStatus.NOT_SELECTED) else {}
    return candidate.transition(to, by=by, comment=comment, **changes)


def set_weights(by, *, user_need, expected_effect, feasibility) -> CriteriaWeights:
    if not access_for(by).is_secretariat:
        raise PermissionDenied(_("評価基準の重みを設定できるのは事務局です。"))
    with transaction.atomic():
        weights = CriteriaWeights.objects.select_for_update().order_by("pk").first() or CriteriaWeights()
        weights.user_need, weights.expected_effect, weights.feasibility = user_need, expected_effect, feasibility
        weights.updated_by = by
        _full_clean(weights, exclude=["updated_by"])
        weights.save()
    return weights


def assign_study(candidate: Candidate, by, *, due_date: date) -> tuple[FeasibilityStudy, bool]:
    """Ask the candidate's owning ministry for a feasibility study.

    A due date on a weekend, holiday or the year-end closure moves to the next business
    day; returns (study, whether the date was moved).
    """
    if not candidate.may_assign_study(by):
        raise PermissionDenied(_("実現可能性調査を依頼できるのは事務局です。"))
    if due_date is None:
        raise ValidationError({"due_date": _("提出期限を入力してください。")})
    if due_date <= calendar.today():
        raise ValidationError({"due_date": _("提出期限は明日以降の日付にしてください。")})
    business_day = calendar.next_business_day(due_date)
    with transaction.atomic():
        locked = Candidate.objects.select_for_update().get(pk=candidate.pk)
        if locked.status != CandidateStatus.SELECTED:
            raise ValidationError({"candidate": _("実現可能性調査は選定された対象候補についてのみ依頼できます。")})
        if FeasibilityStudy.objects.filter(candidate=locked).exists():
            raise ValidationError({"candidate": _("この対象候補には既に実現可能性調査が依頼されています。")})
        study = FeasibilityStudy(candidate=locked, ministry=locked.owning_ministry, due_date=business_day, assigned_by=by)
        try:
            with transaction.atomic():
                study.save()
        except IntegrityError:
            raise ValidationError({"candidate": _("この対象候補には既に実現可能性調査が依頼されています。")}) from None
        for codename in STUDY_MINISTRY_PERMISSIONS:
            grant(locked.owning_ministry, codename, study)
        study.record_creation(by)
    return study, business_day != due_date


def save_study(study: FeasibilityStudy, by, changes: dict[str, Any], attachments: Iterable[UploadedFile] = ()) -> FeasibilityStudy:
    """The ministry saves its draft (without submitting)."""
    files = list(attachments)
    content_types = validate_uploads(files, "attachments")
    with transaction.atomic():
        locked = FeasibilityStudy.objects.select_for_update().get(pk=study.pk)
        if not locked.may_edit(by):
            raise PermissionDenied(_("この実現可能性調査は変更できません。"))
        for name, value in changes.items():
            if name not in FeasibilityStudy.MINISTRY_FIELDS:
                raise ValidationError({name: _("この項目は変更できません。")})
            setattr(locked, name, value)
        _full_clean(locked)
        locked.save()
        for upload, content_type in zip(files, content_types, strict=True):
            StudyAttachment.objects.create(
                study=locked,
                file=upload,
                original_name=upload.name,
                content_type=content_type,
                size=upload.size,
                uploaded_by=by,
            )
    return locked


def move_study(study: FeasibilityStudy, by, to: str, *, comment: str = "") -> FeasibilityStudy:
    return study.transition(to, by=by, comment=comment)
