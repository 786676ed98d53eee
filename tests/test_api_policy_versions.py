"""/api/v1/policies/{id}/versions/: drafts, submission, diff, PDF and comments, from the outside."""

import re

import pytest

from policies import actions
from policies.models import PolicyVersion, VersionComment, VersionPdf
from tests.api_helpers import get_user
from tests.api_policy_helpers import (
    COUNCIL,
    DRAFT_READERS,
    EVERYONE,
    accepted_candidate,
    closed_round,
    draft_policy,
    fill,
    next_version,
    open_round,
    policy_in,
    snapshot,
)
from tests.conftest import COMPLETE_BODY, COST_SHARING, SCHEDULE

pytestmark = pytest.mark.django_db

FIELDS = {
    "number", "body", "sections", "cost_sharing", "schedule", "revision", "frozen",
    "created_by", "created_at", "updated_at", "submitted_by", "submitted_at", "content_hash",
}
SECTIONS = ["目的と範囲", "対象システムと業務", "スケジュールとマイルストーン", "移行の考え方", "KPI"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def url(policy, number=None, suffix: str = "") -> str:
    base = f"/api/v1/policies/{policy.pk}/versions/"
    return base if number is None else f"{base}{number}/{suffix}"


def numbers(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


@pytest.fixture
def three_versions():
    """Version 1 was put to consent (not consented), version 2 is submitted, version 3 is a draft."""
    policy = policy_in("not_consented")
    next_version(policy, COMPLETE_BODY + "\n第2版の追記。")
    next_version(policy, submit=False)
    return policy


# Which versions of `three_versions` each role sees.
SEEN = {username: [1, 2, 3] if username in DRAFT_READERS else [1, 2] if username in COUNCIL else [1]
        for username in EVERYONE}


# --- who gets in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, number, suffix",
    [
        ("get", None, ""),
        ("post", None, ""),
        ("get", 1, ""),
        ("patch", 1, ""),
        ("post", 1, "submit/"),
        ("get", 1, "diff/?against=1"),
        ("get", 1, "pdf/"),
        ("post", 1, "pdf/"),
        ("get", 1, "comments/"),
        ("post", 1, "comments/"),
    ],
)
def test_anonymous_requests_get_401_and_change_nothing(api, method, number, suffix):
    policy = draft_policy(filled=True)
    before = snapshot()
    response = getattr(api(), method)(url(policy, number, suffix), {"body": "x", "section": "KPI"}, format="json")
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("username", EVERYONE)
def test_each_role_sees_exactly_the_versions_the_domain_allows(api, username, three_versions):
    client = api(username)
    assert numbers(client.get(url(three_versions))) == SEEN[username]
    for number in (1, 2, 3):
        expected = 200 if number in SEEN[username] else 404
        assert client.get(url(three_versions, number)).status_code == expected
        assert client.get(url(three_versions, number, "diff/?against=1")).status_code == expected
        assert client.get(url(three_versions, number, "comments/")).status_code == expected


@pytest.mark.parametrize("username", EVERYONE)
def test_the_list_and_the_detail_never_disagree(api, username, three_versions):
    client = api(username)
    listed = {row["number"]: row for row in client.get(url(three_versions)).json()["results"]}
    for number in (1, 2, 3, 4):
        detail = client.get(url(three_versions, number))
        assert detail.status_code == (200 if number in listed else 404)
        if number in listed:
            assert detail.json() == listed[number]


@pytest.mark.parametrize("username", EVERYONE)
def test_a_policys_only_draft_is_the_secretariats_and_the_owning_ministrys(api, username):
    policy = draft_policy()
    response = api(username).get(url(policy))
    if username in DRAFT_READERS:
        assert numbers(response) == [1]
    else:
        assert response.status_code == 404  # the policy itself is out of sight


@pytest.mark.parametrize("username", ["hokkaido", "sapporo"])
def test_local_officials_see_a_submitted_version_only_once_it_is_put_to_consent(api, username):
    policy = policy_in("submitted")
    assert api(username).get(url(policy, 1)).status_code == 404
    open_round(policy)
    assert api(username).get(url(policy, 1)).status_code == 200


def test_a_version_is_only_found_under_its_own_policy(api):
    mine, other = policy_in("submitted", "方針A"), policy_in("submitted", "方針B")
    next_version(mine)
    assert api("secretariat").get(url(other, 2)).status_code == 404
    assert api("secretariat").get("/api/v1/policies/999999/versions/").status_code == 404


def test_a_version_reads_with_its_sections_tables_and_freeze(api):
    policy = policy_in("submitted")
    body = api("chijikai").get(url(policy, 1)).json()
    assert set(body) == FIELDS
    assert body["number"] == 1 and body["frozen"] is True
    assert body["sections"] == SECTIONS
    assert body["cost_sharing"] == [{**row, "until": row.get("until")} for row in COST_SHARING]
    assert body["schedule"] == SCHEDULE
    assert re.fullmatch(r"[0-9a-f]{64}", body["content_hash"])
    assert body["content_hash"] == PolicyVersion.objects.get(policy=policy, number=1).compute_hash()
    assert body["created_by"]["username"] == body["submitted_by"]["username"] == "soumu"


def test_the_list_is_paginated_oldest_first(api, three_versions):
    body = api("soumu").get(url(three_versions)).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert [row["number"] for row in body["results"]] == [1, 2, 3]


@pytest.mark.parametrize("method", ["put", "delete"])
def test_versions_cannot_be_replaced_or_deleted(api, method):
    policy = draft_policy()
    before = snapshot()
    assert getattr(api("soumu"), method)(url(policy, 1), {"body": "x"}, format="json").status_code == 405
    assert snapshot() == before


# --- creating the next version ---------------------------------------------------------------


def test_the_next_version_starts_from_the_last_submitted_one(api):
    policy = policy_in("submitted")
    response = api("soumu").post(url(policy), {}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS
    assert (body["number"], body["frozen"], body["revision"], body["content_hash"]) == (2, False, 1, "")
    assert body["body"] == COMPLETE_BODY
    assert body["schedule"] == SCHEDULE
    assert body["submitted_at"] is None and body["submitted_by"] is None


def test_the_next_version_may_bring_its_own_content(api):
    policy = policy_in("not_consented")
    rows = [{"layer": "dpi", "item": "development", "payer": "state"}]
    schedule = [{"milestone": "改訂版の策定", "target_date": "2028-03-31"}]
    response = api("soumu").post(
        url(policy), {"body": "## 目的と範囲\n改訂。", "cost_sharing": rows, "schedule": schedule}, format="json")
    assert response.status_code == 201, response.content
    version = PolicyVersion.objects.get(policy=policy, number=2)
    assert (version.body, version.cost_sharing, version.schedule) == ("## 目的と範囲\n改訂。", rows, schedule)


def test_only_one_editable_draft_at_a_time(api):
    policy = draft_policy()
    before = snapshot()
    response = api("soumu").post(url(policy), {}, format="json")
    assert response.status_code == 409
    assert "第1版" in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("username, code", [
    ("secretariat", 403), ("mhlw", 403), ("chijikai", 403), ("shichokai", 403), ("chosonkai", 403),
    ("hokkaido", 404), ("sapporo", 404),
])
def test_only_the_owning_ministry_creates_versions(api, username, code):
    policy = policy_in("submitted")
    before = snapshot()
    assert api(username).post(url(policy), {}, format="json").status_code == code
    assert snapshot() == before


@pytest.mark.parametrize("stage", ["in_consent", "consented", "withdrawn"])
def test_no_new_version_once_the_policy_left_drafting(api, stage):
    policy = policy_in(stage)
    before = snapshot()
    assert api("soumu").post(url(policy), {}, format="json").status_code == 403
    assert snapshot() == before


def test_a_refusal_for_rights_comes_before_validation_when_creating(api):
    policy = policy_in("submitted")
    assert api("mhlw").post(url(policy), {"cost_sharing": "x"}, format="json").status_code == 403


def test_a_bad_new_version_is_a_400_and_creates_nothing(api):
    policy = policy_in("submitted")
    before = snapshot()
    response = api("soumu").post(url(policy), {"cost_sharing": [{"layer": "cloud", "item": "survey", "payer": "state"}]},
                                 format="json")
    assert response.status_code == 400
    assert "cost_sharing" in response.json()
    assert snapshot() == before


# --- editing a draft ---------------------------------------------------------------------------


def test_the_owning_ministry_edits_its_draft(api):
    policy = draft_policy()
    response = api("soumu").patch(
        url(policy, 1), {"body": COMPLETE_BODY, "cost_sharing": COST_SHARING, "schedule": SCHEDULE, "revision": 1},
        format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["body"], body["revision"], body["frozen"]) == (COMPLETE_BODY, 2, False)
    assert body["sections"] == SECTIONS
    version = PolicyVersion.objects.get(policy=policy, number=1)
    assert (version.cost_sharing, version.schedule, version.revision) == (COST_SHARING, SCHEDULE, 2)


def test_a_draft_can_be_saved_a_field_at_a_time(api):
    policy = draft_policy(filled=True)
    response = api("soumu").patch(url(policy, 1), {"schedule": [{"milestone": "運用開始", "target_date": "2029-04-01"}]},
                                  format="json")
    assert response.status_code == 200
    version = PolicyVersion.objects.get(policy=policy, number=1)
    assert version.body == COMPLETE_BODY and version.cost_sharing == COST_SHARING
    assert version.schedule == [{"milestone": "運用開始", "target_date": "2029-04-01"}]


def test_an_empty_until_is_dropped_and_dates_are_normalised(api):
    policy = draft_policy()
    rows = [{"layer": "common_saas", "item": "usage_fee", "payer": "local", "until": None}]
    schedule = [{"milestone": "  仕様確定  ", "target_date": "2027-04-01"}]
    assert api("soumu").patch(url(policy, 1), {"cost_sharing": rows, "schedule": schedule}, format="json").status_code == 200
    version = PolicyVersion.objects.get(policy=policy, number=1)
    assert version.cost_sharing == [{"layer": "common_saas", "item": "usage_fee", "payer": "local"}]
    assert version.schedule == [{"milestone": "仕様確定", "target_date": "2027-04-01"}]


def test_a_stale_revision_is_a_409_not_an_overwrite(api):
    policy = draft_policy()
    first, second = api("soumu"), api("soumu")
    assert first.patch(url(policy, 1), {"body": "最初の編集", "revision": 1}, format="json").status_code == 200
    before = snapshot()
    response = second.patch(url(policy, 1), {"body": "古い版からの編集", "revision": 1}, format="json")
    assert response.status_code == 409
    assert "改訂" in response.json()["detail"]
    assert snapshot() == before
    assert second.patch(url(policy, 1), {"body": "読み直して編集", "revision": 2}, format="json").status_code == 200


@pytest.mark.parametrize("stage", ["submitted", "in_consent", "consented"])
def test_a_submitted_version_is_frozen(api, stage):
    policy = policy_in(stage)
    before = snapshot()
    response = api("soumu").patch(url(policy, 1), {"body": "こっそり変更"}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("username, code", [
    ("secretariat", 403), ("mhlw", 403), ("chijikai", 403), ("hokkaido", 403), ("sapporo", 403),
])
def test_nobody_else_edits_a_version_they_can_see_not_even_a_frozen_one(api, username, code):
    # A refusal for rights comes before the conflict: they learn it is not theirs to edit.
    policy = policy_in("in_consent")
    before = snapshot()
    assert api(username).patch(url(policy, 1), {"body": "変更"}, format="json").status_code == code
    assert api(username).patch(url(policy, 1), {"cost_sharing": "x"}, format="json").status_code == code
    assert snapshot() == before


@pytest.mark.parametrize("username, code", [
    ("secretariat", 403), ("mhlw", 404), ("chijikai", 404), ("hokkaido", 404), ("sapporo", 404),
])
def test_nobody_else_edits_a_draft_and_most_cannot_even_find_it(api, username, code):
    policy = policy_in("submitted")
    next_version(policy, submit=False)
    before = snapshot()
    assert api(username).patch(url(policy, 2), {"body": "変更"}, format="json").status_code == code
    assert snapshot() == before


@pytest.mark.parametrize("username", ["mhlw", "chijikai", "sapporo"])
def test_a_policy_out_of_sight_is_404_for_every_write(api, username):
    policy = draft_policy(filled=True)
    before = snapshot()
    client = api(username)
    assert client.patch(url(policy, 1), {"body": "変更"}, format="json").status_code == 404
    assert client.post(url(policy), {}, format="json").status_code == 404
    assert client.post(url(policy, 1, "submit/"), format="json").status_code == 404
    assert client.post(url(policy, 1, "comments/"), {"body": "意見"}, format="json").status_code == 404
    assert snapshot() == before


def test_a_draft_of_a_withdrawn_policy_is_not_editable(api):
    policy = policy_in("withdrawn")
    before = snapshot()
    assert api("soumu").patch(url(policy, 1), {"body": "変更"}, format="json").status_code == 403
    assert snapshot() == before


ROW = {"layer": "common_saas", "item": "usage_fee", "payer": "local"}


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"cost_sharing": [{**ROW, "layer": "cloud"}]}, "cost_sharing"),
        ({"cost_sharing": [{**ROW, "item": "consulting"}]}, "cost_sharing"),
        ({"cost_sharing": [{**ROW, "payer": "everyone"}]}, "cost_sharing"),
        ({"cost_sharing": [{"layer": "dpi", "item": "survey"}]}, "cost_sharing"),
        ({"cost_sharing": [ROW, {**ROW, "payer": "state"}]}, "cost_sharing"),
        ({"cost_sharing": [{**ROW, "until": 2030}]}, "cost_sharing"),
        ({"cost_sharing": [{**ROW, "item": "initial_support", "until": 1999}]}, "cost_sharing"),
        ({"cost_sharing": [{**ROW, "item": "initial_support", "until": "来年"}]}, "cost_sharing"),
        ({"cost_sharing": [{**ROW, "item": "initial_support", "until": 2030.5}]}, "cost_sharing"),
        ({"cost_sharing": [["common_saas", "usage_fee", "local"]]}, "cost_sharing"),
        ({"cost_sharing": "common_saas"}, "cost_sharing"),
        ({"cost_sharing": {"layer": "dpi"}}, "cost_sharing"),
        ({"cost_sharing": None}, "cost_sharing"),
        ({"schedule": [{"target_date": "2027-03-31"}]}, "schedule"),
        ({"schedule": [{"milestone": "  ", "target_date": "2027-03-31"}]}, "schedule"),
        ({"schedule": [{"milestone": "仕様", "target_date": "2027-02-30"}]}, "schedule"),
        ({"schedule": [{"milestone": "仕様", "target_date": "令和9年3月"}]}, "schedule"),
        ({"schedule": [{"milestone": "仕様"}]}, "schedule"),
        ({"schedule": [{"milestone": "あ" * 201, "target_date": "2027-03-31"}]}, "schedule"),
        ({"schedule": "2027-03-31"}, "schedule"),
        ({"body": "あ" * 100_001}, "body"),
        ({"body": None}, "body"),
        ({"revision": 0}, "revision"),
        ({"revision": "x"}, "revision"),
    ],
)
def test_a_bad_draft_is_a_400_naming_the_field_and_saves_nothing(api, changes, field):
    policy = draft_policy(filled=True)
    before = snapshot()
    response = api("soumu").patch(url(policy, 1), changes, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert snapshot() == before


def test_a_body_of_exactly_100000_characters_is_accepted(api):
    policy = draft_policy()
    assert api("soumu").patch(url(policy, 1), {"body": "あ" * 100_000}, format="json").status_code == 200


def test_initial_support_may_have_a_fiscal_year_limit(api):
    policy = draft_policy()
    rows = [{"layer": "common_saas", "item": "initial_support", "payer": "state", "until": 2030}]
    response = api("soumu").patch(url(policy, 1), {"cost_sharing": rows}, format="json")
    assert response.status_code == 200
    assert response.json()["cost_sharing"] == rows


def test_read_only_fields_are_ignored(api):
    policy = draft_policy()
    response = api("soumu").patch(url(policy, 1), {"number": 7, "content_hash": "0" * 64, "frozen": True}, format="json")
    assert response.status_code == 200
    version = PolicyVersion.objects.get(policy=policy)
    assert (version.number, version.content_hash, version.is_frozen) == (1, "", False)


# --- submitting ------------------------------------------------------------------------------


def test_submitting_freezes_the_version_and_stores_its_hash(api):
    policy = draft_policy(filled=True)
    response = api("soumu").post(url(policy, 1, "submit/"), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["frozen"] is True
    assert re.fullmatch(r"[0-9a-f]{64}", body["content_hash"])
    assert body["submitted_at"] and body["submitted_by"]["username"] == "soumu"
    version = PolicyVersion.objects.get(policy=policy)
    assert version.content_hash == body["content_hash"] == version.compute_hash()
    # Submitted: the council sees it now, local officials not yet.
    assert api("mhlw").get(url(policy, 1)).status_code == 200
    assert api("chijikai").get(f"/api/v1/policies/{policy.pk}/").status_code == 200
    assert api("sapporo").get(url(policy, 1)).status_code == 404


def test_a_second_submit_is_a_409(api):
    policy = policy_in("submitted")
    before = snapshot()
    response = api("soumu").post(url(policy, 1, "submit/"), format="json")
    assert response.status_code == 409
    assert snapshot() == before


def test_submitting_an_incomplete_draft_is_a_400_naming_what_is_missing(api):
    policy = draft_policy()
    before = snapshot()
    response = api("soumu").post(url(policy, 1, "submit/"), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"body", "cost_sharing", "schedule"}
    assert all(title in response.json()["body"][0] for title in SECTIONS)
    assert snapshot() == before


def test_one_empty_section_is_enough_to_refuse_submission(api):
    policy = draft_policy(filled=True)
    api("soumu").patch(url(policy, 1), {"body": COMPLETE_BODY.replace("KPIの内容。", "")}, format="json")
    before = snapshot()
    response = api("soumu").post(url(policy, 1, "submit/"), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"body"}
    assert "KPI" in response.json()["body"][0] and "目的と範囲" not in response.json()["body"][0]
    assert snapshot() == before


@pytest.mark.parametrize("username, code", [
    ("secretariat", 403), ("mhlw", 404), ("chijikai", 404), ("sapporo", 404),
])
def test_only_the_owning_ministry_submits_its_draft(api, username, code):
    policy = draft_policy(filled=True)
    before = snapshot()
    assert api(username).post(url(policy, 1, "submit/"), format="json").status_code == code
    assert snapshot() == before


@pytest.mark.parametrize("username", ["secretariat", "mhlw", "chijikai", "sapporo"])
def test_a_refusal_for_rights_comes_before_the_conflict_on_submit(api, username):
    policy = policy_in("in_consent")
    before = snapshot()
    assert api(username).post(url(policy, 1, "submit/"), format="json").status_code == 403
    assert snapshot() == before


def test_submit_accepts_only_post(api):
    policy = draft_policy(filled=True)
    assert api("soumu").get(url(policy, 1, "submit/")).status_code == 405


# --- diff ---------------------------------------------------------------------------------------


def test_the_diff_marks_a_changed_japanese_character(api):
    old = COMPLETE_BODY.replace("目的と範囲の内容。", "全国の市区町村で共通SaaSを利用する。")
    policy = draft_policy()
    fill(policy.versions.get(), body=old)
    actions.submit_version(policy.versions.get(), get_user("soumu"))
    next_version(policy, old.replace("市区町村", "市町村").replace("KPI\nKPIの内容。", "KPI\nKPIの内容。\n- 利用率"),
                 submit=False)
    response = api("soumu").get(url(policy, 2, "diff/?against=1"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from"], body["to"]) == (1, 2)
    by_title = {s["title"]: s for s in body["sections"]}
    assert [s["title"] for s in body["sections"]] == SECTIONS
    purpose = by_title["目的と範囲"]
    assert purpose["status"] == "changed"
    assert purpose["lines"] == [[
        {"kind": "equal", "text": "全国の市"}, {"kind": "delete", "text": "区"},
        {"kind": "equal", "text": "町村で共通SaaSを利用する。"},
    ]]
    assert by_title["KPI"]["status"] == "changed"
    assert {"kind": "insert", "text": "- 利用率"} in [p for line in by_title["KPI"]["lines"] for p in line]
    assert by_title["移行の考え方"]["status"] == "unchanged"


def test_the_diff_shows_added_and_removed_sections(api):
    policy = policy_in("submitted")
    next_version(policy, COMPLETE_BODY.replace("## KPI", "## 指標") + "\n## 付録\n用語集", submit=False)
    sections = {s["title"]: s["status"] for s in api("soumu").get(url(policy, 2, "diff/?against=1")).json()["sections"]}
    assert sections["指標"] == "added" and sections["付録"] == "added" and sections["KPI"] == "removed"


@pytest.mark.parametrize("query", ["", "?against=", "?against=abc", "?against=-1", "?against=1.5"])
def test_the_diff_needs_a_version_number_to_compare_with(api, query):
    policy = policy_in("submitted")
    response = api("soumu").get(url(policy, 1, "diff/" + query))
    assert response.status_code == 400
    assert "against" in response.json()


def test_diffing_against_an_unknown_or_unseen_version_is_404(api, three_versions):
    assert api("soumu").get(url(three_versions, 2, "diff/?against=9")).status_code == 404
    assert api("mhlw").get(url(three_versions, 2, "diff/?against=3")).status_code == 404  # a draft
    assert api("sapporo").get(url(three_versions, 1, "diff/?against=2")).status_code == 404  # not put to consent
    assert api("mhlw").get(url(three_versions, 2, "diff/?against=1")).status_code == 200


# --- PDF ------------------------------------------------------------------------------------------


def test_a_submitted_versions_pdf_is_rendered_and_served(api):
    policy = policy_in("submitted")
    client = api("soumu")
    assert client.get(url(policy, 1, "pdf/")).status_code == 404  # not rendered yet
    response = client.post(url(policy, 1, "pdf/"), format="json")
    assert response.status_code == 202, response.content
    assert response.json() == {"status": "ready", "url": url(policy, 1, "pdf/")}  # Celery is eager in tests
    download = client.get(url(policy, 1, "pdf/"))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    # Asking again renders nothing new.
    assert client.post(url(policy, 1, "pdf/"), format="json").status_code == 202
    assert VersionPdf.objects.count() == 1


def test_a_client_that_asks_for_a_pdf_gets_it(api):
    policy = policy_in("submitted")
    client = api("chijikai")
    assert client.get(url(policy, 1, "pdf/"), HTTP_ACCEPT="application/pdf").status_code == 404
    client.post(url(policy, 1, "pdf/"), format="json")
    response = client.get(url(policy, 1, "pdf/"), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_draft_has_no_pdf(api):
    policy = draft_policy(filled=True)
    before = snapshot()
    assert api("soumu").post(url(policy, 1, "pdf/"), format="json").status_code == 409
    assert api("soumu").get(url(policy, 1, "pdf/")).status_code == 404
    assert snapshot() == before


def test_the_pdf_is_as_visible_as_the_version(api):
    policy = policy_in("submitted")
    api("soumu").post(url(policy, 1, "pdf/"), format="json")
    assert api("sapporo").get(url(policy, 1, "pdf/")).status_code == 404
    assert api("sapporo").post(url(policy, 1, "pdf/"), format="json").status_code == 404
    assert api("mhlw").get(url(policy, 1, "pdf/")).status_code == 200
    open_round(policy)
    assert api("sapporo").get(url(policy, 1, "pdf/")).status_code == 200


def test_after_the_round_closes_the_pdf_is_rendered_again_with_the_outcome(api):
    policy = policy_in("submitted")
    client = api("secretariat")
    client.post(url(policy, 1, "pdf/"), format="json")
    closed_round(policy)
    assert client.get(url(policy, 1, "pdf/")).status_code == 404  # the stored one lacks the outcome
    assert client.post(url(policy, 1, "pdf/"), format="json").json()["status"] == "ready"
    assert client.get(url(policy, 1, "pdf/")).status_code == 200
    assert VersionPdf.objects.count() == 2


# --- comments ------------------------------------------------------------------------------------


@pytest.mark.parametrize("username, organization", [
    ("secretariat", "digital"), ("chijikai", "chijikai"), ("shichokai", "shichokai"), ("chosonkai", "chosonkai"),
])
def test_the_secretariat_and_association_representatives_comment_on_a_section(api, username, organization):
    policy = policy_in("in_consent")
    response = api(username).post(url(policy, 1, "comments/"), {"section": "KPI", "body": "KPIの定義を明確に"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["section"], body["body"]) == ("KPI", "KPIの定義を明確に")
    assert body["author"]["username"] == username
    assert body["organization"]["code"] == organization
    assert VersionComment.objects.get().organization.code == organization


def test_a_comment_without_a_section_is_on_the_whole_version(api):
    policy = policy_in("submitted")
    response = api("chijikai").post(url(policy, 1, "comments/"), {"body": "全体として賛成"}, format="json")
    assert response.status_code == 201
    assert response.json()["section"] == ""


def test_the_secretariat_comments_on_a_draft_it_can_see(api):
    policy = draft_policy(filled=True)
    assert api("secretariat").post(url(policy, 1, "comments/"), {"section": "KPI", "body": "確認"},
                                   format="json").status_code == 201


@pytest.mark.parametrize("username", ["soumu", "mhlw", "hokkaido", "sapporo"])
def test_nobody_else_comments(api, username):
    policy = policy_in("in_consent")
    before = snapshot()
    client = api(username)
    assert client.post(url(policy, 1, "comments/"), {"section": "KPI", "body": "意見"}, format="json").status_code == 403
    assert client.post(url(policy, 1, "comments/"), {"body": ""}, format="json").status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"section": "存在しない節", "body": "意見"}, "section"),
        ({"section": "KPI"}, "body"),
        ({"section": "KPI", "body": ""}, "body"),
        ({"section": "KPI", "body": "あ" * 4001}, "body"),
        ({"section": "あ" * 201, "body": "意見"}, "section"),
    ],
)
def test_a_bad_comment_is_a_400_naming_the_field_and_saves_nothing(api, body, field):
    policy = policy_in("submitted")
    before = snapshot()
    response = api("chijikai").post(url(policy, 1, "comments/"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_comments_are_listed_oldest_first_for_whoever_sees_the_version(api):
    policy = policy_in("in_consent")
    for username, section in (("chijikai", "KPI"), ("secretariat", "目的と範囲"), ("chosonkai", "")):
        api(username).post(url(policy, 1, "comments/"), {"section": section, "body": f"{username}の意見"}, format="json")
    response = api("sapporo").get(url(policy, 1, "comments/"))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["organization"]["code"], r["section"], r["body"]) for r in rows] == [
        ("chijikai", "KPI", "chijikaiの意見"),
        ("digital", "目的と範囲", "secretariatの意見"),
        ("chosonkai", "", "chosonkaiの意見"),
    ]
    assert set(rows[0]) == {"id", "section", "body", "author", "organization", "created_at"}


def test_comments_stay_with_their_version(api):
    policy = policy_in("not_consented")
    api("chijikai").post(url(policy, 1, "comments/"), {"section": "KPI", "body": "第1版への意見"}, format="json")
    next_version(policy)
    assert api("soumu").get(url(policy, 2, "comments/")).json()["results"] == []
    assert len(api("soumu").get(url(policy, 1, "comments/")).json()["results"]) == 1


# --- the round-trip ----------------------------------------------------------------------------------


def test_a_ministry_drafts_and_submits_through_the_api_alone(api):
    client = api("soumu")
    policy_id = client.post("/api/v1/policies/", {"candidate": accepted_candidate().pk, "title": "方針"},
                            format="json").json()["id"]
    base = f"/api/v1/policies/{policy_id}/versions/"
    [draft] = client.get(base).json()["results"]
    assert draft["sections"] == SECTIONS and draft["revision"] == 1
    edited = client.patch(base + "1/", {"body": COMPLETE_BODY, "cost_sharing": COST_SHARING, "schedule": SCHEDULE,
                                         "revision": draft["revision"]}, format="json")
    assert edited.status_code == 200
    assert client.post(base + "1/submit/").json()["frozen"] is True
    assert client.post(base, {}, format="json").json()["number"] == 2
    assert [v["frozen"] for v in client.get(base).json()["results"]] == [True, False]
    assert [v["number"] for v in api("chijikai").get(base).json()["results"]] == [1]
