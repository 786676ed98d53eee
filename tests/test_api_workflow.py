"""`POST <object>/transition/` and `GET <object>/history/` (council.api.workflow) on candidates and
feasibility studies, and the exception handler that turns action errors into 400/403/409."""

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from rest_framework.response import Response

from candidates.models import Candidate, FeasibilityStudy
from council.api.exceptions import exception_handler
from council.calendar import today
from council.models import TransitionLog
from tests.api_helpers import ROLES, assess, candidate_in, get_user, snapshot, study_in

pytestmark = pytest.mark.django_db

CANDIDATE_STATUSES = ("proposed", "under_review", "selected", "not_selected", "withdrawn")
CANDIDATE_MOVES = {
    ("proposed", "under_review"),
    ("proposed", "withdrawn"),
    ("under_review", "selected"),
    ("under_review", "not_selected"),
    ("under_review", "withdrawn"),
}
STUDY_STATUSES = ("assigned", "submitted", "accepted", "returned")
STUDY_MOVES = {
    ("assigned", "submitted"),
    ("submitted", "accepted"),
    ("submitted", "returned"),
    ("returned", "submitted"),
}


def move(client, obj, to, **body):
    kind = "candidates" if isinstance(obj, Candidate) else "feasibility-studies"
    return client.post(f"/api/v1/{kind}/{obj.pk}/transition/", {"to": to, **body}, format="json")


def history(client, obj):
    kind = "candidates" if isinstance(obj, Candidate) else "feasibility-studies"
    return client.get(f"/api/v1/{kind}/{obj.pk}/history/")


# --- candidates -------------------------------------------------------------------------------


@pytest.mark.parametrize("source", CANDIDATE_STATUSES)
@pytest.mark.parametrize("target", CANDIDATE_STATUSES)
def test_every_candidate_move_is_allowed_exactly_as_the_table_says(api, source, target):
    candidate = candidate_in(source)
    if source == "under_review":
        assess(candidate)
    logs = TransitionLog.objects.count()
    response = move(api("secretariat"), candidate, target, track="commonization", comment="協議の結果")
    candidate.refresh_from_db()
    if (source, target) in CANDIDATE_MOVES:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == target == candidate.status
        assert TransitionLog.objects.count() == logs + 1
        last = history(api("secretariat"), candidate).json()[-1]
        assert (last["from"], last["to"], last["comment"]) == (source, target, "協議の結果")
    else:
        assert response.status_code == 409
        assert response.json()["from"] == source
        assert response.json()["to"] == target
        assert response.json()["detail"]
        assert candidate.status == source
        assert TransitionLog.objects.count() == logs


def test_a_decision_returns_the_candidate_with_track_date_and_note(api):
    candidate = candidate_in("under_review")
    assess(candidate, "chijikai", (5, 4, 4))
    response = move(api("secretariat"), candidate, "selected", track="commonization", comment="3基準を満たす")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["track"], body["decision_note"]) == ("selected", "commonization", "3基準を満たす")
    assert body["decided_on"] == today().isoformat()
    assert body["score_summary"]["assessor_count"] == 1
    assert body["weighted_total"] == pytest.approx(4.33)


@pytest.mark.parametrize("to", ["selected", "not_selected"])
@pytest.mark.parametrize("track", [None, ""])
def test_a_decision_without_a_track_is_a_400_and_changes_nothing(api, to, track):
    candidate = candidate_in("under_review")
    assess(candidate)
    before = snapshot()
    body = {} if track is None else {"track": track}
    response = move(api("secretariat"), candidate, to, **body)
    assert response.status_code == 400
    assert "track" in response.json()
    assert snapshot() == before


def test_an_unknown_track_is_a_400(api):
    candidate = candidate_in("under_review")
    assess(candidate)
    before = snapshot()
    response = move(api("secretariat"), candidate, "selected", track="outsourcing")
    assert response.status_code == 400
    assert "track" in response.json()
    assert snapshot() == before


