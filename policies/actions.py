"""Drafting policies and running consent rounds: the writes views, the API, tasks and
commands share. Each checks who acts, validates, and writes in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from candidates.models import Candidate, CandidateStatus, StudyStatus
from council.workflow import Conflict
from policies.models import (
    COMMENT_REQUIRED,
    Ballot,
    ConsentRecord,
    ConsentRound,
    ConsentVoter,
    FrozenVersionError,
    Outcome,
    Policy,
    PolicyStatus,
    PolicyVersion,
    RoundStatus,
    VersionComment,
    outcome_of,
)
from policies.sections import BODY_TEMPLATE, MISSING_SECTIONS_MESSAGE, missing_sections, section_titles
from tenants.access import access_for, grant
from tenants.models import Organization, OrganizationKind, Role

OWNER_PERMISSIONS = ("view_policy", "change_policy")
VERSION_FIELDS = ("body", "cost_sharing", "schedule")
GENESIS = "0" * 64


# --- Drafting ---------------------------------------------------------------------------------


def create_policy(candidate: Candidate, by, *, title: str) -> Policy:
    """The owning ministry starts a policy for its selected candidate with an accepted study."""
    if candidate.owning_ministry_id not in access_for(by).ministry_ids:
        raise PermissionDenied(_("共通化推進方針を作成できるのは制度所管府省庁です。"))
    with transaction.atomic():
        locked = Candidate.objects.select_for_update().get(pk=candidate.pk)
        study = getattr(locked, "study", None)
        if locked.status != CandidateStatus.SELECTED or study is None or study.status != StudyStatus.ACCEPTED:
            raise ValidationError(
                {"candidate": _("方針は、選定され実現可能性調査が受理された対象候補についてのみ作成できます。")}
            )
        if Policy.objects.filter(candidate=locked).exists():
            raise ValidationError({"candidate": _("この対象候補には既に方針があります。")})
        policy = Policy(candidate=locked, ministry=locked.owning_ministry, title=title, created_by=by)
        policy.full_clean()
        policy.save()
        for codename in OWNER_PERMISSIONS:
            grant(locked.owning_ministry, codename, policy)
        policy.record_creation(by)
        PolicyVersion.objects.create(policy=policy, number=1, body=BODY_TEMPLATE, created_by=by)
    return policy


def create_version(policy: Policy, by, *, body: str | None = None, cost_sharing=None, schedule=None) -> PolicyVersion:
    """The next version, as an editable draft; starts from the latest version's content."""
    with transaction.atomic():
        locked = Policy.objects.select_for_update().get(pk=policy.pk)
        if not locked.may_draft(by):
            raise PermissionDenied(_("この方針の版を作成できません。"))
        latest = locked.versions.order_by("-number").first()
        if latest is not None and not latest.is_frozen:
            raise Conflict(_("編集中の版（第%(n)s版）があります。提出してから次の版を作成してください。") % {"n": latest.number})
        version = PolicyVersion(
            policy=locked,
            number=(latest.number + 1) if latest else 1,
            body=body if body is not None else (latest.body if latest else BODY_TEMPLATE),
            cost_sharing=cost_sharing if cost_sharing is not None else (latest.cost_sharing if latest else []),
            schedule=schedule if schedule is not None else (latest.schedule if latest else []),
            created_by=by,
        )
        version.full_clean()
        version.save()
    return version


def update_version(version: PolicyVersion, by, changes: dict[str, Any], *, revision: int | None = None) -> PolicyVersion:
    """Edit a draft. Passing the `revision` one read turns a concurrent edit into a conflict."""
    with transaction.atomic():
        locked = PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)
        if locked.is_frozen:
            raise FrozenVersionError(_("提出済みの版は変更できません。"))
        if not locked.policy.may_draft(by):
            raise PermissionDenied(_("この版を編集できません。"))
        if revision is not None and revision != locked.revision:
            raise Conflict(
                _("この版は他の人が更新しました（改訂 %(theirs)s、編集元 %(yours)s）。再読み込みしてから編集してください。")
                % {"theirs": locked.revision, "yours": revision}
            )
        for name, value in changes.items():
            if name not in VERSION_FIELDS:
                raise ValidationError({name: _("この項目は変更できません。")})
            setattr(locked, name, value)
        locked.full_clean()
        locked.revision += 1
        locked.save()
    return locked


