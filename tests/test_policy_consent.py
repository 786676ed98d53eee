"""Drafting, consent rounds, the consent rule, reminders and the hash chain (actions level)."""

import io
import itertools
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from council.workflow import Conflict
from policies import actions, tasks
from policies.models import (
    Ballot,
    ConsentRecord,
    FrozenVersionError,
    Outcome,
    PolicyVersion,
    outcome_of,
)
from tests.conftest import COMPLETE_BODY, COST_SHARING, SCHEDULE

pytestmark = pytest.mark.django_db

CHOICES = ["consent", "conditional_consent", "objection", "abstain", None]


@pytest.mark.parametrize("ballots", list(itertools.product(CHOICES, repeat=3)))
def test_the_consent_rule_in_every_combination(ballots):
    voters = {1, 2, 3}
    cast = {voter: choice for voter, choice in zip(sorted(voters), ballots, strict=True) if choice}
    expected = (
        Outcome.CONSENTED
        if all(choice in ("consent", "conditional_consent") for choice in ballots)
        else Outcome.NOT_CONSENTED
    )
    assert outcome_of(voters, cast) == expected


def test_an_extra_secretariat_voter_counts_under_the_same_rule():
    assert outcome_of({1, 2, 3, 4}, {1: "consent", 2: "consent", 3: "consent"}) == Outcome.NOT_CONSENTED
    assert outcome_of({1, 2, 3, 4}, {1: "consent", 2: "consent", 3: "consent", 4: "consent"}) == Outcome.CONSENTED


# --- drafting -------------------------------------------------------------------------------


def test_a_policy_needs_a_selected_candidate_with_an_accepted_study(user, org):
    from candidates import actions as candidate_actions

    candidate = candidate_actions.propose_candidate(user("secretariat"), title="t", description="d", owning_ministry=org("soumu"))
    with pytest.raises(ValidationError, match="受理"):
        actions.create_policy(candidate, user("soumu"), title="方針")


def test_only_the_owning_ministry_creates_the_policy(accepted_candidate, user):
    candidate = accepted_candidate("soumu")
    for username in ("mhlw", "secretariat", "chijikai", "sapporo"):
        with pytest.raises(PermissionDenied):
            actions.create_policy(candidate, user(username), title="方針")


def test_submitting_freezes_a_version_forever(submitted_policy, user):
    policy = submitted_policy()
    version = policy.versions.get()
    assert version.is_frozen and len(version.content_hash) == 64
    assert version.content_hash == version.compute_hash()
    with pytest.raises(FrozenVersionError):
        actions.update_version(version, user("soumu"), {"body": "変更"})
    with pytest.raises(FrozenVersionError):
        version.delete()
    with pytest.raises(FrozenVersionError):
        PolicyVersion.objects.filter(pk=version.pk).update(body="こっそり変更")
    version.refresh_from_db()
    assert version.body == COMPLETE_BODY


def test_submitting_needs_every_section_a_cost_table_and_a_schedule(accepted_candidate, user):
    policy = actions.create_policy(accepted_candidate(), user("soumu"), title="方針")
    with pytest.raises(ValidationError) as excinfo:
        actions.submit_version(policy.versions.get(), user("soumu"))
    assert set(excinfo.value.message_dict) == {"body", "cost_sharing", "schedule"}
    assert "目的と範囲" in excinfo.value.message_dict["body"][0]
    assert not policy.versions.get().is_frozen


@pytest.mark.parametrize(
    "rows",
    [
        [{"layer": "cloud", "item": "survey", "payer": "state"}],
        [{"layer": "dpi", "item": "survey", "payer": "everyone"}],
        [{"layer": "dpi", "item": "survey", "payer": "state"}, {"layer": "dpi", "item": "survey", "payer": "local"}],
        [{"layer": "dpi", "item": "survey", "payer": "state", "until": 2030}],
        "not a list",
    ],
)
def test_a_bad_cost_table_is_refused_and_nothing_saved(accepted_candidate, user, rows):
    policy = actions.create_policy(accepted_candidate(), user("soumu"), title="方針")
    version = policy.versions.get()
    with pytest.raises(ValidationError) as excinfo:
        actions.update_version(version, user("soumu"), {"cost_sharing": rows})
    assert "cost_sharing" in excinfo.value.message_dict
    version.refresh_from_db()
    assert version.cost_sharing == [] and version.revision == 1