def test_selecting_without_assessments_is_a_409_and_changes_nothing(api):
    candidate = candidate_in("under_review")
    before = snapshot()
    response = move(api("secretariat"), candidate, "selected", track="commonization")
    assert response.status_code == 409
    assert "評価" in response.json()["detail"]
    assert (response.json()["from"], response.json()["to"]) == ("under_review", "selected")
    assert snapshot() == before


def test_not_selecting_needs_no_assessment(api):
    candidate = candidate_in("under_review")
    response = move(api("secretariat"), candidate, "not_selected", track="joint_procurement", comment="基準に該当しない")
    assert response.status_code == 200
    assert response.json()["track"] == "joint_procurement"


@pytest.mark.parametrize("to", ["", "rejected", None, "Selected"])
def test_an_unknown_target_state_is_a_400_naming_to(api, to):
    candidate = candidate_in("proposed")
    before = snapshot()
    response = move(api("secretariat"), candidate, to)
    assert response.status_code == 400
    assert "to" in response.json()
    assert snapshot() == before


def test_a_missing_target_state_is_a_400(api):
    candidate = candidate_in("proposed")
    response = api("secretariat").post(f"/api/v1/candidates/{candidate.pk}/transition/", {}, format="json")
    assert response.status_code == 400
    assert "to" in response.json()


def test_a_comment_over_4000_characters_is_a_400(api):
    candidate = candidate_in("proposed")
    before = snapshot()
    response = move(api("secretariat"), candidate, "under_review", comment="あ" * 4001)
    assert response.status_code == 400
    assert "comment" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("username", ["soumu", "mhlw", "chijikai"])
def test_council_members_see_but_may_not_move_a_candidate(api, username):
    candidate = candidate_in("proposed")
    before = snapshot()
    response = move(api(username), candidate, "under_review")
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("username", ["sapporo", "hokkaido"])
def test_local_officials_get_404_for_an_unpublished_candidate_and_403_for_a_selected_one(api, username):
    proposed = candidate_in("proposed")
    selected = candidate_in("selected", "選定済み")
    before = snapshot()
    assert move(api(username), proposed, "under_review").status_code == 404
    assert move(api(username), selected, "withdrawn").status_code == 403
    assert history(api(username), proposed).status_code == 404
    assert history(api(username), selected).status_code == 200
    assert snapshot() == before


def test_a_refusal_for_rights_comes_before_a_conflict(api):
    # soumu may not move candidates at all: it learns that, not the state table.
    candidate = candidate_in("withdrawn")
    assert move(api("soumu"), candidate, "selected", track="commonization").status_code == 403


def test_the_history_lists_every_move_oldest_first(api):
    client = api("secretariat")
    candidate = candidate_in("proposed")
    move(client, candidate, "under_review", comment="審議に付す")
    move(client, candidate, "withdrawn", comment="提案団体が取下げ")
    response = history(api("chijikai"), candidate)
    assert response.status_code == 200
    rows = response.json()
    assert isinstance(rows, list)  # not paginated: a workflow object's history is short
    assert [(r["from"], r["to"], r["comment"]) for r in rows] == [
        (None, "proposed", ""),
        ("proposed", "under_review", "審議に付す"),
        ("under_review", "withdrawn", "提案団体が取下げ"),
    ]
    secretariat = get_user("secretariat")
    assert rows[1]["by"] == {"id": secretariat.pk, "username": "secretariat", "name": "デジタル庁 事務局"}
    assert set(rows[1]) == {"id", "from", "to", "by", "at", "comment"}
    assert rows[0]["at"] <= rows[1]["at"] <= rows[2]["at"]


@pytest.mark.parametrize("username", ROLES)
def test_history_is_readable_exactly_where_the_candidate_is(api, username):
    for status in CANDIDATE_STATUSES:
        candidate = candidate_in(status, f"候補 {status}")
        detail = api(username).get(f"/api/v1/candidates/{candidate.pk}/").status_code
        assert history(api(username), candidate).status_code == detail


def test_anonymous_transition_and_history_are_401(api):
    candidate = candidate_in("proposed")
    before = snapshot()
    assert move(api(), candidate, "under_review").status_code == 401
    assert history(api(), candidate).status_code == 401
    assert snapshot() == before