def submit_version(version: PolicyVersion, by) -> PolicyVersion:
    """Freeze the version forever and store its content hash."""
    with transaction.atomic():
        locked = PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)
        if locked.is_frozen:
            raise FrozenVersionError(_("この版は既に提出されています。"))
        if not locked.policy.may_draft(by):
            raise PermissionDenied(_("この版を提出できません。"))
        errors: dict[str, list] = {}
        missing = missing_sections(locked.body)
        if missing:
            errors["body"] = [MISSING_SECTIONS_MESSAGE % {"titles": "、".join(missing)}]
        if not locked.cost_sharing:
            errors["cost_sharing"] = [_("提出するには費用負担の表を入力してください。")]
        if not locked.schedule:
            errors["schedule"] = [_("提出するにはスケジュールを1件以上入力してください。")]
        if errors:
            raise ValidationError(errors)
        locked.submitted_at = timezone.now()
        locked.submitted_by = by
        locked.content_hash = locked.compute_hash()
        locked.save(update_fields=["submitted_at", "submitted_by", "content_hash"])
    return locked


COMMENTER_ROLES = frozenset({Role.SECRETARIAT_STAFF, Role.ASSOCIATION_REPRESENTATIVE})


def commenting_organization_id(user) -> int | None:
    """The organization a user comments on versions for: secretariat or association, else None."""
    return next((s.organization_id for s in access_for(user).seats if s.role in COMMENTER_ROLES), None)


def comment_on_version(version: PolicyVersion, by, *, section: str, body: str) -> VersionComment:
    organization_id = commenting_organization_id(by)
    if organization_id is None:
        raise PermissionDenied(_("版にコメントできるのは事務局と地方三団体の代表者です。"))
    if section and section not in section_titles(version.body):
        raise ValidationError({"section": _("節「%(s)s」はこの版にありません。") % {"s": section}})
    comment = VersionComment(version=version, section=section, body=body, author=by, organization_id=organization_id)
    comment.full_clean()
    comment.save()
    return comment


# --- Consent rounds ------------------------------------------------------------------------------


def _append_record(round_: ConsentRound, kind: str, payload: dict, by) -> ConsentRecord:
    """Add the next link of the round's hash chain (the caller holds the round's row lock)."""
    last = round_.records.order_by("-seq").first()
    record = ConsentRecord(
        round=round_,
        seq=(last.seq + 1) if last else 1,
        kind=kind,
        payload=payload,
        by=by,
        at=timezone.now(),
        prev_hash=last.hash if last else GENESIS,
    )
    record.hash = record.compute_hash()
    record.save()
    return record


def open_round(
    version: PolicyVersion, by, *, closes_at: datetime, extra_voters: Iterable[Organization] = ()
) -> ConsentRound:
    """Put one frozen version to the consent of the three associations (and any secretariat
    bodies granted consent rights)."""
    if not access_for(by).is_secretariat:
        raise PermissionDenied(_("同意手続を開始できるのは事務局です。"))
    if closes_at is None or closes_at <= timezone.now():
        raise ValidationError({"closes_at": _("締切日時は現在より後にしてください。")})
    with transaction.atomic():
        policy = Policy.objects.select_for_update().get(pk=version.policy_id)
        version = PolicyVersion.objects.get(pk=version.pk)
        if not version.is_frozen:
            raise ValidationError({"policy_version": _("同意手続には提出済みの版を指定してください。")})
        latest = policy.versions.filter(submitted_at__isnull=False).order_by("-number").first()
        if latest.pk != version.pk:
            raise ValidationError({"policy_version": _("最新の提出済みの版（第%(n)s版）を指定してください。") % {"n": latest.number}})
        if policy.status != PolicyStatus.DRAFTING:
            raise Conflict(_("この方針は同意手続中か、既に同意済み・取下げです。"))
        round_ = ConsentRound(policy=policy, version=version, version_hash=version.content_hash, closes_at=closes_at, opened_by=by)
        try:
            with transaction.atomic():
                round_.save()
        except IntegrityError:
            raise Conflict(_("この方針には受付中の同意手続があります。")) from None
        associations = list(Organization.objects.filter(kind=OrganizationKind.ASSOCIATION).order_by("code"))
        _append_record(
            round_, ConsentRecord.Kind.OPENED,
            {"policy": policy.pk, "version": version.pk, "version_hash": version.content_hash,
             "closes_at": closes_at.isoformat()},
            by,
        )
        for organization in associations:
            ConsentVoter.objects.create(round=round_, organization=organization, added_by=by)
            _append_record(round_, ConsentRecord.Kind.VOTER_ADDED, {"organization": organization.pk}, by)
        for organization in extra_voters:
            _add_voter(round_, organization, by)
        policy.transition(PolicyStatus.IN_CONSENT, by=by, comment=str(_("第%(n)s版を同意手続に付す。") % {"n": version.number}))
        from policies import tasks

        transaction.on_commit(lambda: tasks.notify_round_opened.delay(round_.pk))
    return round_


