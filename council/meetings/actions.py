"""Writes of the council's meetings: what the pages, the API, the demo and the tests call.

Each function checks that the acting user may do it (the secretariat runs meetings),
validates, and writes in one transaction on the locked meeting row, so a refused or
invalid request changes nothing. A decision on a selection or consent item performs the
candidate's or the consent round's own move through that app's action, in the same
transaction: the decision and the move are recorded together or not at all.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from council.meetings.models import (
    CONSENT_OUTCOMES,
    OUTCOMES_BY_KIND,
    SELECTION_OUTCOMES,
    TARGET_FIELD_NAMES,
    TARGET_FIELDS,
    AgendaItem,
    AgendaKind,
    Decision,
    DecisionOutcome,
    Meeting,
    MeetingAttendee,
    MeetingFormat,
    MeetingStatus,
)
from council.audit import recorder as audit
from council.audit.models import Action
from council.workflow import Conflict
from tenants.access import access_for
from tenants.models import Organization, OrganizationKind

MEETING_FIELDS = ("number", "title", "date", "start_time", "end_time", "format", "venue")
# Secretariat bodies and the three associations: the council's standing members.
STANDING_MEMBER_KINDS = (OrganizationKind.SECRETARIAT, OrganizationKind.ASSOCIATION)


def _require_secretariat(user, message: str) -> None:
    if not access_for(user).is_secretariat:
        raise PermissionDenied(message)


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().get(pk=meeting.pk)


def _require_editable(meeting: Meeting) -> None:
    if not meeting.is_editable:
        raise Conflict(_("議事録を公開した会議や中止した会議は変更できません。"))


def next_number() -> int:
    return (Meeting.objects.aggregate(n=Max("number"))["n"] or 0) + 1


# --- Meetings ------------------------------------------------------------------------------------


def create_meeting(
    by,
    *,
    date: date,
    number: int | None = None,
    title: str = "",
    start_time: time | None = None,
    end_time: time | None = None,
    format: str = MeetingFormat.IN_PERSON,
    venue: str = "",
    standing_members: bool = False,
) -> Meeting:
    """A new meeting in preparation (準備中); `standing_members` lists the secretariat
    bodies and the three associations as attendees."""
    _require_secretariat(by, _("会議を登録できるのは事務局です。"))
    with transaction.atomic():
        meeting = Meeting(
            number=number or next_number(), title=title, date=date, start_time=start_time, end_time=end_time,
            format=format, venue=venue, created_by=by,
        )
        meeting.full_clean()
        try:
            with transaction.atomic():
                meeting.save()
        except IntegrityError:  # the same number taken meanwhile
            raise ValidationError({"number": _("この回次の会議は既に登録されています。")}) from None
        if standing_members:
            for organization in Organization.objects.filter(kind__in=STANDING_MEMBER_KINDS).order_by("code"):
                MeetingAttendee.objects.create(meeting=meeting, organization=organization)
        meeting.record_creation(by)
    return meeting


def update_meeting(meeting: Meeting, by, changes: dict[str, Any]) -> Meeting:
    """Change the meeting's particulars (and, once held, its minutes)."""
    _require_secretariat(by, _("会議を変更できるのは事務局です。"))
    with transaction.atomic():
        locked = _lock(meeting)
        _require_editable(locked)
        for name, value in changes.items():
            if name == "minutes":
                _set_minutes(locked, value)
            elif name in MEETING_FIELDS:
                setattr(locked, name, value)
            else:
                raise ValidationError({name: _("この項目は変更できません。")})
        locked.full_clean()
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise ValidationError({"number": _("この回次の会議は既に登録されています。")}) from None
    return locked


def _set_minutes(locked: Meeting, minutes: str) -> None:
    if locked.status != MeetingStatus.HELD:
        raise Conflict(_("議事録は会議の開催後、公開するまでの間に記入できます。"))
    if minutes != locked.minutes:
        locked.minutes = minutes
        locked.minutes_updated_at = timezone.now()


def save_minutes(meeting: Meeting, by, minutes: str) -> Meeting:
    return update_meeting(meeting, by, {"minutes": minutes})


def move_meeting(meeting: Meeting, by, to: str, *, comment: str = "") -> Meeting:
    """Announce (scheduled), hold, publish the minutes of, or cancel a meeting; announcing,
    cancelling and publishing the minutes e-mail the attendees' organizations (after commit)."""
    from council.meetings import tasks
    from council.meetings.notices import FOR_STATUS

    with transaction.atomic():
        moved = meeting.transition(to, by=by, comment=comment)
        kind = FOR_STATUS.get(moved.status)
        if kind is not None:
            transaction.on_commit(lambda: tasks.notify_meeting.delay(moved.pk, kind))
    return moved


