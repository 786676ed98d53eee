"""/api/v1/policies/ (list, detail, create, transition, history), from the outside.

Versions are in test_api_policy_versions.py; consent rounds and ballots in test_api_consent.py.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from council.models import TransitionLog
from policies.models import Policy
from tests.api_helpers import candidate_in, get_user, org, put_in, study_in
from tests.api_policy_helpers import (
    ASSOCIATIONS,
    COUNCIL,
    DRAFT_READERS,
    EVERYONE,
    accepted_candidate,
    draft_policy,
    policy_in,
    snapshot,
)

pytestmark = pytest.mark.django_db

STAGES = ("draft", "submitted", "in_consent", "consented", "not_consented", "withdrawn")
# Who sees a policy at each stage (see Policy.objects.visible_to).
READERS = {
    "draft": DRAFT_READERS,
    "withdrawn": DRAFT_READERS,  # withdrawn before anything was submitted
    "submitted": COUNCIL,
    "in_consent": frozenset(EVERYONE),
    "consented": frozenset(EVERYONE),
    "not_consented": frozenset(EVERYONE),  # a round existed: its consent status is public
}
FIELDS = {"id", "title", "status", "ministry", "candidate", "created_at", "updated_at"}


def url(policy=None, suffix: str = "") -> str:
    return "/api/v1/policies/" if policy is None else f"/api/v1/policies/{policy.pk}/{suffix}"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def move(client, policy, to, comment="理由"):
    return client.post(url(policy, "transition/"), {"to": to, "comment": comment}, format="json")


# --- who gets in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, suffix, detail",
    [
        ("get", "", False),
        ("post", "", False),
        ("get", "", True),
        ("post", "transition/", True),
        ("get", "history/", True),
    ],
)
def test_anonymous_requests_get_401_and_change_nothing(api, method, suffix, detail):
    policy = policy_in("in_consent")
    before = snapshot()
    body = {"candidate": policy.candidate_id, "title": "x", "to": "withdrawn"}
    response = getattr(api(), method)(url(policy if detail else None, suffix), body, format="json")
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("username", EVERYONE)
def test_each_role_sees_exactly_the_policies_the_domain_allows(api, username):
    policies = {stage: policy_in(stage, f"方針 {stage}") for stage in STAGES}
    client = api(username)
    visible = {stage for stage in STAGES if username in READERS[stage]}
    assert ids(client.get(url())) == {policies[stage].pk for stage in visible}
    for stage, policy in policies.items():
        assert client.get(url(policy)).status_code == (200 if stage in visible else 404), stage


@pytest.mark.parametrize("username", EVERYONE)
def test_the_list_and_the_detail_never_disagree(api, username):
    for stage in STAGES:
        policy_in(stage, f"方針 {stage}")
    client = api(username)
    listed = {row["id"]: row for row in client.get(url() + "?page_size=500").json()["results"]}
    for policy in Policy.objects.all():
        detail = client.get(url(policy))
        assert detail.status_code == (200 if policy.pk in listed else 404)
        if policy.pk in listed:
            assert detail.json() == listed[policy.pk]


def test_another_ministrys_draft_policy_is_invisible_to_soumu_but_visible_to_its_owner(api):
    policy = draft_policy("厚労省の方針", ministry="mhlw")
    assert api("soumu").get(url(policy)).status_code == 404
    assert api("mhlw").get(url(policy)).status_code == 200
    assert ids(api("soumu").get(url())) == set()


def test_a_missing_policy_is_404(api):
    assert api("secretariat").get("/api/v1/policies/999999/").status_code == 404


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_policies_cannot_be_replaced_edited_or_deleted(api, method):
    policy = policy_in("draft")
    before = snapshot()
    response = getattr(api("soumu"), method)(url(policy), {"title": "改題"}, format="json")
    assert response.status_code == 405
    assert snapshot() == before


def test_a_policy_reads_with_its_ministry_and_candidate(api):
    policy = policy_in("submitted")
    body = api("chijikai").get(url(policy)).json()
    assert set(body) == FIELDS
    assert (body["title"], body["status"]) == ("公金受取口座の共通化推進方針", "drafting")
    assert body["ministry"] == {"id": org("soumu").pk, "code": "soumu", "name": "総務省"}
    assert body["candidate"] == {"id": policy.candidate_id, "title": policy.candidate.title}


# --- creating --------------------------------------------------------------------------------


def test_the_owning_ministry_starts_a_policy_with_a_first_draft(api):
    candidate = accepted_candidate()
    response = api("soumu").post(url(), {"candidate": candidate.pk, "title": "公金受取口座の共通化推進方針"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS
    assert (body["status"], body["candidate"]["id"], body["ministry"]["code"]) == ("drafting", candidate.pk, "soumu")
    policy = Policy.objects.get(pk=body["id"])
    assert policy.created_by == get_user("soumu")
    [version] = policy.versions.all()
    assert (version.number, version.is_frozen) == (1, False)
    assert [(r.from_status, r.to_status) for r in policy.history()] == [("", "drafting")]
    # The ministry (its group) may draft; nobody else sees the new draft.
    versions = api("soumu").get(url(policy, "versions/"))
    assert versions.status_code == 200
    assert api("mhlw").get(url(policy)).status_code == 404


@pytest.mark.parametrize("username", [u for u in EVERYONE if u != "soumu"])
def test_only_the_owning_ministry_starts_a_policy(api, username):
    candidate = accepted_candidate()
    before = snapshot()
    response = api(username).post(url(), {"candidate": candidate.pk, "title": "方針"}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("username", ["secretariat", *ASSOCIATIONS, "hokkaido", "sapporo"])
def test_a_refusal_for_rights_comes_before_validation(api, username):
    # Nobody but a ministry officer ever starts a policy: a bad body changes nothing to that.
    before = snapshot()
    response = api(username).post(url(), {"title": ""}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


def test_a_policy_is_only_for_a_selected_candidate_with_an_accepted_study(api):
    cases = {
        "proposed": candidate_in("proposed", "提案中"),
        "selected without a study": candidate_in("selected", "調査なし"),
        "study assigned": study_in("assigned", title="調査中").candidate,
        "study submitted": study_in("submitted", title="調査提出済み").candidate,
        "study returned": study_in("returned", filled=True, title="差戻し").candidate,
    }
    client = api("soumu")
    for case, candidate in cases.items():
        before = snapshot()
        response = client.post(url(), {"candidate": candidate.pk, "title": "方針"}, format="json")
        assert response.status_code == 400, case
        assert "candidate" in response.json(), case
        assert snapshot() == before, case


def test_a_candidate_whose_accepted_study_was_later_unselected_is_refused(api):
    candidate = accepted_candidate()
    put_in(candidate, "not_selected")
    before = snapshot()
    response = api("soumu").post(url(), {"candidate": candidate.pk, "title": "方針"}, format="json")
    assert response.status_code == 400
    assert snapshot() == before


def test_a_candidate_gets_one_policy(api):
    policy = draft_policy()
    before = snapshot()
    response = api("soumu").post(url(), {"candidate": policy.candidate_id, "title": "二つ目"}, format="json")
    assert response.status_code == 400
    assert "candidate" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": ""}, "title"),
        ({"title": "あ" * 201}, "title"),
        ({"title": None}, "title"),
        ({"candidate": None}, "candidate"),
        ({"candidate": 99999999}, "candidate"),
        ({"candidate": "abc"}, "candidate"),
    ],
)
def test_a_bad_policy_is_a_400_naming_the_field_and_saves_nothing(api, body, field):
    candidate = accepted_candidate()
    before = snapshot()
    response = api("soumu").post(url(), {"candidate": candidate.pk, "title": "方針", **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_missing_fields_are_named(api):
    response = api("soumu").post(url(), {}, format="json")
    assert response.status_code == 400
    assert {"candidate", "title"} <= set(response.json())


# --- transitions and history ---------------------------------------------------------------------


@pytest.mark.parametrize("username", ["soumu", "secretariat"])
def test_the_owner_or_the_secretariat_withdraws_a_draft_policy(api, username):
    policy = policy_in("submitted")
    response = move(api(username), policy, "withdrawn", comment="制度改正により不要")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    assert set(response.json()) == FIELDS
    policy.refresh_from_db()
    assert policy.status == "withdrawn"
    last = api("chijikai").get(url(policy, "history/")).json()[-1]
    assert (last["from"], last["to"], last["comment"], last["by"]["username"]) == (
        "drafting", "withdrawn", "制度改正により不要", username)


@pytest.mark.parametrize("username", ["mhlw", *ASSOCIATIONS])
def test_other_council_members_may_not_withdraw(api, username):
    policy = policy_in("submitted")
    before = snapshot()
    assert move(api(username), policy, "withdrawn").status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("username", ["mhlw", "chijikai", "sapporo", "hokkaido"])
def test_those_who_cannot_see_a_draft_cannot_even_find_it_to_withdraw(api, username):
    policy = policy_in("draft")
    before = snapshot()
    assert move(api(username), policy, "withdrawn").status_code == 404
    assert api(username).get(url(policy, "history/")).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("username", ["hokkaido", "sapporo"])
def test_local_officials_see_a_policy_in_consent_but_may_not_move_it(api, username):
    policy = policy_in("in_consent")
    before = snapshot()
    assert move(api(username), policy, "withdrawn").status_code == 403
    assert api(username).get(url(policy, "history/")).status_code == 200
    assert snapshot() == before


@pytest.mark.parametrize("stage", ["draft", "submitted", "in_consent", "consented", "not_consented", "withdrawn"])
@pytest.mark.parametrize("to", ["drafting", "in_consent", "consented"])
def test_consent_moves_happen_through_rounds_never_by_transition(api, stage, to):
    policy = policy_in(stage)
    before = snapshot()
    response = move(api("secretariat"), policy, to)
    assert response.status_code == 409
    assert (response.json()["from"], response.json()["to"]) == (policy.status, to)
    assert response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("to", ["drafting", "in_consent", "consented"])
def test_the_owning_ministry_may_not_make_consent_moves(api, to):
    policy = policy_in("submitted")
    before = snapshot()
    assert move(api("soumu"), policy, to).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("stage", ["in_consent", "consented", "withdrawn"])
def test_only_a_drafting_policy_can_be_withdrawn(api, stage):
    policy = policy_in(stage)
    before = snapshot()
    response = move(api("secretariat"), policy, "withdrawn")
    assert response.status_code == 409
    assert (response.json()["from"], response.json()["to"]) == (stage, "withdrawn")
    assert snapshot() == before


@pytest.mark.parametrize("to", ["", "approved", None, "Withdrawn"])
def test_an_unknown_target_state_is_a_400_naming_to(api, to):
    policy = policy_in("draft")
    before = snapshot()
    response = move(api("soumu"), policy, to)
    assert response.status_code == 400
    assert "to" in response.json()
    assert snapshot() == before


def test_the_history_follows_the_policy_through_a_round(api):
    policy = policy_in("not_consented")
    rows = api("sapporo").get(url(policy, "history/")).json()
    assert [(r["from"], r["to"]) for r in rows] == [
        (None, "drafting"), ("drafting", "in_consent"), ("in_consent", "drafting")]
    assert [r["by"]["username"] for r in rows] == ["soumu", "secretariat", "secretariat"]
    assert set(rows[0]) == {"id", "from", "to", "by", "at", "comment"}
    assert rows[0]["at"] <= rows[1]["at"] <= rows[2]["at"]


def test_the_policy_reads_consented_after_a_consenting_round(api):
    policy = policy_in("consented")
    assert api("sapporo").get(url(policy)).json()["status"] == "consented"
    assert TransitionLog.objects.filter(object_id=policy.pk, to_status="consented").exists()


# --- filters ------------------------------------------------------------------------------


def test_it_filters_by_status_ministry_and_candidate(api):
    draft = policy_in("draft", "A 策定中")
    consented = policy_in("consented", "B 同意済み")
    mhlw = draft_policy("C 厚労省", ministry="mhlw")
    client = api("secretariat")
    assert ids(client.get(url() + "?status=consented")) == {consented.pk}
    assert ids(client.get(url() + f"?ministry={org('mhlw').pk}")) == {mhlw.pk}
    assert ids(client.get(url() + f"?candidate={draft.candidate_id}")) == {draft.pk}
    titles = [row["title"] for row in client.get(url() + "?ordering=title").json()["results"]]
    assert titles == ["A 策定中", "B 同意済み", "C 厚労省"]


def test_filters_apply_within_what_the_user_may_see(api):
    policy_in("draft", "策定中")
    consented = policy_in("consented", "同意済み")
    assert ids(api("sapporo").get(url() + f"?ministry={org('soumu').pk}")) == {consented.pk}


@pytest.mark.parametrize("query, field", [("?status=maybe", "status"), ("?ministry=abc", "ministry"),
                                          ("?ordering=secret", "ordering")])
def test_a_bad_filter_is_a_400_naming_it(api, query, field):
    response = api("secretariat").get(url() + query)
    assert response.status_code == 400
    assert field in response.json()


# --- query counts -------------------------------------------------------------------------------


def make_many(count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        policy_in(("in_consent", "draft", "consented", "submitted")[n % 4], f"方針 {n:02d}")


@pytest.mark.parametrize("username", ["secretariat", "soumu", "chijikai", "sapporo"])
def test_the_list_reads_in_constant_queries(api, username, django_assert_max_num_queries):
    client = api(username)
    make_many(2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url()).status_code == 200
    make_many(6, start=2)
    # token, memberships, count, page (ministry and candidate joined)
    with django_assert_max_num_queries(4):
        response = client.get(url())
    expected = {"secretariat": 8, "soumu": 8, "chijikai": 6}.get(username, 4)  # drafts; submitted; put to consent
    assert response.json()["count"] == expected
    with CaptureQueriesContext(connection) as many:
        client.get(url())
    assert len(many) == len(few)


# --- the schema ---------------------------------------------------------------------------------

STAGE_3_PATHS = {
    "/api/v1/policies/": {"get", "post"},
    "/api/v1/policies/{id}/": {"get"},
    "/api/v1/policies/{id}/transition/": {"post"},
    "/api/v1/policies/{id}/history/": {"get"},
    "/api/v1/policies/{policy_pk}/versions/": {"get", "post"},
    "/api/v1/policies/{policy_pk}/versions/{number}/": {"get", "patch"},
    "/api/v1/policies/{policy_pk}/versions/{number}/submit/": {"post"},
    "/api/v1/policies/{policy_pk}/versions/{number}/diff/": {"get"},
    "/api/v1/policies/{policy_pk}/versions/{number}/pdf/": {"get", "post"},
    "/api/v1/policies/{policy_pk}/versions/{number}/comments/": {"get", "post"},
    "/api/v1/consent-rounds/": {"get", "post"},
    "/api/v1/consent-rounds/{id}/": {"get"},
    "/api/v1/consent-rounds/{id}/transition/": {"post"},
    "/api/v1/consent-rounds/{id}/history/": {"get"},
    "/api/v1/consent-rounds/{id}/voters/": {"post"},
    "/api/v1/consent-rounds/{id}/ballots/": {"get", "post"},
}


@pytest.fixture
def schema(api) -> dict:
    response = api("soumu").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_every_stage_3_endpoint_and_method_is_described(schema):
    for path, methods in STAGE_3_PATHS.items():
        assert path in schema["paths"], path
        assert set(schema["paths"][path]) - {"parameters"} == methods, path


def test_the_schema_describes_the_pdf_the_diff_and_paginated_lists(schema):
    paths = schema["paths"]
    pdf = paths["/api/v1/policies/{policy_pk}/versions/{number}/pdf/"]
    assert "application/pdf" in pdf["get"]["responses"]["200"]["content"]
    assert {"202", "409"} <= set(pdf["post"]["responses"])
    diff = paths["/api/v1/policies/{policy_pk}/versions/{number}/diff/"]["get"]
    assert any(p["name"] == "against" and p["required"] for p in diff["parameters"])
    for path in ("/api/v1/policies/{policy_pk}/versions/", "/api/v1/consent-rounds/{id}/ballots/"):
        ok = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ok.rsplit("/", 1)[-1].startswith("Paginated"), path
    history = paths["/api/v1/consent-rounds/{id}/history/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert history["schema"]["type"] == "array"
    record = schema["components"]["schemas"]["ConsentRecord"]["properties"]
    assert {"by", "at", "from", "to", "comment", "prev_hash", "hash"} <= set(record)
