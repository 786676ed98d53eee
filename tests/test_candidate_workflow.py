"""The candidate workflow and the one transition mechanism, through candidates.actions."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from candidates import actions
from candidates.models import Candidate, CandidateStatus, CriteriaWeights
from council import calendar
from council.models import TransitionLog
from council.workflow import TransitionNotAllowed

pytestmark = pytest.mark.django_db

ALL = list(CandidateStatus.values)
ALLOWED = {
    ("proposed", "under_review"),
    ("proposed", "withdrawn"),
    ("under_review", "selected"),
    ("under_review", "not_selected"),
    ("under_review", "withdrawn"),
}


@pytest.fixture
def candidate(user, org):
    return actions.propose_candidate(
        user("secretariat"),
        title="公金受取口座の登録支援",
        description="住民の口座登録を共通の仕組みで支援する。",
        owning_ministry=org("soumu"),
    )


def put_in(candidate, status, user):
    """Force a status for a test's starting point (bypassing the workflow on purpose)."""
    Candidate.objects.filter(pk=candidate.pk).update(status=status, track="commonization" if status in ("selected", "not_selected") else "")
    candidate.refresh_from_db()
    return candidate


def assessed(candidate, user, username="secretariat", scores=(4, 3, 5)):
    return actions.assess(
        candidate, user(username), user_need=scores[0], expected_effect=scores[1], feasibility=scores[2],
        rationale="根拠となる理由", viewpoints=["i"],
    )


def test_proposing_records_the_first_history_row(candidate, user):
    assert candidate.status == "proposed"
    assert candidate.proposed_by.code == "digital"
    [row] = candidate.history()
    assert (row.from_status, row.to_status, row.by.username) == ("", "proposed", "secretariat")


@pytest.mark.parametrize("source", ALL)
@pytest.mark.parametrize("target", ALL)
def test_every_move_is_allowed_exactly_as_the_table_says(candidate, user, source, target):
    put_in(candidate, source, user)
    if (source, target) == ("under_review", "selected"):
        assessed(candidate, user)
    before = TransitionLog.objects.count()
    if (source, target) in ALLOWED:
        moved = actions.decide(candidate, user("secretariat"), target, track="commonization", comment="協議の結果")
        assert moved.status == target
        assert candidate.status == target
        assert TransitionLog.objects.count() == before + 1
        last = candidate.history().last()
        assert (last.from_status, last.to_status, last.comment) == (source, target, "協議の結果")
    else:
        with pytest.raises(TransitionNotAllowed):
            actions.decide(candidate, user("secretariat"), target, track="commonization")
        candidate.refresh_from_db()
        assert candidate.status == source
        assert TransitionLog.objects.count() == before


@pytest.mark.parametrize("username", ["soumu", "chijikai", "sapporo", "hokkaido"])
def test_only_the_secretariat_moves_candidates(candidate, user, username):
    with pytest.raises(PermissionDenied):
        actions.decide(candidate, user(username), "under_review")
    candidate.refresh_from_db()
    assert candidate.status == "proposed"


def test_selecting_needs_an_assessment(candidate, user):
    put_in(candidate, "under_review", user)
    with pytest.raises(TransitionNotAllowed, match="評価が必要"):
        actions.decide(candidate, user("secretariat"), "selected", track="commonization")
    assert Candidate.objects.get(pk=candidate.pk).status == "under_review"


def test_a_decision_needs_a_track(candidate, user):
    put_in(candidate, "under_review", user)
    assessed(candidate, user)
    with pytest.raises(ValidationError) as excinfo:
        actions.decide(candidate, user("secretariat"), "not_selected", track="")
    assert "track" in excinfo.value.message_dict


def test_a_decision_records_track_date_and_note(candidate, user):
    put_in(candidate, "under_review", user)
    assessed(candidate, user)
    actions.decide(candidate, user("secretariat"), "selected", track="commonization", comment="3基準を満たす")
    candidate.refresh_from_db()
    assert (candidate.track, candidate.decided_on, candidate.decision_note) == (
        "commonization", calendar.today(), "3基準を満たす")