def delete_meeting(meeting: Meeting, by) -> None:
    """Only a meeting still in preparation can be deleted; an announced one is cancelled."""
    _require_secretariat(by, _("会議を削除できるのは事務局です。"))
    with transaction.atomic():
        locked = _lock(meeting)
        if locked.status != MeetingStatus.DRAFT:
            raise Conflict(_("削除できるのは準備中の会議だけです。開催予定の会議は中止にしてください。"))
        locked.pdfs.all().delete()
        locked.attendees.all().delete()
        locked.agenda_items.all().delete()
        locked.history().delete()
        locked.delete()


# --- Attendees -----------------------------------------------------------------------------------


def add_attendee(meeting: Meeting, by, *, organization: Organization, name: str = "", title: str = "") -> MeetingAttendee:
    _require_secretariat(by, _("出席者を登録できるのは事務局です。"))
    with transaction.atomic():
        locked = _lock(meeting)
        _require_editable(locked)
        attendee = MeetingAttendee(meeting=locked, organization=organization, name=name.strip(), title=title.strip())
        if locked.attendees.filter(organization=organization, name=attendee.name).exists():
            raise ValidationError({"organization": _("この出席者は既に登録されています。")})
        attendee.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                attendee.save()
        except IntegrityError:
            raise ValidationError({"organization": _("この出席者は既に登録されています。")}) from None
    return attendee


def remove_attendee(attendee: MeetingAttendee, by) -> None:
    _require_secretariat(by, _("出席者を削除できるのは事務局です。"))
    with transaction.atomic():
        locked = _lock(attendee.meeting)
        _require_editable(locked)
        MeetingAttendee.objects.filter(pk=attendee.pk, meeting=locked).delete()


# --- Agenda ----------------------------------------------------------------------------------------


def _default_title(kind: str, target) -> str:
    from candidates.models import Candidate
    from policies.models import ConsentRound

    if isinstance(target, Candidate):
        return _("対象候補「%(title)s」の選定について") % {"title": target.title}
    if isinstance(target, ConsentRound):
        return _("「%(title)s」（第%(n)s版）への同意について") % {"title": target.policy.title, "n": target.version.number}
    if kind == AgendaKind.PROGRESS_REPORT:
        return _("進捗報告：%(report)s") % {"report": target}
    if kind == AgendaKind.MEASURE_REQUEST:
        return _("措置依頼：%(measure)s") % {"measure": target}
    return str(target) if target is not None else ""


def _place_target(item: AgendaItem, kind: str, target) -> None:
    if kind not in AgendaKind.values:
        raise ValidationError({"kind": _("議題の種類「%(kind)s」はありません。") % {"kind": kind}})
    item.kind = kind
    field = TARGET_FIELDS[kind]
    for name in TARGET_FIELD_NAMES:
        setattr(item, name, target if name == field else None)
    if field and target is None:
        raise ValidationError({field: _("この種類の議題には対象を選んでください。")})
    if field is None and target is not None:
        raise ValidationError({"kind": _("「その他」の議題には対象を選べません。")})


def _check_not_on_agenda_twice(item: AgendaItem) -> None:
    field = item.target_field
    if field is None:
        return
    duplicate = AgendaItem.objects.filter(meeting=item.meeting, **{field: getattr(item, field)}).exclude(pk=item.pk)
    if duplicate.exists():
        raise ValidationError({field: _("この対象は既にこの会議の議題になっています。")})


def add_agenda_item(
    meeting: Meeting, by, *, kind: str, target=None, title: str = "", notes: str = "", order: int | None = None
) -> AgendaItem:
    """Put something on the agenda; without a title, one is made from the target."""
    _require_secretariat(by, _("議題を登録できるのは事務局です。"))
    with transaction.atomic():
        locked = _lock(meeting)
        _require_editable(locked)
        item = AgendaItem(meeting=locked, notes=notes)
        _place_target(item, kind, target)
        item.title = (title or "").strip() or _default_title(kind, target)
        last = locked.agenda_items.aggregate(n=Max("order"))["n"] or 0
        item.order = order or last + 1
        if order and locked.agenda_items.filter(order=order).exists():
            _shift_down_from(locked, order)
        _check_not_on_agenda_twice(item)
        item.full_clean(exclude=["meeting"])
        item.save()
    return item