def test_a_stale_revision_is_a_conflict_not_an_overwrite(accepted_candidate, user):
    policy = actions.create_policy(accepted_candidate(), user("soumu"), title="方針")
    version = policy.versions.get()
    actions.update_version(version, user("soumu"), {"body": "最初の編集"}, revision=1)
    with pytest.raises(Conflict):
        actions.update_version(version, user("soumu"), {"body": "古い版からの編集"}, revision=1)
    version.refresh_from_db()
    assert (version.body, version.revision) == ("最初の編集", 2)


def test_another_ministry_cannot_draft(accepted_candidate, user):
    policy = actions.create_policy(accepted_candidate(), user("soumu"), title="方針")
    with pytest.raises(PermissionDenied):
        actions.update_version(policy.versions.get(), user("mhlw"), {"body": "x"})


def test_the_next_version_starts_from_the_last(submitted_policy, user):
    policy = submitted_policy()
    second = actions.create_version(policy, user("soumu"))
    assert (second.number, second.body, second.is_frozen) == (2, COMPLETE_BODY, False)
    with pytest.raises(Conflict):
        actions.create_version(policy, user("soumu"))


def test_comments_per_section(submitted_policy, user):
    version = submitted_policy().versions.get()
    comment = actions.comment_on_version(version, user("chijikai"), section="KPI", body="KPIの定義を明確に")
    assert comment.organization.code == "chijikai"
    with pytest.raises(ValidationError):
        actions.comment_on_version(version, user("chijikai"), section="存在しない節", body="x")
    with pytest.raises(PermissionDenied):
        actions.comment_on_version(version, user("sapporo"), section="KPI", body="x")


# --- consent rounds -----------------------------------------------------------------------------


def open_round(policy, user, **kwargs):
    return actions.open_round(
        policy.versions.get(number=policy.versions.filter(submitted_at__isnull=False).count()),
        user("secretariat"),
        closes_at=kwargs.pop("closes_at", timezone.now() + timedelta(days=7)),
        **kwargs,
    )


def vote_all(round_, user, choices=("consent", "consent", "consent")):
    for username, choice in zip(("chijikai", "shichokai", "chosonkai"), choices, strict=True):
        actions.cast_ballot(round_, user(username), choice=choice, comment="" if choice == "consent" else "条件")


def test_opening_a_round_records_the_version_and_its_hash(submitted_policy, user, django_capture_on_commit_callbacks):
    policy = submitted_policy()
    with django_capture_on_commit_callbacks(execute=True):
        round_ = open_round(policy, user)
    policy.refresh_from_db()
    assert policy.status == "in_consent"
    assert round_.version_hash == policy.versions.get().content_hash
    assert {v.organization.code for v in round_.voters.select_related("organization")} == {"chijikai", "shichokai", "chosonkai"}
    assert mail.outbox[-1].subject.startswith("【同意手続の開始】")
    assert sorted(mail.outbox[-1].to) == ["chijikai@example.jp", "chosonkai@example.jp", "shichokai@example.jp"]


def test_round_preconditions(submitted_policy, accepted_candidate, user):
    policy = submitted_policy()
    with pytest.raises(ValidationError) as excinfo:
        open_round(policy, user, closes_at=timezone.now() - timedelta(minutes=1))
    assert "closes_at" in excinfo.value.message_dict
    with pytest.raises(PermissionDenied):
        actions.open_round(policy.versions.get(), user("soumu"), closes_at=timezone.now() + timedelta(days=1))
    open_round(policy, user)
    with pytest.raises(Conflict):
        open_round(policy, user)
    draft_policy = actions.create_policy(accepted_candidate(title="別の候補"), user("soumu"), title="方針2")
    with pytest.raises(ValidationError):
        actions.open_round(draft_policy.versions.get(), user("secretariat"), closes_at=timezone.now() + timedelta(days=1))


def test_three_consents_are_consented(submitted_policy, user, django_capture_on_commit_callbacks):
    policy = submitted_policy()
    round_ = open_round(policy, user)
    vote_all(round_, user, ("consent", "conditional_consent", "consent"))
    with django_capture_on_commit_callbacks(execute=True):
        closed = actions.close_round(round_, user("secretariat"))
    policy.refresh_from_db()
    assert (closed.outcome, policy.status) == ("consented", "consented")
    assert mail.outbox[-1].subject.startswith("【同意手続の結果】")
    assert "soumu@example.jp" in mail.outbox[-1].to and "secretariat@example.jp" in mail.outbox[-1].to


