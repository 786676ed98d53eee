"""/api/v1/candidates/{id}/assessments/: who may assess, what a bad assessment is, evidence files."""

import pytest

from candidates.models import Assessment, AssessmentEvidence
from tests.api_helpers import (
    COUNCIL,
    EXE,
    PNG,
    ROLES,
    TINY_PDF,
    assess,
    candidate_in,
    get_user,
    org,
    propose,
    put_in,
    snapshot,
    upload,
)

pytestmark = pytest.mark.django_db

GOOD = {"user_need": 4, "expected_effect": 3, "feasibility": 5, "rationale": "多くの団体が同じ課題を抱えている。",
        "viewpoints": ["i", "iii"]}
ASSESSORS = ("secretariat", "soumu", "chijikai")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def url(candidate, assessment=None) -> str:
    base = f"/api/v1/candidates/{candidate.pk}/assessments/"
    return base if assessment is None else f"{base}{assessment.pk}/"


# --- who gets in ---------------------------------------------------------------------------


@pytest.mark.parametrize("method, detail", [("get", False), ("post", False), ("get", True), ("put", True), ("patch", True)])
def test_anonymous_requests_get_401_and_change_nothing(api, method, detail):
    candidate = candidate_in("selected")
    assessment = candidate.assessments.get()
    before = snapshot()
    response = getattr(api(), method)(url(candidate, assessment if detail else None), GOOD, format="json")
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("status", ["proposed", "under_review", "selected", "not_selected", "withdrawn"])
def test_assessments_are_visible_with_their_candidate(api, username, status):
    candidate = propose()
    assessment = assess(candidate)
    put_in(candidate, status)
    visible = username in COUNCIL or status == "selected"
    client = api(username)
    listing = client.get(url(candidate))
    assert listing.status_code == (200 if visible else 404)
    if visible:
        assert [row["id"] for row in listing.json()["results"]] == [assessment.pk]
    assert client.get(url(candidate, assessment)).status_code == (200 if visible else 404)


def test_an_assessment_is_only_found_under_its_own_candidate(api):
    first, second = candidate_in("proposed", "一"), candidate_in("proposed", "二")
    assessment = assess(first)
    client = api("secretariat")
    assert client.get(url(second, assessment)).status_code == 404
    assert client.patch(url(second, assessment), {"user_need": 1}, format="json").status_code == 404
    assert client.get("/api/v1/candidates/999999/assessments/").status_code == 404


def test_an_assessment_reads_with_assessor_organization_and_viewpoints(api):
    candidate = candidate_in("proposed")
    assessment = assess(candidate, "chijikai", (5, 2, 4))
    body = api("mhlw").get(url(candidate, assessment)).json()
    chijikai = get_user("chijikai")
    assert body["assessor"] == {"id": chijikai.pk, "username": "chijikai", "name": "全国知事会 代表者"}
    assert body["organization"] == {"id": org("chijikai").pk, "code": "chijikai", "name": "全国知事会"}
    assert (body["user_need"], body["expected_effect"], body["feasibility"]) == (5, 2, 4)
    assert body["rationale"] == "根拠となる理由"
    assert body["viewpoints"] == ["i"]
    assert body["evidence"] == []
    assert body["candidate"] == candidate.pk


# --- assessing -------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ASSESSORS)
def test_the_secretariat_the_owning_ministry_and_associations_assess(api, username):
    candidate = candidate_in("under_review")
    response = api(username).post(url(candidate), GOOD, format="json")
    assert response.status_code == 201, response.content
    assessment = Assessment.objects.get(candidate=candidate)
    assert assessment.assessor.username == username
    assert assessment.scores() == {"user_need": 4, "expected_effect": 3, "feasibility": 5}
    assert assessment.viewpoints == ["i", "iii"]
    assert response.json()["id"] == assessment.pk
    assert response.json()["organization"]["code"] == {"secretariat": "digital"}.get(username, username)