def _shift_down_from(meeting: Meeting, order: int) -> None:
    # Highest first, so the unique (meeting, order) never sees two equal orders.
    for other in meeting.agenda_items.filter(order__gte=order).order_by("-order"):
        other.order += 1
        other.save(update_fields=["order"])


def _require_undecided(item: AgendaItem) -> None:
    if Decision.objects.filter(agenda_item=item).exists():
        raise Conflict(_("決定を記録した議題は変更・削除できません。"))


def update_agenda_item(item: AgendaItem, by, changes: dict[str, Any]) -> AgendaItem:
    """Change an undecided item: its title, notes, order, or kind and target together."""
    _require_secretariat(by, _("議題を変更できるのは事務局です。"))
    with transaction.atomic():
        locked_meeting = _lock(item.meeting)
        _require_editable(locked_meeting)
        locked = AgendaItem.objects.select_for_update().get(pk=item.pk, meeting=locked_meeting)
        _require_undecided(locked)
        changes = dict(changes)
        if "kind" in changes or "target" in changes:
            kind = changes.pop("kind", locked.kind)
            target = changes.pop("target", locked.target if kind == locked.kind else None)
            _place_target(locked, kind, target)
            if not changes.get("title"):
                changes["title"] = _default_title(kind, target)
        new_order = changes.pop("order", None)
        for name, value in changes.items():
            if name not in ("title", "notes"):
                raise ValidationError({name: _("この項目は変更できません。")})
            setattr(locked, name, value.strip() if name == "title" else value)
        _check_not_on_agenda_twice(locked)
        locked.full_clean(exclude=["meeting", "order"])
        locked.save()
        if new_order is not None and new_order != locked.order:
            _reorder(locked, int(new_order))
    return locked


def _reorder(item: AgendaItem, order: int) -> None:
    """Put `item` at `order`, swapping with the item there (a temporary order keeps the
    unique (meeting, order) satisfied at every step)."""
    if order < 1 or order > 999:
        raise ValidationError({"order": _("順番は1から999までです。")})
    other = AgendaItem.objects.filter(meeting_id=item.meeting_id, order=order).exclude(pk=item.pk).first()
    old = item.order
    if other is not None:
        AgendaItem.objects.filter(pk=other.pk).update(order=0)
    AgendaItem.objects.filter(pk=item.pk).update(order=order)
    if other is not None:
        AgendaItem.objects.filter(pk=other.pk).update(order=old)
    item.order = order
    # Queryset updates send no signals: the audit trail records the swap itself.
    audit.record(Action.UPDATE, subject=item, changes={"order": [old, order]})
    if other is not None:
        audit.record(Action.UPDATE, subject=other, changes={"order": [order, old]})


def move_agenda_item(item: AgendaItem, by, direction: str) -> AgendaItem:
    """Swap an item with its neighbour above (`up`) or below (`down`)."""
    _require_secretariat(by, _("議題を変更できるのは事務局です。"))
    if direction not in ("up", "down"):
        raise ValidationError({"direction": _("up か down を指定してください。")})
    with transaction.atomic():
        locked_meeting = _lock(item.meeting)
        _require_editable(locked_meeting)
        locked = AgendaItem.objects.get(pk=item.pk, meeting=locked_meeting)
        siblings = locked_meeting.agenda_items.exclude(pk=locked.pk)
        neighbour = (
            siblings.filter(order__lt=locked.order).order_by("-order").first()
            if direction == "up"
            else siblings.filter(order__gt=locked.order).order_by("order").first()
        )
        if neighbour is not None:
            _reorder(locked, neighbour.order)
    return locked


def remove_agenda_item(item: AgendaItem, by) -> None:
    _require_secretariat(by, _("議題を削除できるのは事務局です。"))
    with transaction.atomic():
        locked_meeting = _lock(item.meeting)
        _require_editable(locked_meeting)
        locked = AgendaItem.objects.select_for_update().get(pk=item.pk, meeting=locked_meeting)
        _require_undecided(locked)
        locked.delete()


# --- Decisions -----------------------------------------------------------------------------------


