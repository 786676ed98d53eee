"""/api/v1/candidates/ (list, detail, create, edit) and /api/v1/criteria-weights/, from the outside.

Transitions and history are in test_api_workflow.py; assessments in test_api_assessments.py.
"""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from candidates.models import BusinessArea, Candidate, CriteriaWeights
from tests.api_helpers import COUNCIL, LOCAL, ROLES, assess, candidate_in, org, propose, put_in, snapshot

pytestmark = pytest.mark.django_db

STATUSES = ("proposed", "under_review", "selected", "not_selected", "withdrawn")


def url(candidate=None) -> str:
    return "/api/v1/candidates/" if candidate is None else f"/api/v1/candidates/{candidate.pk}/"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def new_candidate_body(**overrides) -> dict:
    areas = list(BusinessArea.objects.filter(owning_ministry__code="soumu").values_list("pk", flat=True)[:2])
    return {
        "title": "被災者支援システムの共通化",
        "description": "災害時の被災者台帳と罹災証明の発行を共通の仕組みにする。",
        "owning_ministry": org("soumu").pk,
        "business_areas": areas,
        **overrides,
    }


# --- who gets in ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/candidates/"),
        ("post", "/api/v1/candidates/"),
        ("get", "/api/v1/candidates/{pk}/"),
        ("put", "/api/v1/candidates/{pk}/"),
        ("patch", "/api/v1/candidates/{pk}/"),
        ("post", "/api/v1/candidates/{pk}/transition/"),
        ("get", "/api/v1/candidates/{pk}/history/"),
        ("get", "/api/v1/criteria-weights/"),
        ("put", "/api/v1/criteria-weights/"),
    ],
)
def test_anonymous_requests_get_401_and_change_nothing(api, method, path):
    candidate = candidate_in("selected")
    before = snapshot()
    response = getattr(api(), method)(path.format(pk=candidate.pk), {}, format="json")
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("username", ROLES)
def test_each_role_sees_exactly_the_candidates_domain_allows(api, username):
    candidates = {status: candidate_in(status, f"候補 {status}") for status in STATUSES}
    visible = set(STATUSES) if username in COUNCIL else {"selected"}
    client = api(username)
    assert ids(client.get(url())) == {candidates[s].pk for s in visible}
    for status, candidate in candidates.items():
        assert client.get(url(candidate)).status_code == (200 if status in visible else 404)


@pytest.mark.parametrize("username", ROLES)
def test_the_list_and_the_detail_never_disagree(api, username):
    for status in STATUSES:
        candidate_in(status, f"候補 {status}")
    client = api(username)
    listed = ids(client.get(url() + "?page_size=500"))
    for candidate in Candidate.objects.all():
        detail = client.get(url(candidate))
        assert detail.status_code == (200 if candidate.pk in listed else 404)
        if candidate.pk in listed:
            row = next(r for r in client.get(url() + "?page_size=500").json()["results"] if r["id"] == candidate.pk)
            assert {k: v for k, v in detail.json().items() if k != "score_summary"} == row


def test_a_missing_candidate_is_404(api):
    assert api("secretariat").get("/api/v1/candidates/999999/").status_code == 404


def test_candidates_cannot_be_deleted(api):
    candidate = candidate_in("proposed")
    assert api("secretariat").delete(url(candidate)).status_code == 405
    assert Candidate.objects.filter(pk=candidate.pk).exists()


# --- what a candidate reads like ------------------------------------------------------------


def test_a_candidate_reads_with_references_and_scores(api):
    area = BusinessArea.objects.get(name="住民基本台帳")
    candidate = propose(areas=[area])
    assess(candidate, "secretariat", (5, 2, 4))
    assess(candidate, "chijikai", (3, 4, 4))
    body = api("soumu").get(url(candidate)).json()
    assert body["status"] == "proposed"
    assert body["track"] == ""
    assert body["decided_on"] is None
    assert body["decision_note"] == ""
    assert body["owning_ministry"] == {"id": org("soumu").pk, "code": "soumu", "name": "総務省"}
    assert body["proposed_by"] == {"id": org("digital").pk, "code": "digital", "name": "デジタル庁"}
    assert body["business_areas"] == [{"id": area.pk, "name": "住民基本台帳"}]
    assert body["assessor_count"] == 2
    assert body["means"] == {"user_need": 4.0, "expected_effect": 3.0, "feasibility": 4.0}
    assert body["weighted_total"] == pytest.approx(round(11 / 3, 2))
    assert body["score_summary"] == json.loads(json.dumps(candidate.score_summary().as_dict()))
    need = body["score_summary"]["criteria"][0]
    assert (need["criterion"], need["min"], need["max"], need["spread"], need["count"]) == ("user_need", 3, 5, 2, 2)
    assert need["distribution"] == {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1}