def test_an_objection_sends_the_policy_back_to_drafting_and_a_new_round_can_follow(submitted_policy, user):
    policy = submitted_policy()
    round_ = open_round(policy, user)
    vote_all(round_, user, ("consent", "objection", "consent"))
    assert actions.close_round(round_, user("secretariat")).outcome == "not_consented"
    policy.refresh_from_db()
    assert policy.status == "drafting"
    second = actions.create_version(policy, user("soumu"), body=COMPLETE_BODY + "\n修正。")
    actions.submit_version(second, user("soumu"))
    round_two = open_round(policy, user)
    assert round_two.version == second
    vote_all(round_two, user)
    assert actions.close_round(round_two, user("secretariat")).outcome == "consented"


def test_ballots_can_change_while_open_and_every_change_is_kept(submitted_policy, user):
    round_ = open_round(submitted_policy(), user)
    actions.cast_ballot(round_, user("chijikai"), choice="objection", comment="反対理由")
    actions.cast_ballot(round_, user("chijikai"), choice="consent")
    assert Ballot.objects.filter(round=round_).count() == 1
    assert Ballot.objects.get(round=round_).choice == "consent"
    kept = [r.payload["choice"] for r in round_.records.filter(kind="ballot")]
    assert kept == ["objection", "consent"]


@pytest.mark.parametrize("choice", ["conditional_consent", "objection", "abstain"])
def test_conditions_or_reasons_are_required(submitted_policy, user, choice):
    round_ = open_round(submitted_policy(), user)
    with pytest.raises(ValidationError) as excinfo:
        actions.cast_ballot(round_, user("shichokai"), choice=choice, comment="  ")
    assert "comment" in excinfo.value.message_dict
    assert not Ballot.objects.filter(round=round_).exists()


def test_an_unknown_choice_is_refused(submitted_policy, user):
    round_ = open_round(submitted_policy(), user)
    with pytest.raises(ValidationError):
        actions.cast_ballot(round_, user("shichokai"), choice="maybe", comment="x")


@pytest.mark.parametrize("username", ["secretariat", "soumu", "sapporo", "hokkaido"])
def test_only_representatives_of_voting_bodies_vote(submitted_policy, user, username):
    round_ = open_round(submitted_policy(), user)
    with pytest.raises(PermissionDenied):
        actions.cast_ballot(round_, user(username), choice="consent")


def test_a_secretariat_body_granted_rights_votes_and_counts(submitted_policy, user, org):
    round_ = open_round(submitted_policy(), user, extra_voters=[org("digital")])
    vote_all(round_, user)
    assert actions.close_round(round_, user("secretariat")).outcome == "not_consented"  # digital has not voted
    policy = round_.policy
    policy.refresh_from_db()
    second = actions.create_version(policy, user("soumu"))
    actions.submit_version(second, user("soumu"))
    round_two = open_round(policy, user)
    actions.add_voter(round_two, user("secretariat"), org("digital"))
    vote_all(round_two, user)
    actions.cast_ballot(round_two, user("secretariat"), choice="consent")
    assert actions.close_round(round_two, user("secretariat")).outcome == "consented"


def test_after_closing_nothing_changes(submitted_policy, user, org):
    round_ = open_round(submitted_policy(), user)
    vote_all(round_, user)
    actions.close_round(round_, user("secretariat"))
    with pytest.raises(Conflict):
        actions.cast_ballot(round_, user("chijikai"), choice="objection", comment="遅れて反対")
    with pytest.raises(Conflict):
        actions.close_round(round_, user("secretariat"))
    with pytest.raises(Conflict):
        actions.add_voter(round_, user("secretariat"), org("digital"))
    assert Ballot.objects.get(round=round_, organization=org("chijikai")).choice == "consent"


def test_ballots_after_the_closing_time_are_refused_before_the_beat_closes_it(submitted_policy, user):
    round_ = open_round(submitted_policy(), user)
    type(round_).objects.filter(pk=round_.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict):
        actions.cast_ballot(round_, user("chijikai"), choice="consent")