def test_the_aggregate_per_criterion_and_the_weighted_total(candidate, user):
    assessed(candidate, user, "secretariat", (5, 2, 4))
    assessed(candidate, user, "soumu", (3, 4, 4))
    assessed(candidate, user, "chijikai", (4, 3, 1))
    summary = candidate.score_summary()
    need, effect, feasible = summary.criteria
    assert (need.mean, need.min, need.max, need.spread, need.count) == (4, 3, 5, 2, 3)
    assert (effect.mean, effect.min, effect.spread) == (3, 2, 2)
    assert (feasible.mean, feasible.min, feasible.spread) == (3, 1, 3)
    assert feasible.distribution == {1: 1, 2: 0, 3: 0, 4: 2, 5: 0}
    assert summary.weighted_total == pytest.approx((4 + 3 + 3) / 3)
    CriteriaWeights.objects.create(user_need=2, expected_effect=1, feasibility=1)
    summary = candidate.score_summary()
    assert summary.weighted_total == pytest.approx((2 * 4 + 3 + 3) / 4)
    annotated = Candidate.objects.with_scores().get(pk=candidate.pk)
    assert annotated.weighted_total == pytest.approx(summary.weighted_total)
    assert annotated.assessor_count == 3


def test_a_second_assessment_by_the_same_person_revises_the_first(candidate, user):
    assessed(candidate, user, "soumu", (1, 1, 1))
    assessed(candidate, user, "soumu", (5, 5, 5))
    assert candidate.assessments.count() == 1
    assert candidate.assessments.get().scores() == {"user_need": 5, "expected_effect": 5, "feasibility": 5}


@pytest.mark.parametrize("username", ["mhlw", "sapporo", "hokkaido"])
def test_only_secretariat_owning_ministry_and_associations_assess(candidate, user, username):
    with pytest.raises(PermissionDenied):
        assessed(candidate, user, username)
    assert candidate.assessments.count() == 0


@pytest.mark.parametrize(
    "fields, error_field",
    [
        ({"user_need": 0}, "user_need"),
        ({"feasibility": 6}, "feasibility"),
        ({"rationale": ""}, "rationale"),
        ({"rationale": "あ" * 4001}, "rationale"),
        ({"viewpoints": ["iv"]}, "viewpoints"),
    ],
)
def test_bad_assessments_are_refused_and_nothing_is_saved(candidate, user, fields, error_field):
    data = {"user_need": 3, "expected_effect": 3, "feasibility": 3, "rationale": "理由", "viewpoints": [], **fields}
    with pytest.raises(ValidationError) as excinfo:
        actions.assess(candidate, user("chijikai"), **data)
    assert error_field in excinfo.value.message_dict
    assert candidate.assessments.count() == 0


def test_assign_study_moves_a_holiday_due_date_and_grants_the_ministry(candidate, user):
    put_in(candidate, "selected", user)
    saturday = calendar.today() + timedelta(days=(5 - calendar.today().weekday()) % 7 or 7)
    study, moved = actions.assign_study(candidate, user("secretariat"), due_date=saturday)
    assert moved and calendar.is_business_day(study.due_date) and study.due_date > saturday
    assert study.ministry.code == "soumu"
    assert user("soumu").has_perm("candidates.submit_feasibilitystudy", study)
    assert not user("mhlw").has_perm("candidates.change_feasibilitystudy", study)


def test_a_study_only_for_a_selected_candidate_with_a_future_date(candidate, user):
    with pytest.raises(ValidationError, match="選定された"):
        actions.assign_study(candidate, user("secretariat"), due_date=calendar.today() + timedelta(days=30))
    put_in(candidate, "selected", user)
    with pytest.raises(ValidationError) as excinfo:
        actions.assign_study(candidate, user("secretariat"), due_date=calendar.today())
    assert "due_date" in excinfo.value.message_dict
    actions.assign_study(candidate, user("secretariat"), due_date=calendar.today() + timedelta(days=30))
    with pytest.raises(ValidationError, match="既に"):
        actions.assign_study(candidate, user("secretariat"), due_date=calendar.today() + timedelta(days=30))