def _add_voter(round_: ConsentRound, organization: Organization, by) -> ConsentVoter:
    if organization.kind != OrganizationKind.SECRETARIAT:
        raise ValidationError({"organization": _("同意権を付与できるのは事務局の機関です。")})
    if round_.voters.filter(organization=organization).exists():
        raise ValidationError({"organization": _("この団体は既に同意権者です。")})
    voter = ConsentVoter.objects.create(round=round_, organization=organization, added_by=by)
    _append_record(round_, ConsentRecord.Kind.VOTER_ADDED, {"organization": organization.pk}, by)
    return voter


def add_voter(round_: ConsentRound, by, organization: Organization) -> ConsentVoter:
    """Grant a secretariat body consent rights in an open round."""
    if not access_for(by).is_secretariat:
        raise PermissionDenied(_("同意権を付与できるのは事務局です。"))
    with transaction.atomic():
        locked = ConsentRound.objects.select_for_update().get(pk=round_.pk)
        if not locked.is_open:
            raise Conflict(_("終了した同意手続は変更できません。"))
        return _add_voter(locked, organization, by)


def cast_ballot(
    round_: ConsentRound, by, *, choice: str, comment: str = "", organization: Organization | None = None
) -> Ballot:
    """Cast or change a voting body's ballot while the round is open."""
    with transaction.atomic():
        # The round's row lock serialises ballots: two simultaneous submissions from one
        # association leave one ballot (and the unique constraint backs that up).
        locked = ConsentRound.objects.select_for_update().get(pk=round_.pk)
        bodies = locked.voting_organizations_of(by)
        if not bodies:
            raise PermissionDenied(_("この同意手続で投票できるのは同意権を持つ団体の代表者です。"))
        if organization is None:
            if len(bodies) > 1:
                raise ValidationError({"organization": _("どの団体として投票するか指定してください。")})
            organization_id = bodies[0]
        elif organization.pk in bodies:
            organization_id = organization.pk
        else:
            raise PermissionDenied(_("この団体として投票する権限がありません。"))
        if not locked.accepting_ballots():
            raise Conflict(_("この同意手続は終了しているか、締切日時を過ぎています。"))
        comment = (comment or "").strip()
        if choice in COMMENT_REQUIRED and not comment:
            raise ValidationError({"comment": _("条件付き同意・異議・棄権には条件または理由を入力してください。")})
        ballot = Ballot.objects.filter(round=locked, organization_id=organization_id).first() or Ballot(
            round=locked, organization_id=organization_id
        )
        ballot.choice, ballot.comment, ballot.cast_by, ballot.cast_at = choice, comment, by, timezone.now()
        ballot.full_clean(exclude=["round", "organization", "cast_by"])
        ballot.save()
        _append_record(
            locked, ConsentRecord.Kind.BALLOT,
            {"organization": organization_id, "choice": choice, "comment": comment},
            by,
        )
    return ballot


def close_round(round_: ConsentRound, by=None, *, comment: str = "") -> ConsentRound:
    """Close a round and apply the consent rule. `by=None` is the platform closing it on time."""
    if by is not None and not access_for(by).is_secretariat:
        raise PermissionDenied(_("同意手続を終了できるのは事務局です。"))
    with transaction.atomic():
        locked = ConsentRound.objects.select_for_update().get(pk=round_.pk)
        if not locked.is_open:
            raise Conflict(_("この同意手続は既に終了しています。"))
        ballots = dict(locked.ballots.values_list("organization_id", "choice"))
        outcome = outcome_of(locked.voter_ids(), ballots)
        locked.status, locked.outcome = RoundStatus.CLOSED, outcome
        locked.closed_at, locked.closed_by = timezone.now(), by
        locked.save(update_fields=["status", "outcome", "closed_at", "closed_by"])
        _append_record(
            locked, ConsentRecord.Kind.CLOSED,
            {"outcome": outcome, "ballots": {str(k): v for k, v in sorted(ballots.items())}, "comment": comment},
            by,
        )
        target = PolicyStatus.CONSENTED if outcome == Outcome.CONSENTED else PolicyStatus.DRAFTING
        note = _("同意が得られた。") if outcome == Outcome.CONSENTED else _("同意が得られなかったため、策定中に戻る。")
        locked.policy.transition(target, by=by, comment=str(note), system=by is None)
        from policies import tasks

        transaction.on_commit(lambda: tasks.notify_outcome.delay(locked.pk))
    return locked


def withdraw_policy(policy: Policy, by, *, comment: str = "") -> Policy:
    return policy.transition(PolicyStatus.WITHDRAWN, by=by, comment=comment)