def test_the_beat_closes_due_rounds_once(submitted_policy, user):
    policy = submitted_policy()
    round_ = open_round(policy, user)
    vote_all(round_, user)
    type(round_).objects.filter(pk=round_.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert tasks.close_due_rounds() == 1
    assert tasks.close_due_rounds() == 0
    round_.refresh_from_db()
    policy.refresh_from_db()
    assert (round_.status, round_.outcome, round_.closed_by, policy.status) == ("closed", "consented", None, "consented")
    assert policy.history().last().by is None


def test_reminders_go_to_bodies_that_have_not_voted_once_each(submitted_policy, user):
    round_ = open_round(submitted_policy(), user, closes_at=timezone.now() + timedelta(days=2, hours=12))
    actions.cast_ballot(round_, user("chijikai"), choice="consent")
    mail.outbox.clear()
    assert tasks.send_consent_reminders() == 2  # 3-day reminder to 市長会 and 町村会
    assert tasks.send_consent_reminders() == 0  # the beat ran again: nothing more
    type(round_).objects.filter(pk=round_.pk).update(closes_at=timezone.now() + timedelta(hours=20))
    actions.cast_ballot(round_, user("shichokai"), choice="consent")
    assert tasks.send_consent_reminders() == 1  # 1-day reminder to 町村会 only
    assert tasks.send_consent_reminders() == 0
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["chosonkai@example.jp", "chosonkai@example.jp", "shichokai@example.jp"]


def verify() -> str:
    out = io.StringIO()
    call_command("verify_consent_records", stdout=out)
    return out.getvalue()


def test_the_hash_chain_verifies_and_detects_raw_sql_edits(submitted_policy, user):
    round_ = open_round(submitted_policy(), user)
    vote_all(round_, user, ("consent", "objection", "consent"))
    actions.close_round(round_, user("secretariat"))
    assert "1 rounds verified" in verify()

    ballot = Ballot.objects.get(round=round_, choice="objection")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE policies_ballot SET choice = 'consent', comment = '' WHERE id = %s", [ballot.pk])
    with pytest.raises(CommandError, match=f"round {round_.pk}: ballots differ"):
        verify()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE policies_ballot SET choice = 'objection', comment = '条件' WHERE id = %s", [ballot.pk])
    assert "verified" in verify()

    record = round_.records.get(kind="closed")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE policies_consentrecord SET payload = %s WHERE id = %s",
            ['{"outcome": "consented", "ballots": {}}', record.pk],
        )
    with pytest.raises(CommandError, match=rf"record #{record.seq}: contents changed"):
        verify()


def test_an_outcome_edited_in_the_database_is_detected(submitted_policy, user):
    round_ = open_round(submitted_policy(), user)
    vote_all(round_, user, ("consent", "abstain", "consent"))
    actions.close_round(round_, user("secretariat"))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE policies_consentround SET outcome = 'consented' WHERE id = %s", [round_.pk])
    with pytest.raises(CommandError, match="outcome differs"):
        verify()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_ballots_from_one_association_leave_one_row(world):
    from django.contrib.auth import get_user_model
    from django.db import connections

    User = get_user_model()
    # Build the round in committed transactions (threads have their own connections).
    round_ = _committed_round()
    barrier = threading.Barrier(2)
    errors = []

    def vote(choice):
        try:
            barrier.wait()
            actions.cast_ballot(round_, User.objects.get(username="chijikai"), choice=choice, comment="理由")
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=vote, args=(c,)) for c in ("objection", "conditional_consent")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Ballot.objects.filter(round=round_).count() == 1
    assert ConsentRecord.objects.filter(round=round_, kind="ballot").count() == 2
    assert "verified" in verify()


def _committed_round():
    from django.contrib.auth import get_user_model

    from candidates import actions as candidate_actions
    from council import calendar
    from tenants.models import Organization

    User = get_user_model()
    secretariat, soumu = User.objects.get(username="secretariat"), User.objects.get(username="soumu")
    candidate = candidate_actions.propose_candidate(
        secretariat, title="並行投票", description="d", owning_ministry=Organization.objects.get(code="soumu")
    )
    candidate_actions.assess(candidate, secretariat, user_need=4, expected_effect=4, feasibility=4, rationale="r")
    candidate_actions.decide(candidate, secretariat, "under_review")
    candidate_actions.decide(candidate, secretariat, "selected", track="commonization")
    study, _ = candidate_actions.assign_study(candidate, secretariat, due_date=calendar.today() + timedelta(days=30))
    candidate_actions.save_study(study, soumu, {
        "findings": "f", "affected_local_governments": 1, "cost_initial_yen": 1, "cost_annual_yen": 1,
        "expected_effect": "e", "conclusion": "feasible",
    })
    candidate_actions.move_study(study, soumu, "submitted")
    candidate_actions.move_study(study, secretariat, "accepted")
    policy = actions.create_policy(candidate, soumu, title="方針")
    version = policy.versions.get()
    actions.update_version(version, soumu, {"body": COMPLETE_BODY, "cost_sharing": COST_SHARING, "schedule": SCHEDULE})
    actions.submit_version(version, soumu)
    return actions.open_round(version, secretariat, closes_at=timezone.now() + timedelta(days=3))
