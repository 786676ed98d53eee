"""The meetings' actions and models: the workflow, the agenda, attendees, decisions (and the
candidate / consent-round moves they make), visibility, and the demo meetings."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from candidates.models import CandidateStatus
from council import calendar
from council.meetings import actions
from council.meetings.models import AgendaItem, Decision, Meeting, MeetingAttendee
from council.workflow import Conflict, TransitionNotAllowed
from tests.test_meetings_support import (
    candidate,
    get_user,
    held,
    item_for,
    meeting,
    open_round,
    org,
    published,
    scheduled,
    snapshot,
    vote,
)

pytestmark = pytest.mark.django_db


# --- Meetings and their workflow ------------------------------------------------------------------


def test_a_meeting_gets_the_next_number_and_the_standing_members():
    first = meeting()
    second = meeting(standing_members=True)
    assert (first.number, second.number) == (1, 2)
    assert first.status == "draft" and first.display_title == "第1回 国・地方デジタル共通基盤推進連絡協議会"
    kinds = set(second.attendees.values_list("organization__kind", flat=True))
    assert kinds == {"secretariat", "association"}
    assert second.attendees.filter(organization__code="chijikai").exists()
    assert [log.to_status for log in second.history()] == ["draft"]


def test_only_the_secretariat_runs_meetings():
    made = meeting()
    before = snapshot()
    for username in ("soumu", "chijikai", "sapporo"):
        user = get_user(username)
        with pytest.raises(PermissionDenied):
            actions.create_meeting(user, date=calendar.today(), venue="会議室")
        with pytest.raises(PermissionDenied):
            actions.update_meeting(made, user, {"venue": "別の会議室"})
        with pytest.raises(PermissionDenied):
            actions.add_agenda_item(made, user, kind="other", title="議題")
        with pytest.raises(PermissionDenied):
            actions.add_attendee(made, user, organization=org("soumu"))
        with pytest.raises(PermissionDenied):
            actions.move_meeting(made, user, "scheduled")
        with pytest.raises(PermissionDenied):
            actions.delete_meeting(made, user)
    assert snapshot() == before


def test_bad_particulars_are_field_errors_and_nothing_is_saved():
    meeting(number=3)
    before = snapshot()
    secretariat = get_user("secretariat")
    with pytest.raises(ValidationError) as error:
        actions.create_meeting(secretariat, date=calendar.today(), venue="", format="in_person")
    assert "venue" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.create_meeting(secretariat, date=calendar.today(), venue="会議室", number=3)
    assert "number" in error.value.message_dict
    from datetime import time

    with pytest.raises(ValidationError) as error:
        actions.create_meeting(secretariat, date=calendar.today(), venue="会議室", start_time=time(12), end_time=time(10))
    assert "end_time" in error.value.message_dict
    assert snapshot() == before
    online = actions.create_meeting(secretariat, date=calendar.today(), format="online")
    assert online.venue == ""


def test_announcing_needs_an_agenda_and_holding_needs_the_day():
    secretariat = get_user("secretariat")
    made = meeting(day=calendar.today() + timedelta(days=3))
    with pytest.raises(ValidationError) as error:
        actions.move_meeting(made, secretariat, "scheduled")
    assert "agenda_items" in error.value.message_dict
    actions.add_agenda_item(made, secretariat, kind="other", title="運営について")
    actions.move_meeting(made, secretariat, "scheduled")
    with pytest.raises(TransitionNotAllowed, match="開催日より前"):
        actions.move_meeting(made, secretariat, "held")
    Meeting.objects.filter(pk=made.pk).update(date=calendar.today())
    made.refresh_from_db()
    actions.move_meeting(made, secretariat, "held")
    with pytest.raises(ValidationError) as error:
        actions.move_meeting(made, secretariat, "minutes_published")
    assert "minutes" in error.value.message_dict
    actions.save_minutes(made, secretariat, "## 議事\n了承した。")
    moved = actions.move_meeting(made, secretariat, "minutes_published")
    assert moved.minutes_published_at is not None
    assert [log.to_status for log in made.history()] == ["draft", "scheduled", "held", "minutes_published"]
    with pytest.raises(TransitionNotAllowed):
        actions.move_meeting(made, secretariat, "held")


def test_cancelling_needs_a_reason_and_only_announced_meetings_are_cancelled():
    secretariat = get_user("secretariat")
    made = scheduled()
    with pytest.raises(ValidationError) as error:
        actions.move_meeting(made, secretariat, "cancelled")
    assert "comment" in error.value.message_dict
    actions.move_meeting(made, secretariat, "cancelled", comment="台風のため")
    made.refresh_from_db()
    assert made.status == "cancelled" and not made.may_read_pack(secretariat)
    with pytest.raises(Conflict):
        actions.update_meeting(made, secretariat, {"venue": "別室"})
    with pytest.raises(TransitionNotAllowed):
        actions.move_meeting(held(), secretariat, "cancelled", comment="理由")


def test_minutes_are_written_only_between_holding_and_publishing():
    secretariat = get_user("secretariat")
    made = scheduled()
    with pytest.raises(Conflict):
        actions.save_minutes(made, secretariat, "早すぎる議事録")
    made = held()
    actions.save_minutes(made, secretariat, "## 議事\n案")
    made.refresh_from_db()
    assert made.minutes_updated_at is not None
    actions.move_meeting(made, secretariat, "minutes_published")
    with pytest.raises(Conflict):
        actions.save_minutes(made, secretariat, "公開後の修正")
    with pytest.raises(Conflict):
        actions.add_agenda_item(made, secretariat, kind="other", title="追加")
    made.refresh_from_db()
    assert made.minutes == "## 議事\n案"


def test_only_a_meeting_in_preparation_is_deleted():
    secretariat = get_user("secretariat")
    draft = meeting(standing_members=True)
    actions.add_agenda_item(draft, secretariat, kind="other", title="議題")
    actions.delete_meeting(draft, secretariat)
    assert not Meeting.objects.exists() and not AgendaItem.objects.exists() and not MeetingAttendee.objects.exists()
    announced = scheduled()
    with pytest.raises(Conflict):
        actions.delete_meeting(announced, secretariat)
    assert Meeting.objects.filter(pk=announced.pk).exists()


# --- Agenda and attendees --------------------------------------------------------------------------


def test_agenda_items_take_their_title_from_their_target_and_keep_their_order():
    secretariat = get_user("secretariat")
    made = meeting()
    subject = candidate("公金受取口座の登録支援")
    first = actions.add_agenda_item(made, secretariat, kind="selection", target=subject)
    second = actions.add_agenda_item(made, secretariat, kind="other", title="その他の報告")
    assert first.title == "対象候補「公金受取口座の登録支援」の選定について" and first.order == 1
    assert second.order == 2
    inserted = actions.add_agenda_item(made, secretariat, kind="other", title="冒頭の挨拶", order=1)
    orders = dict(made.agenda_items.values_list("title", "order"))
    assert orders == {"冒頭の挨拶": 1, first.title: 2, "その他の報告": 3}
    actions.move_agenda_item(inserted, secretariat, "down")
    assert made.agenda_items.get(pk=inserted.pk).order == 2 and made.agenda_items.get(pk=first.pk).order == 1
    # The swap is made by queryset updates (no signals): it is still in the audit trail.
    from council.audit.models import AuditEvent

    moves = AuditEvent.objects.filter(content_type__model="agendaitem", action="update").order_by("-sequence")[:2]
    assert {(e.object_id, e.changes["order"][0], e.changes["order"][1]) for e in moves} == {
        (str(inserted.pk), 1, 2), (str(first.pk), 2, 1)
    }
    actions.update_agenda_item(second, secretariat, {"order": 1, "notes": "資料1"})
    assert dict(made.agenda_items.values_list("pk", "order")) == {second.pk: 1, inserted.pk: 2, first.pk: 3}


def test_an_agenda_item_needs_the_target_of_its_kind():
    secretariat = get_user("secretariat")
    made = meeting()
    subject = candidate()
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        actions.add_agenda_item(made, secretariat, kind="selection")
    assert "candidate" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.add_agenda_item(made, secretariat, kind="other", target=subject)
    assert "kind" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.add_agenda_item(made, secretariat, kind="nonsense", title="x")
    assert "kind" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.add_agenda_item(made, secretariat, kind="other", title="")
    assert "title" in error.value.message_dict
    assert snapshot() == before
    actions.add_agenda_item(made, secretariat, kind="selection", target=subject)
    with pytest.raises(ValidationError, match="既にこの会議の議題"):
        actions.add_agenda_item(made, secretariat, kind="selection", target=subject)


def test_the_database_refuses_a_kind_without_its_target():
    from django.db import IntegrityError, transaction

    made = meeting()
    with pytest.raises(IntegrityError), transaction.atomic():
        AgendaItem.objects.create(meeting=made, order=1, kind="selection", title="対象なし")


def test_attendees_are_added_once_and_removed():
    secretariat = get_user("secretariat")
    made = meeting()
    first = actions.add_attendee(made, secretariat, organization=org("soumu"), title="課長", name="総務 太郎")
    actions.add_attendee(made, secretariat, organization=org("soumu"))
    with pytest.raises(ValidationError) as error:
        actions.add_attendee(made, secretariat, organization=org("soumu"), title="課長", name="総務 太郎")
    assert "organization" in error.value.message_dict
    assert str(first) == "総務省 課長 総務 太郎"
    actions.remove_attendee(first, secretariat)
    assert list(made.attendees.values_list("name", flat=True)) == [""]


# --- Decisions -----------------------------------------------------------------------------------------


def test_a_selection_decision_selects_the_candidate_and_records_the_meeting():
    secretariat = get_user("secretariat")
    subject = candidate()
    made = held(subject)
    # Recorded ten days after the meeting: the decision is still dated the meeting's day.
    made.date = made.date - timedelta(days=10)
    made.save(update_fields=["date"])
    item = item_for(made, subject)
    decision = actions.record_decision(item, secretariat, outcome="selected", track="commonization", text="原案のとおり選定する。")
    subject.refresh_from_db()
    assert subject.status == CandidateStatus.SELECTED and subject.track == "commonization"
    assert subject.decision_note == "原案のとおり選定する。"
    assert subject.decided_on == made.date  # the meeting's day, not the day it was recorded
    assert decision.agenda_item.meeting == made and decision.decided_by == secretariat
    assert actions.decision_taken_on(subject) == decision
    assert [log.comment for log in subject.history()][-1] == "原案のとおり選定する。"


def test_a_not_selected_decision_and_a_deferral():
    secretariat = get_user("secretariat")
    refused, deferred = candidate("見送る候補"), candidate("継続する候補")
    made = held(refused, deferred)
    actions.record_decision(item_for(made, refused), secretariat, outcome="not_selected", track="joint_procurement", text="共同調達による横展開とする。")
    actions.record_decision(item_for(made, deferred), secretariat, outcome="deferred", track="commonization", text="次回に継続審議。")
    refused.refresh_from_db()
    deferred.refresh_from_db()
    assert refused.status == "not_selected" and refused.track == "joint_procurement"
    assert deferred.status == "under_review" and actions.decision_taken_on(deferred) is None
    assert Decision.objects.get(agenda_item__candidate=deferred).track == ""  # a deferral has no track


def test_a_bad_decision_changes_nothing():
    secretariat = get_user("secretariat")
    subject = candidate()
    made = held(subject)
    item = item_for(made, subject)
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        actions.record_decision(item, secretariat, outcome="selected", track="", text="")
    assert {"track", "text"} <= set(error.value.message_dict)
    with pytest.raises(ValidationError) as error:
        actions.record_decision(item, secretariat, outcome="consented", text="同意")
    assert "outcome" in error.value.message_dict
    with pytest.raises(ValidationError):
        actions.record_decision(item_for(made), secretariat, outcome="selected", track="commonization", text="x")
    assert snapshot() == before


def test_a_candidate_not_yet_under_review_cannot_be_decided():
    secretariat = get_user("secretariat")
    proposed = candidate("まだ提案段階", review=False)
    made = held(proposed)
    before = snapshot()
    with pytest.raises(TransitionNotAllowed):
        actions.record_decision(item_for(made, proposed), secretariat, outcome="selected", track="commonization", text="選定")
    assert snapshot() == before


def test_a_candidate_decided_before_the_meeting_only_records_the_meeting():
    from candidates import actions as candidate_actions

    secretariat = get_user("secretariat")
    subject = candidate()
    made = held(subject)
    candidate_actions.decide(subject, secretariat, "selected", track="commonization", comment="先に決定")
    with pytest.raises(ValidationError, match="既に「選定」"):
        actions.record_decision(item_for(made, subject), secretariat, outcome="not_selected", track="commonization", text="x")
    with pytest.raises(ValidationError) as error:
        actions.record_decision(item_for(made, subject), secretariat, outcome="selected", track="standardization", text="x")
    assert "track" in error.value.message_dict
    actions.record_decision(item_for(made, subject), secretariat, outcome="selected", track="commonization", text="会議で確認した。")
    subject.refresh_from_db()
    assert subject.decision_note == "先に決定"  # not moved twice
    assert actions.decision_taken_on(subject).agenda_item.meeting == made


def test_decisions_are_taken_at_held_meetings_only_and_once():
    secretariat = get_user("secretariat")
    subject = candidate()
    made = scheduled(subject)
    with pytest.raises(Conflict, match="開催済み"):
        actions.record_decision(item_for(made, subject), secretariat, outcome="deferred", text="継続")
    actions.move_meeting(made, secretariat, "held")
    actions.record_decision(item_for(made, subject), secretariat, outcome="deferred", text="継続")
    with pytest.raises(Conflict, match="既に記録"):
        actions.record_decision(item_for(made, subject), secretariat, outcome="deferred", text="もう一度")
    with pytest.raises(Conflict):
        actions.remove_agenda_item(item_for(made, subject), secretariat)
    with pytest.raises(Conflict):
        actions.update_agenda_item(item_for(made, subject), secretariat, {"title": "変更"})
    with pytest.raises(PermissionDenied):
        actions.record_decision(item_for(made), get_user("chijikai"), outcome="noted", text="x")


def test_a_consent_decision_closes_the_round(submitted_policy):
    secretariat = get_user("secretariat")
    round_ = open_round(submitted_policy())
    vote(round_, ("consent", "conditional_consent", "consent"))
    made = held(round_)
    item = item_for(made, round_)
    assert actions.expected_consent_outcome(item) == "consented"
    actions.record_decision(item, secretariat, outcome="consented", text="地方三団体の同意を得た。")
    round_.refresh_from_db()
    assert round_.status == "closed" and round_.outcome == "consented" and round_.closed_by == secretariat
    assert round_.policy.status == "consented"
    assert actions.decision_taken_on(round_).agenda_item.meeting == made
    record = round_.records.get(kind="closed")
    assert record.payload["comment"] == "地方三団体の同意を得た。"


def test_a_consent_outcome_that_contradicts_the_ballots_keeps_the_round_open(submitted_policy):
    secretariat = get_user("secretariat")
    round_ = open_round(submitted_policy())
    vote(round_, ("consent", "objection", "consent"))
    made = held(round_)
    before = snapshot()
    with pytest.raises(ValidationError, match="不同意"):
        actions.record_decision(item_for(made, round_), secretariat, outcome="consented", text="同意とする。")
    assert snapshot() == before
    round_.refresh_from_db()
    assert round_.status == "open" and not round_.records.filter(kind="closed").exists()
    actions.record_decision(item_for(made, round_), secretariat, outcome="not_consented", text="異議があった。")
    round_.refresh_from_db()
    assert round_.outcome == "not_consented" and round_.policy.status == "drafting"


def test_a_closed_round_is_recorded_with_its_own_outcome(submitted_policy):
    from policies import actions as policy_actions

    secretariat = get_user("secretariat")
    round_ = open_round(submitted_policy())
    vote(round_)
    policy_actions.close_round(round_, secretariat)
    made = held(round_)
    with pytest.raises(ValidationError):
        actions.record_decision(item_for(made, round_), secretariat, outcome="not_consented", text="x")
    actions.record_decision(item_for(made, round_), secretariat, outcome="consented", text="結果を確認した。")
    assert Decision.objects.get().outcome == "consented"


# --- Visibility ----------------------------------------------------------------------------------------------


def test_who_sees_which_meetings_and_items():
    draft = meeting()
    reviewed = candidate("審議中の候補")
    announced = scheduled(reviewed)
    for username in ("secretariat", "soumu", "chijikai", "sapporo"):
        visible = set(Meeting.objects.visible_to(get_user(username)))
        assert (draft in visible) == (username == "secretariat")
        assert announced in visible
        items = set(AgendaItem.objects.visible_to(get_user(username)).filter(meeting=announced).values_list("kind", flat=True))
        # Candidates under review are for council members; local officials see the rest of the agenda.
        assert items == ({"other", "selection"} if username != "sapporo" else {"other"})
    from django.contrib.auth.models import AnonymousUser

    assert not Meeting.objects.visible_to(AnonymousUser()).exists()
    assert set(AgendaItem.objects.filter(meeting=announced).public().values_list("kind", flat=True)) == {"other"}


def test_who_reads_minutes_and_the_pack():
    made = held()
    for username, minutes, pack in (
        ("secretariat", True, True), ("soumu", False, True), ("chijikai", False, True), ("sapporo", False, False),
    ):
        user = get_user(username)
        assert (made.may_read_minutes(user), made.may_read_pack(user)) == (minutes, pack), username
    done = published()
    assert all(done.may_read_minutes(get_user(u)) for u in ("secretariat", "soumu", "sapporo"))
    assert not done.may_read_pack(get_user("hokkaido"))


# --- Demo ------------------------------------------------------------------------------------------------------


def test_the_demo_meetings_point_at_the_demo_pipeline():
    from candidates.demo import load_demo_candidates
    from council.demo import load_demo_meetings
    from policies.demo import load_demo_policies

    load_demo_candidates()
    load_demo_policies()
    assert load_demo_meetings() == 5
    assert load_demo_meetings() == 0
    statuses = list(Meeting.objects.order_by("number").values_list("status", flat=True))
    assert statuses == ["minutes_published", "minutes_published", "held", "scheduled", "draft"]
    first = Meeting.objects.get(number=1)
    from candidates.models import Candidate

    for decided in Candidate.objects.filter(status__in=["selected", "not_selected"]):
        decision = actions.decision_taken_on(decided)
        assert decision is not None and decision.agenda_item.meeting == first
        assert decision.outcome == decided.status and decision.track == decided.track
    from policies.models import ConsentRound

    for round_ in ConsentRound.objects.filter(status="closed"):
        assert actions.decision_taken_on(round_).outcome == round_.outcome
    upcoming = Meeting.objects.get(number=4)
    assert upcoming.date > calendar.today()
    assert upcoming.agenda_items.filter(kind="selection").count() == Candidate.objects.filter(status="under_review").count()
    assert upcoming.agenda_items.filter(kind="consent", consent_round__status="open").count() == 1
    assert Meeting.objects.get(number=3).minutes and Meeting.objects.get(number=3).minutes_published_at is None