def test_assessing_again_revises_ones_own_assessment(api):
    candidate = candidate_in("proposed")
    client = api("soumu")
    first = client.post(url(candidate), GOOD, format="json")
    second = client.post(url(candidate), {**GOOD, "user_need": 1, "viewpoints": []}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assessment = Assessment.objects.get(candidate=candidate)
    assert (assessment.user_need, assessment.viewpoints) == (1, [])


def test_the_scores_show_on_the_candidate(api):
    candidate = candidate_in("proposed")
    api("secretariat").post(url(candidate), {**GOOD, "user_need": 5}, format="json")
    api("chijikai").post(url(candidate), {**GOOD, "user_need": 3}, format="json")
    body = api("soumu").get(f"/api/v1/candidates/{candidate.pk}/").json()
    assert body["assessor_count"] == 2
    assert body["means"]["user_need"] == 4.0


def test_another_ministry_may_not_assess(api):
    candidate = candidate_in("proposed")
    before = snapshot()
    assert api("mhlw").post(url(candidate), GOOD, format="json").status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("username", ["sapporo", "hokkaido"])
def test_local_officials_get_404_before_selection_and_403_after(api, username):
    proposed, selected = candidate_in("proposed", "提案中"), candidate_in("selected", "選定済み")
    before = snapshot()
    assert api(username).post(url(proposed), GOOD, format="json").status_code == 404
    assert api(username).post(url(selected), GOOD, format="json").status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("status", ["selected", "not_selected", "withdrawn"])
@pytest.mark.parametrize("username", ASSESSORS)
def test_nobody_assesses_a_decided_candidate(api, status, username):
    candidate = candidate_in(status)
    before = snapshot()
    assert api(username).post(url(candidate), GOOD, format="json").status_code == 403
    assert snapshot() == before


def test_a_refusal_for_rights_comes_before_validation(api):
    candidate = candidate_in("proposed")
    assert api("mhlw").post(url(candidate), {"user_need": 0}, format="json").status_code == 403


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"user_need": 0}, "user_need"),
        ({"user_need": 6}, "user_need"),
        ({"expected_effect": "x"}, "expected_effect"),
        ({"feasibility": None}, "feasibility"),
        ({"feasibility": 2.5}, "feasibility"),
        ({"rationale": ""}, "rationale"),
        ({"rationale": "あ" * 4001}, "rationale"),
        ({"viewpoints": ["iv"]}, "viewpoints"),
        ({"viewpoints": ["i", "iv"]}, "viewpoints"),
        ({"viewpoints": "i"}, "viewpoints"),
    ],
)
def test_a_bad_assessment_is_a_400_naming_the_field_and_saves_nothing(api, changes, field):
    candidate = candidate_in("proposed")
    before = snapshot()
    response = api("chijikai").post(url(candidate), {**GOOD, **changes}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("missing", ["user_need", "expected_effect", "feasibility", "rationale"])
def test_a_missing_field_is_a_400_naming_it(api, missing):
    candidate = candidate_in("proposed")
    before = snapshot()
    body = {k: v for k, v in GOOD.items() if k != missing}
    response = api("chijikai").post(url(candidate), body, format="json")
    assert response.status_code == 400
    assert missing in response.json()
    assert snapshot() == before


def test_a_bad_revision_leaves_the_first_assessment_as_it_was(api):
    candidate = candidate_in("proposed")
    client = api("soumu")
    client.post(url(candidate), GOOD, format="json")
    before = snapshot()
    assert client.post(url(candidate), {**GOOD, "feasibility": 9}, format="json").status_code == 400
    assert snapshot() == before


# --- evidence files ---------------------------------------------------------------------------


def multipart(files, **fields) -> dict:
    return {**{k: v for k, v in GOOD.items() if k != "viewpoints"}, "viewpoints": ["i", "ii"], "evidence": files, **fields}


def test_evidence_of_an_allowed_type_is_attached(api):
    candidate = candidate_in("proposed")
    files = [upload("根拠資料.pdf", TINY_PDF, "application/pdf"), upload("図.png", PNG, "image/png")]
    response = api("chijikai").post(url(candidate), multipart(files), format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["viewpoints"] == ["i", "ii"]
    assert [(e["name"], e["content_type"], e["size"]) for e in body["evidence"]] == [
        ("根拠資料.pdf", "application/pdf", len(TINY_PDF)), ("図.png", "image/png", len(PNG))
    ]
    for row in body["evidence"]:
        assert row["url"] == f"/candidates/evidence/{row['id']}/"
    assert AssessmentEvidence.objects.filter(assessment__candidate=candidate).count() == 2


def test_a_revision_adds_evidence_to_what_was_there(api):
    candidate = candidate_in("proposed")
    client = api("chijikai")
    client.post(url(candidate), multipart([upload("a.pdf", TINY_PDF)]), format="multipart")
    response = client.post(url(candidate), multipart([upload("b.pdf", TINY_PDF)]), format="multipart")
    assert response.status_code == 200
    assert [e["name"] for e in response.json()["evidence"]] == ["a.pdf", "b.pdf"]


@pytest.mark.parametrize(
    "name, content",
    [
        ("setup.exe", EXE),
        ("renamed.pdf", PNG),  # a PNG called .pdf
        ("report.pdf", EXE),
        ("empty.pdf", b""),
        ("too-big.pdf", b"%PDF-" + b"0" * (20 * 1024 * 1024)),
    ],
)
def test_a_refused_evidence_file_is_a_400_naming_evidence_and_saves_nothing(api, name, content):
    candidate = candidate_in("proposed")
    before = snapshot()
    response = api("chijikai").post(url(candidate), multipart([upload(name, content)]), format="multipart")
    assert response.status_code == 400
    assert "evidence" in response.json()
    assert snapshot() == before


def test_one_bad_file_among_good_ones_saves_none_of_them(api):
    candidate = candidate_in("proposed")
    before = snapshot()
    files = [upload("ok.pdf", TINY_PDF), upload("bad.exe", EXE)]
    response = api("chijikai").post(url(candidate), multipart(files), format="multipart")
    assert response.status_code == 400
    assert "bad.exe" in str(response.json()["evidence"])
    assert snapshot() == before


# --- revising through the detail --------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "put"])
def test_the_assessor_revises_their_own_assessment(api, method):
    candidate = candidate_in("under_review")
    assessment = assess(candidate, "chijikai", (1, 1, 1))
    body = {"feasibility": 5} if method == "patch" else {**GOOD, "feasibility": 5}
    response = getattr(api("chijikai"), method)(url(candidate, assessment), body, format="json")
    assert response.status_code == 200, response.content
    assessment.refresh_from_db()
    assert assessment.feasibility == 5
    assert response.json()["feasibility"] == 5
    if method == "patch":
        assert (assessment.user_need, assessment.rationale, assessment.viewpoints) == (1, "根拠となる理由", ["i"])


def test_a_full_update_needs_every_field(api):
    candidate = candidate_in("proposed")
    assessment = assess(candidate, "chijikai")
    before = snapshot()
    response = api("chijikai").put(url(candidate, assessment), {"feasibility": 5}, format="json")
    assert response.status_code == 400
    assert {"user_need", "expected_effect", "rationale"} <= set(response.json())
    assert snapshot() == before


def test_a_patch_can_add_evidence(api):
    candidate = candidate_in("proposed")
    assessment = assess(candidate, "soumu")
    response = api("soumu").patch(url(candidate, assessment), {"evidence": [upload("追加.pdf", TINY_PDF)]}, format="multipart")
    assert response.status_code == 200, response.content
    assert [e["name"] for e in response.json()["evidence"]] == ["追加.pdf"]


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize("username", ["secretariat", "soumu", "mhlw", "shichokai"])
def test_nobody_else_revises_an_assessment(api, method, username):
    candidate = candidate_in("proposed")
    assessment = assess(candidate, "chijikai")
    before = snapshot()
    response = getattr(api(username), method)(url(candidate, assessment), GOOD, format="json")
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("username", ["sapporo", "hokkaido"])
def test_local_officials_cannot_revise_assessments(api, username):
    proposed, selected = candidate_in("proposed", "提案中"), candidate_in("selected", "選定済み")
    hidden = assess(proposed)
    shown = selected.assessments.get()
    before = snapshot()
    assert api(username).patch(url(proposed, hidden), {"user_need": 1}, format="json").status_code == 404
    assert api(username).patch(url(selected, shown), {"user_need": 1}, format="json").status_code == 403
    assert snapshot() == before


def test_an_assessment_is_frozen_once_the_candidate_is_decided(api):
    candidate = candidate_in("selected")
    assessment = candidate.assessments.get()  # by the secretariat
    before = snapshot()
    assert api("secretariat").patch(url(candidate, assessment), {"user_need": 1}, format="json").status_code == 403
    assert snapshot() == before


def test_a_bad_revision_through_the_detail_is_a_400(api):
    candidate = candidate_in("proposed")
    assessment = assess(candidate, "chijikai")
    before = snapshot()
    response = api("chijikai").patch(url(candidate, assessment), {"user_need": 0, "viewpoints": ["iv"]}, format="json")
    assert response.status_code == 400
    assert {"user_need", "viewpoints"} <= set(response.json())
    assert snapshot() == before


def test_assessments_cannot_be_deleted(api):
    candidate = candidate_in("proposed")
    assessment = assess(candidate, "chijikai")
    assert api("chijikai").delete(url(candidate, assessment)).status_code == 405
    assert Assessment.objects.filter(pk=assessment.pk).exists()


def test_the_list_reads_in_constant_queries(api, django_assert_max_num_queries):
    candidate = candidate_in("proposed")
    for username in ("secretariat", "soumu", "chijikai", "shichokai", "chosonkai"):
        actions_assessment = assess(candidate, username)
        AssessmentEvidence.objects.create(
            assessment=actions_assessment, file=upload("a.pdf", TINY_PDF), original_name="a.pdf",
            content_type="application/pdf", size=len(TINY_PDF), uploaded_by=get_user(username),
        )
    client = api("mhlw")
    # token, memberships, candidate, count, page (assessor and organization joined), evidence
    with django_assert_max_num_queries(6):
        response = client.get(url(candidate))
    assert response.json()["count"] == 5