def record_decision(item: AgendaItem, by, *, outcome: str, text: str, track: str = "") -> Decision:
    """Record what the council decided on an agenda item of a held meeting.

    - A selection item decided `selected` / `not_selected` moves the candidate there (with
      its track) through candidates.actions.decide; if the candidate was already decided
      the same way, the decision only records the meeting it was taken at.
    - A consent item decided `consented` / `not_consented` closes the open round through
      policies.actions.close_round; the outcome stated must be the one the ballots give,
      otherwise nothing is saved (the round stays open).
    - `deferred` (継続審議) and the generic outcomes record the decision only.
    """
    from candidates import actions as candidate_actions
    from candidates.models import Candidate, CandidateStatus, Track
    from policies import actions as policy_actions
    from policies.models import ConsentRound, Outcome

    _require_secretariat(by, _("決定を記録できるのは事務局です。"))
    text = (text or "").strip()
    with transaction.atomic():
        meeting = _lock(item.meeting)
        if meeting.status != MeetingStatus.HELD:
            raise Conflict(_("決定は開催済みの会議について、議事録を公開するまでの間に記録できます。"))
        locked = AgendaItem.objects.select_for_update().get(pk=item.pk, meeting=meeting)
        if Decision.objects.filter(agenda_item=locked).exists():
            raise Conflict(_("この議題の決定は既に記録されています。"))
        errors: dict[str, str] = {}
        allowed = OUTCOMES_BY_KIND[locked.kind]
        if outcome not in allowed:
            labels = "、".join(str(DecisionOutcome(o).label) for o in allowed)
            errors["outcome"] = _("この議題の結果は次のいずれかです：%(labels)s") % {"labels": labels}
        if not text:
            errors["text"] = _("決定内容を入力してください。")
        if outcome in SELECTION_OUTCOMES and track not in Track.values:
            errors["track"] = _("選定・非選定の決定には区分（(a)標準化・(b)共通化・(c)共同調達）を選んでください。")
        if errors:
            raise ValidationError(errors)
        if outcome not in SELECTION_OUTCOMES:
            track = ""

        if outcome in SELECTION_OUTCOMES:
            candidate = Candidate.objects.get(pk=locked.candidate_id)
            if candidate.status == outcome:
                if candidate.track != track:
                    raise ValidationError(
                        {"track": _("この対象候補は既に「%(track)s」として決定されています。")
                         % {"track": candidate.get_track_display()}}
                    )
            elif candidate.status in (CandidateStatus.SELECTED, CandidateStatus.NOT_SELECTED):
                raise ValidationError(
                    {"outcome": _("この対象候補は既に「%(status)s」と決定されています。")
                     % {"status": candidate.get_status_display()}}
                )
            else:
                candidate_actions.decide(candidate, by, outcome, track=track, comment=text, decided_on=locked.meeting.date)
        elif outcome in CONSENT_OUTCOMES:
            round_ = ConsentRound.objects.get(pk=locked.consent_round_id)
            if round_.is_open:
                round_ = policy_actions.close_round(round_, by, comment=text)
            if round_.outcome != outcome:
                raise ValidationError(
                    {"outcome": _("投票による同意手続の結果は「%(outcome)s」です。")
                     % {"outcome": Outcome(round_.outcome).label}}
                )
        decision = Decision(agenda_item=locked, outcome=outcome, track=track, text=text, decided_by=by)
        decision.full_clean(exclude=["agenda_item"])
        decision.save()
    return decision


def expected_consent_outcome(item: AgendaItem) -> str | None:
    """For a consent item: the round's outcome, or the one its ballots would give if it
    closed now (shown to the secretariat before it records the decision)."""
    from policies.actions import outcome_of
    from policies.models import ConsentRound

    if item.kind != AgendaKind.CONSENT or item.consent_round_id is None:
        return None
    round_ = ConsentRound.objects.get(pk=item.consent_round_id)
    if not round_.is_open:
        return round_.outcome
    ballots = dict(round_.ballots.values_list("organization_id", "choice"))
    return outcome_of(round_.voter_ids(), ballots)


def decision_taken_on(obj) -> Decision | None:
    """The meeting decision that selected or did not select a candidate, or concluded a
    consent round (None when it was decided outside a meeting, or not yet)."""
    from candidates.models import Candidate
    from policies.models import ConsentRound

    if isinstance(obj, Candidate):
        found = Decision.objects.filter(agenda_item__candidate=obj, outcome__in=SELECTION_OUTCOMES)
    elif isinstance(obj, ConsentRound):
        found = Decision.objects.filter(agenda_item__consent_round=obj, outcome__in=CONSENT_OUTCOMES)
    else:
        return None
    return found.select_related("agenda_item__meeting").order_by("decided_at").first()