def test_the_list_total_agrees_with_the_detail_summary_under_custom_weights(api):
    CriteriaWeights.objects.create(user_need=Decimal(2), expected_effect=Decimal(1), feasibility=Decimal(0))
    candidate = propose()
    assess(candidate, "secretariat", (5, 1, 1))
    assess(candidate, "soumu", (3, 3, 5))
    client = api("chijikai")
    [row] = client.get(url()).json()["results"]
    detail = client.get(url(candidate)).json()
    assert row["weighted_total"] == detail["score_summary"]["weighted_total"] == pytest.approx((2 * 4 + 2) / 3, abs=0.01)


# --- proposing ------------------------------------------------------------------------------


def test_the_secretariat_proposes_a_candidate(api):
    body = new_candidate_body(proposed_by=org("chijikai").pk)
    response = api("secretariat").post(url(), body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    candidate = Candidate.objects.get(pk=created["id"])
    assert (candidate.title, candidate.status, candidate.proposed_by.code) == (body["title"], "proposed", "chijikai")
    assert sorted(a["id"] for a in created["business_areas"]) == sorted(body["business_areas"])
    assert created["score_summary"]["assessor_count"] == 0
    assert [(row.from_status, row.to_status) for row in candidate.history()] == [("", "proposed")]


def test_the_proposer_defaults_to_the_secretariats_own_organization(api):
    body = new_candidate_body()
    created = api("secretariat").post(url(), body, format="json").json()
    assert created["proposed_by"]["code"] == "digital"


@pytest.mark.parametrize("username", [u for u in ROLES if u != "secretariat"])
def test_only_the_secretariat_proposes(api, username):
    before = snapshot()
    response = api(username).post(url(), new_candidate_body(), format="json")
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"title": ""}, "title"),
        ({"title": "あ" * 201}, "title"),
        ({"description": ""}, "description"),
        ({"owning_ministry": None}, "owning_ministry"),
        ({"owning_ministry": 99999999}, "owning_ministry"),
        ({"business_areas": [99999999]}, "business_areas"),
        ({"proposed_by": 99999999}, "proposed_by"),
    ],
)
def test_a_bad_proposal_is_a_400_naming_the_field_and_saves_nothing(api, overrides, field):
    before = snapshot()
    response = api("secretariat").post(url(), new_candidate_body(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_the_owning_ministry_must_be_a_ministry(api):
    before = snapshot()
    response = api("secretariat").post(url(), new_candidate_body(owning_ministry=org("chijikai").pk), format="json")
    assert response.status_code == 400
    assert "owning_ministry" in response.json()
    assert snapshot() == before


# --- editing --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["proposed", "under_review"])
def test_the_secretariat_edits_an_open_candidate(api, status):
    candidate = candidate_in(status)
    area = BusinessArea.objects.get(name="戸籍")
    response = api("secretariat").patch(
        url(candidate), {"title": "改題", "owning_ministry": org("moj").pk, "business_areas": [area.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "改題"
    assert response.json()["owning_ministry"]["code"] == "moj"
    candidate.refresh_from_db()
    assert (candidate.title, candidate.owning_ministry.code) == ("改題", "moj")
    assert list(candidate.business_areas.all()) == [area]


def test_a_full_update_replaces_the_fields(api):
    candidate = candidate_in("proposed")
    body = new_candidate_body(title="全面改訂", description="新しい概要", business_areas=[])
    response = api("secretariat").put(url(candidate), body, format="json")
    assert response.status_code == 200, response.content
    candidate.refresh_from_db()
    assert (candidate.title, candidate.description, candidate.business_areas.count()) == ("全面改訂", "新しい概要", 0)


def test_a_full_update_needs_every_required_field(api):
    candidate = candidate_in("proposed")
    before = snapshot()
    response = api("secretariat").put(url(candidate), {"title": "件名だけ"}, format="json")
    assert response.status_code == 400
    assert {"description", "owning_ministry"} <= set(response.json())
    assert snapshot() == before


@pytest.mark.parametrize("status", ["selected", "not_selected", "withdrawn"])
def test_a_decided_candidate_cannot_be_edited(api, status):
    candidate = candidate_in(status)
    before = snapshot()
    assert api("secretariat").patch(url(candidate), {"title": "改題"}, format="json").status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("username", ["soumu", "mhlw", "chijikai"])
@pytest.mark.parametrize("method", ["put", "patch"])
def test_council_members_other_than_the_secretariat_cannot_edit(api, username, method):
    candidate = candidate_in("proposed")
    before = snapshot()
    response = getattr(api(username), method)(url(candidate), new_candidate_body(title="改題"), format="json")
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("username", sorted(LOCAL))
@pytest.mark.parametrize("method", ["put", "patch"])
def test_local_officials_get_404_for_an_unpublished_candidate_and_403_for_a_selected_one(api, username, method):
    proposed, selected = candidate_in("proposed", "提案中"), candidate_in("selected", "選定済み")
    before = snapshot()
    client = getattr(api(username), method)
    assert client(url(proposed), new_candidate_body(), format="json").status_code == 404
    assert client(url(selected), new_candidate_body(), format="json").status_code == 403
    assert snapshot() == before


def test_an_invalid_edit_is_a_400_and_saves_nothing(api):
    candidate = candidate_in("proposed")
    before = snapshot()
    response = api("secretariat").patch(url(candidate), {"title": "", "owning_ministry": org("chijikai").pk}, format="json")
    assert response.status_code == 400
    assert {"title", "owning_ministry"} <= set(response.json())
    assert snapshot() == before


def test_status_and_decision_fields_are_not_editable(api):
    candidate = candidate_in("proposed")
    response = api("secretariat").patch(url(candidate), {"status": "selected", "track": "commonization"}, format="json")
    assert response.status_code == 200
    candidate.refresh_from_db()
    assert (candidate.status, candidate.track) == ("proposed", "")


# --- filters and ordering ---------------------------------------------------------------------


@pytest.fixture
def pipeline():
    """Four candidates with different ministries, areas, statuses and scores."""
    juki = BusinessArea.objects.get(name="住民基本台帳")
    kaigo = BusinessArea.objects.get(name="介護保険")
    low = propose("A 低評価の候補", areas=[juki])
    assess(low, "secretariat", (1, 1, 1))
    high = propose("B 高評価の候補", ministry="mhlw", areas=[kaigo, juki], description="介護の申請を共通化")
    assess(high, "secretariat", (5, 5, 5))
    assess(high, "chijikai", (5, 4, 5))
    selected = candidate_in("selected", "C 選定済み", ministry="mhlw", areas=[kaigo])
    put_in(selected, "selected", track="joint_procurement")
    unscored = propose("D 未評価")
    return {"low": low, "high": high, "selected": selected, "unscored": unscored, "juki": juki, "kaigo": kaigo}


def listed(api, query: str, username: str = "secretariat") -> list[int]:
    response = api(username).get(url() + query)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_it_filters_by_status_and_track(api, pipeline):
    assert listed(api, "?status=selected") == [pipeline["selected"].pk]
    assert listed(api, "?track=joint_procurement") == [pipeline["selected"].pk]
    assert listed(api, "?track=commonization") == []


def test_it_filters_by_owning_ministry_and_business_area(api, pipeline):
    assert set(listed(api, f"?owning_ministry={org('mhlw').pk}")) == {pipeline["high"].pk, pipeline["selected"].pk}
    assert set(listed(api, f"?business_area={pipeline['juki'].pk}")) == {pipeline["low"].pk, pipeline["high"].pk}


def test_filtering_by_business_area_keeps_the_scores_right(api, pipeline):
    [row] = api("secretariat").get(url() + f"?business_area={pipeline['kaigo'].pk}&status=proposed").json()["results"]
    assert row["assessor_count"] == 2
    assert row["weighted_total"] == pytest.approx(round((5 + 4.5 + 5) / 3, 2))


def test_it_filters_by_minimum_weighted_total(api, pipeline):
    assert set(listed(api, "?score_min=4")) == {pipeline["high"].pk, pipeline["selected"].pk}
    assert set(listed(api, "?score_min=1")) == {pipeline["low"].pk, pipeline["high"].pk, pipeline["selected"].pk}


def test_it_searches_title_and_description(api, pipeline):
    assert listed(api, "?q=低評価") == [pipeline["low"].pk]
    assert listed(api, "?q=介護の申請") == [pipeline["high"].pk]


def test_filters_apply_within_what_the_user_may_see(api, pipeline):
    assert listed(api, "?status=proposed", "sapporo") == []
    assert listed(api, f"?owning_ministry={org('mhlw').pk}", "sapporo") == [pipeline["selected"].pk]


def test_it_orders_by_weighted_total_with_unscored_last_either_way(api, pipeline):
    assert listed(api, "?ordering=-weighted_total") == [
        pipeline["high"].pk, pipeline["selected"].pk, pipeline["low"].pk, pipeline["unscored"].pk]
    assert listed(api, "?ordering=weighted_total") == [
        pipeline["low"].pk, pipeline["selected"].pk, pipeline["high"].pk, pipeline["unscored"].pk]


def test_it_orders_by_title_status_and_creation(api, pipeline):
    by_title = [pipeline[k].pk for k in ("low", "high", "selected", "unscored")]
    assert listed(api, "?ordering=title") == by_title
    assert listed(api, "?ordering=-title") == by_title[::-1]
    assert listed(api, "?ordering=created_at") == by_title
    assert listed(api, "?ordering=-created_at") == by_title[::-1]
    assert listed(api, "") == by_title[::-1]  # newest first by default
    assert listed(api, "?ordering=status")[-1] == pipeline["selected"].pk


@pytest.mark.parametrize("query, field", [("?status=maybe", "status"), ("?track=x", "track"), ("?ordering=secret", "ordering"),
                                          ("?owning_ministry=abc", "owning_ministry"), ("?score_min=high", "score_min")])
def test_a_bad_filter_is_a_400_naming_it(api, query, field):
    response = api("secretariat").get(url() + query)
    assert response.status_code == 400
    assert field in response.json()


# --- query counts -------------------------------------------------------------------------------


def make_many(count: int) -> None:
    areas = list(BusinessArea.objects.all()[:3])
    for n in range(count):
        candidate = propose(f"候補 {n:02d}", areas=areas)
        assess(candidate, "secretariat", (n % 5 + 1, 3, 4))
        assess(candidate, "chijikai", (2, n % 5 + 1, 3))
        if n % 2:
            put_in(candidate, "selected")


@pytest.mark.parametrize("username", ["secretariat", "sapporo"])
def test_the_list_reads_in_constant_queries(api, username, django_assert_max_num_queries):
    client = api(username)
    make_many(2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url()).status_code == 200
    make_many(13)
    # token, memberships, weights, count, page, business areas
    with django_assert_max_num_queries(6):
        response = client.get(url() + "?ordering=-weighted_total")
    assert response.json()["count"] == (15 if username == "secretariat" else 7)
    with CaptureQueriesContext(connection) as many:
        client.get(url())
    assert len(many) == len(few)


def test_the_detail_reads_in_constant_queries(api, django_assert_max_num_queries):
    make_many(15)
    candidate = Candidate.objects.first()
    client = api("soumu")
    # token, memberships, weights, candidate, business areas, assessments, weights (summary)
    with django_assert_max_num_queries(7):
        assert client.get(url(candidate)).status_code == 200


# --- criteria weights ----------------------------------------------------------------------------

WEIGHTS = "/api/v1/criteria-weights/"


@pytest.mark.parametrize("username", ROLES)
def test_everyone_signed_in_reads_the_weights(api, username):
    body = api(username).get(WEIGHTS).json()
    assert body == {"user_need": 1.0, "expected_effect": 1.0, "feasibility": 1.0, "updated_by": None, "updated_at": None}


def test_the_secretariat_sets_the_weights_and_the_totals_follow(api):
    candidate = propose()
    assess(candidate, "secretariat", (5, 1, 1))
    client = api("secretariat")
    response = client.put(WEIGHTS, {"user_need": 2, "expected_effect": "0.5", "feasibility": 0}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["user_need"], body["expected_effect"], body["feasibility"]) == (2.0, 0.5, 0.0)
    assert body["updated_by"]["username"] == "secretariat"
    weights = CriteriaWeights.current()
    assert (weights.user_need, weights.expected_effect, weights.feasibility) == (Decimal(2), Decimal("0.5"), Decimal(0))
    assert api("sapporo").get(WEIGHTS).json()["user_need"] == 2.0
    assert client.get(url(candidate)).json()["weighted_total"] == pytest.approx(round((2 * 5 + 0.5) / 2.5, 2))
    # Setting them again changes the one row, not a second one.
    client.put(WEIGHTS, {"user_need": 1, "expected_effect": 1, "feasibility": 1}, format="json")
    assert CriteriaWeights.objects.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"user_need": -1, "expected_effect": 1, "feasibility": 1}, "user_need"),
        ({"user_need": 1, "expected_effect": 11, "feasibility": 1}, "expected_effect"),
        ({"user_need": 1, "expected_effect": 1, "feasibility": "x"}, "feasibility"),
        ({"user_need": 1, "expected_effect": 1}, "feasibility"),
        ({"user_need": 0, "expected_effect": 0, "feasibility": 0}, "non_field_errors"),
    ],
)
def test_bad_weights_are_a_400_and_change_nothing(api, body, field):
    before = snapshot()
    response = api("secretariat").put(WEIGHTS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_all_zero_weights_are_refused_with_one_message(api):
    response = api("secretariat").put(WEIGHTS, {"user_need": 0, "expected_effect": 0, "feasibility": 0}, format="json")
    assert len(response.json()["non_field_errors"]) == 1


@pytest.mark.parametrize("username", [u for u in ROLES if u != "secretariat"])
def test_only_the_secretariat_sets_the_weights(api, username):
    before = snapshot()
    response = api(username).put(WEIGHTS, {"user_need": 2, "expected_effect": 1, "feasibility": 1}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


def test_the_weights_are_not_a_collection(api):
    client = api("secretariat")
    assert client.post(WEIGHTS, {"user_need": 2}, format="json").status_code == 405
    assert client.delete(WEIGHTS).status_code == 405