def test_transition_accepts_only_post_and_history_only_get(api):
    candidate = candidate_in("proposed")
    client = api("secretariat")
    assert client.get(f"/api/v1/candidates/{candidate.pk}/transition/").status_code == 405
    assert client.post(f"/api/v1/candidates/{candidate.pk}/history/", {}, format="json").status_code == 405


# --- feasibility studies -----------------------------------------------------------------------


def mover_for(target: str) -> str:
    # The ministry submits; the secretariat accepts or returns.
    return "soumu" if target == "submitted" else "secretariat"


@pytest.mark.parametrize("source", STUDY_STATUSES)
@pytest.mark.parametrize("target", STUDY_STATUSES)
def test_every_study_move_is_allowed_exactly_as_the_table_says(api, source, target):
    study = study_in(source, filled=True)
    logs = TransitionLog.objects.count()
    response = move(api(mover_for(target)), study, target, comment="確認しました")
    study.refresh_from_db()
    if (source, target) in STUDY_MOVES:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == target == study.status
        assert TransitionLog.objects.count() == logs + 1
    else:
        assert response.status_code == 409
        assert (response.json()["from"], response.json()["to"]) == (source, target)
        assert study.status == source
        assert TransitionLog.objects.count() == logs


@pytest.mark.parametrize("target, username", [
    ("submitted", "secretariat"),
    ("submitted", "mhlw"),
    ("accepted", "soumu"),
    ("returned", "soumu"),
])
def test_study_moves_belong_to_the_ministry_or_the_secretariat(api, target, username):
    study = study_in("submitted" if target != "submitted" else "assigned", filled=True)
    before = snapshot()
    response = move(api(username), study, target, comment="理由")
    # mhlw may not even see another ministry's draft.
    assert response.status_code == (404 if username == "mhlw" else 403)
    assert snapshot() == before


def test_returning_a_study_needs_a_comment_and_it_can_be_resubmitted(api):
    study = study_in("submitted", filled=True)
    secretariat, soumu = api("secretariat"), api("soumu")
    before = snapshot()
    response = move(secretariat, study, "returned", comment="  ")
    assert response.status_code == 400
    assert "comment" in response.json()
    assert snapshot() == before
    returned = move(secretariat, study, "returned", comment="費用の根拠を追記してください。")
    assert returned.status_code == 200
    assert returned.json()["decided_at"]
    resubmitted = move(soumu, study, "submitted", comment="追記しました。")
    assert resubmitted.status_code == 200
    assert resubmitted.json()["status"] == "submitted"
    # (The fixture forced "submitted" without a history row.)
    assert [(r["from"], r["to"], r["comment"]) for r in history(soumu, study).json()] == [
        (None, "assigned", ""),
        ("submitted", "returned", "費用の根拠を追記してください。"),
        ("returned", "submitted", "追記しました。"),
    ]


def test_submitting_an_incomplete_study_is_a_400_naming_every_missing_field(api):
    study = study_in("assigned")
    before = snapshot()
    response = move(api("soumu"), study, "submitted")
    assert response.status_code == 400
    assert set(FeasibilityStudy.REQUIRED_TO_SUBMIT) <= set(response.json())
    assert snapshot() == before


# --- the exception handler ---------------------------------------------------------------------


def handle(exc) -> Response:
    return exception_handler(exc, {"request": RequestFactory().get("/"), "view": None})


def test_django_validation_errors_become_field_errors():
    response = handle(ValidationError({"title": "必須です。", "__all__": ["全体の誤り", "全体の誤り"]}))
    assert response.status_code == 400
    assert response.data == {"title": ["必須です。"], "non_field_errors": ["全体の誤り"]}


def test_a_plain_validation_error_is_a_non_field_error():
    response = handle(ValidationError("形式が違います。"))
    assert (response.status_code, response.data) == (400, {"non_field_errors": ["形式が違います。"]})


def test_django_permission_denied_keeps_its_message():
    from django.core.exceptions import PermissionDenied

    response = handle(PermissionDenied("事務局のみ"))
    assert (response.status_code, response.data) == (403, {"detail": "事務局のみ"})


def test_other_exceptions_are_left_to_django():
    assert handle(ZeroDivisionError()) is None
