"""/api/v1/consent-rounds/: opening and closing rounds, voters, ballots and the hash-chained
history, from the outside."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import council.sql
import policies.models
from policies import tasks
from policies.actions import GENESIS
from policies.models import Ballot, ConsentRecord, ConsentRound, Policy
from tests.api_helpers import org
from tests.api_policy_helpers import (
    ASSOCIATIONS,
    EVERYONE,
    closed_round,
    next_version,
    open_round,
    policy_in,
    snapshot,
    vote,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/consent-rounds/"
FIELDS = {
    "id", "policy", "version", "version_hash", "status", "outcome", "closes_at",
    "opened_at", "closed_at", "closed_by", "voters", "ballots",
}
BALLOT_FIELDS = {"organization", "choice", "comment", "cast_by", "cast_at"}
NOT_VOTERS = ("secretariat", "soumu", "mhlw", "hokkaido", "sapporo")


def url(round_=None, suffix: str = "") -> str:
    return URL if round_ is None else f"{URL}{round_.pk}/{suffix}"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def in_a_week() -> str:
    return (timezone.now() + timedelta(days=7)).isoformat()


def new_round_body(policy: Policy, **overrides) -> dict:
    version = policy.versions.filter(submitted_at__isnull=False).order_by("-number").first()
    return {"policy_version": version.pk, "closes_at": in_a_week(), **overrides}


def cast(client, round_, choice, comment="", **extra):
    return client.post(url(round_, "ballots/"), {"choice": choice, "comment": comment, **extra}, format="json")


def close(client, round_, to="closed", comment="締切"):
    return client.post(url(round_, "transition/"), {"to": to, "comment": comment}, format="json")


def codes(rows) -> list[str]:
    return [row["code"] for row in rows]


# --- who gets in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, suffix, detail",
    [
        ("get", "", False),
        ("post", "", False),
        ("get", "", True),
        ("post", "transition/", True),
        ("get", "history/", True),
        ("post", "voters/", True),
        ("get", "ballots/", True),
        ("post", "ballots/", True),
    ],
)
def test_anonymous_requests_get_401_and_change_nothing(api, method, suffix, detail):
    policy = policy_in("submitted")
    round_ = open_round(policy)
    before = snapshot()
    body = {**new_round_body(policy), "to": "closed", "choice": "consent", "organization": org("digital").pk}
    response = getattr(api(), method)(url(round_ if detail else None, suffix), body, format="json")
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("username", EVERYONE)
def test_every_signed_in_user_follows_every_round_with_voters_and_ballots(api, username):
    open_policy, closed_policy = policy_in("submitted", "受付中の方針"), policy_in("submitted", "終了した方針")
    ongoing = open_round(open_policy)
    vote(ongoing, "conditional_consent")
    finished = closed_round(closed_policy, "consent", "objection", "consent")
    client = api(username)
    listed = {row["id"]: row for row in client.get(url()).json()["results"]}
    assert set(listed) == {ongoing.pk, finished.pk}
    for round_ in (ongoing, finished):
        detail = client.get(url(round_))
        assert detail.status_code == 200
        assert detail.json() == listed[round_.pk]
        assert set(detail.json()) == FIELDS
        assert codes(detail.json()["voters"]) == ["chijikai", "chosonkai", "shichokai"]
    assert listed[ongoing.pk]["status"] == "open" and listed[ongoing.pk]["outcome"] == ""
    assert [(b["organization"]["code"], b["choice"]) for b in listed[ongoing.pk]["ballots"]] == [
        ("chijikai", "conditional_consent")]
    assert (listed[finished.pk]["status"], listed[finished.pk]["outcome"]) == ("closed", "not_consented")
    assert client.get(url(ongoing, "ballots/")).status_code == 200
    assert client.get(url(ongoing, "history/")).status_code == 200


def test_rounds_are_out_of_sight_with_their_policy(api, monkeypatch):
    # No signed-in user can miss a policy put to consent today, so narrow visibility to
    # check that rounds follow their policy's rather than being open to all.
    round_ = open_round(policy_in("submitted"))
    monkeypatch.setattr(type(Policy.objects.all()), "visible_to", lambda self, user: self.none())
    # The rule itself, as the lists' compiled id subquery reads it (a fresh compilation).
    monkeypatch.setattr(policies.models, "_policy_visibility", lambda council_member, user_pk: Q(pk__in=[]))
    monkeypatch.setattr(council.sql, "_per_user", {})
    client = api("chijikai")
    assert ids(client.get(url())) == set()
    for suffix in ("", "ballots/", "history/"):
        assert client.get(url(round_, suffix)).status_code == 404
    assert cast(client, round_, "consent").status_code == 404
    assert not Ballot.objects.exists()


def test_a_missing_round_is_404(api):
    assert api("secretariat").get(url() + "999999/").status_code == 404


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_rounds_cannot_be_edited_or_deleted(api, method):
    round_ = open_round(policy_in("submitted"))
    before = snapshot()
    response = getattr(api("secretariat"), method)(url(round_), {"closes_at": in_a_week()}, format="json")
    assert response.status_code == 405
    assert snapshot() == before


def test_a_round_reads_with_its_policy_version_and_hash(api):
    policy = policy_in("submitted")
    round_ = open_round(policy)
    body = api("sapporo").get(url(round_)).json()
    version = policy.versions.get()
    assert body["policy"]["id"] == policy.pk and body["policy"]["status"] == "in_consent"
    assert body["version"] == {"id": version.pk, "number": 1, "content_hash": version.content_hash}
    assert body["version_hash"] == version.content_hash
    assert (body["closed_at"], body["closed_by"], body["ballots"]) == (None, None, [])


# --- opening a round ---------------------------------------------------------------------------


def test_the_secretariat_puts_the_latest_submitted_version_to_consent(api):
    policy = policy_in("submitted")
    response = api("secretariat").post(url(), new_round_body(policy), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS
    assert (body["status"], body["outcome"], body["version"]["number"]) == ("open", "", 1)
    assert codes(body["voters"]) == ["chijikai", "chosonkai", "shichokai"]
    policy.refresh_from_db()
    assert policy.status == "in_consent"
    assert [r.kind for r in ConsentRound.objects.get().records.all()] == ["opened"] + ["voter_added"] * 3
    # Now everyone sees the policy and the version put to consent.
    assert api("sapporo").get(f"/api/v1/policies/{policy.pk}/versions/1/").status_code == 200


def test_a_secretariat_body_may_be_granted_consent_rights_at_opening(api):
    policy = policy_in("submitted")
    response = api("secretariat").post(url(), new_round_body(policy, voters=[org("digital").pk]), format="json")
    assert response.status_code == 201, response.content
    assert codes(response.json()["voters"]) == ["chijikai", "chosonkai", "digital", "shichokai"]


@pytest.mark.parametrize("username", [u for u in EVERYONE if u != "secretariat"])
def test_only_the_secretariat_opens_a_round_whatever_the_body(api, username):
    policy = policy_in("submitted")
    before = snapshot()
    client = api(username)
    assert client.post(url(), new_round_body(policy), format="json").status_code == 403
    assert client.post(url(), {"closes_at": "昨日"}, format="json").status_code == 403
    assert snapshot() == before


def test_a_draft_cannot_be_put_to_consent(api):
    policy = policy_in("draft")
    before = snapshot()
    body = {"policy_version": policy.versions.get().pk, "closes_at": in_a_week()}
    response = api("secretariat").post(url(), body, format="json")
    assert response.status_code == 400
    assert "policy_version" in response.json()
    assert snapshot() == before


def test_only_the_latest_submitted_version_is_put_to_consent(api):
    policy = policy_in("not_consented")
    next_version(policy)
    before = snapshot()
    body = {"policy_version": policy.versions.get(number=1).pk, "closes_at": in_a_week()}
    response = api("secretariat").post(url(), body, format="json")
    assert response.status_code == 400
    assert "第2版" in response.json()["policy_version"][0]
    assert snapshot() == before


def test_a_newer_draft_does_not_stop_the_latest_submitted_version_going_to_consent(api):
    policy = policy_in("submitted")
    next_version(policy, submit=False)
    response = api("secretariat").post(url(), new_round_body(policy), format="json")
    assert response.status_code == 201
    assert response.json()["version"]["number"] == 1


@pytest.mark.parametrize("closes_at", [
    lambda: (timezone.now() - timedelta(minutes=1)).isoformat(),
    lambda: timezone.now().date().isoformat() + "T00:00:00+09:00",
])
def test_a_closing_time_in_the_past_is_a_400(api, closes_at):
    policy = policy_in("submitted")
    before = snapshot()
    response = api("secretariat").post(url(), new_round_body(policy, closes_at=closes_at()), format="json")
    assert response.status_code == 400
    assert "closes_at" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"closes_at": "来週"}, "closes_at"),
        ({"closes_at": None}, "closes_at"),
        ({"policy_version": 99999999}, "policy_version"),
        ({"policy_version": None}, "policy_version"),
        ({"voters": [99999999]}, "voters"),
        ({"voters": "digital"}, "voters"),
    ],
)
def test_a_bad_round_is_a_400_naming_the_field_and_saves_nothing(api, overrides, field):
    policy = policy_in("submitted")
    before = snapshot()
    response = api("secretariat").post(url(), new_round_body(policy, **overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("voters", [["chijikai"], ["soumu"], ["011002"], ["digital", "digital"]])
def test_extra_voters_must_be_secretariat_bodies_not_yet_voting(api, voters):
    policy = policy_in("submitted")
    before = snapshot()
    body = new_round_body(policy, voters=[org(code).pk for code in voters])
    response = api("secretariat").post(url(), body, format="json")
    assert response.status_code == 400
    assert "voters" in response.json()
    assert snapshot() == before


def test_a_second_open_round_for_the_same_policy_is_a_409(api):
    policy = policy_in("in_consent")
    before = snapshot()
    response = api("secretariat").post(url(), new_round_body(policy), format="json")
    assert response.status_code == 409
    assert response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("stage", ["consented", "withdrawn_after_submission"])
def test_a_consented_or_withdrawn_policy_is_not_put_to_consent_again(api, stage):
    if stage == "withdrawn_after_submission":
        policy = policy_in("submitted")
        api("soumu").post(f"/api/v1/policies/{policy.pk}/transition/", {"to": "withdrawn"}, format="json")
    else:
        policy = policy_in(stage)
    before = snapshot()
    assert api("secretariat").post(url(), new_round_body(policy), format="json").status_code == 409
    assert snapshot() == before


def test_a_policy_not_consented_goes_to_a_new_round_with_its_next_version(api):
    policy = policy_in("not_consented")
    next_version(policy)
    response = api("secretariat").post(url(), new_round_body(policy), format="json")
    assert response.status_code == 201
    assert response.json()["version"]["number"] == 2
    assert ids(api("sapporo").get(url() + f"?policy={policy.pk}")) == set(
        ConsentRound.objects.filter(policy=policy).values_list("pk", flat=True))


# --- ballots -------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ASSOCIATIONS)
def test_each_association_votes_for_itself(api, username):
    round_ = open_round(policy_in("submitted"))
    response = cast(api(username), round_, "conditional_consent", "移行時期に配慮すること")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == BALLOT_FIELDS
    assert (body["organization"]["code"], body["choice"], body["comment"]) == (
        username, "conditional_consent", "移行時期に配慮すること")
    assert body["cast_by"]["username"] == username
    assert Ballot.objects.get(round=round_).organization.code == username


def test_changing_a_ballot_keeps_one_row_and_records_every_change(api):
    round_ = open_round(policy_in("submitted"))
    client = api("chijikai")
    assert cast(client, round_, "objection", "財源が不明確").status_code == 200
    assert cast(client, round_, "consent").status_code == 200
    [ballot] = Ballot.objects.filter(round=round_)
    assert (ballot.choice, ballot.comment) == ("consent", "")
    records = round_.records.filter(kind="ballot")
    assert [(r.payload["choice"], r.payload["comment"]) for r in records] == [("objection", "財源が不明確"), ("consent", "")]
    listed = api("sapporo").get(url(round_, "ballots/")).json()
    assert listed["count"] == 1
    assert listed["results"][0]["choice"] == "consent"


@pytest.mark.parametrize("choice", ["conditional_consent", "objection", "abstain"])
@pytest.mark.parametrize("comment", [None, "", "   "])
def test_conditions_or_reasons_are_required(api, choice, comment):
    round_ = open_round(policy_in("submitted"))
    before = snapshot()
    body = {"choice": choice} if comment is None else {"choice": choice, "comment": comment}
    response = api("shichokai").post(url(round_, "ballots/"), body, format="json")
    assert response.status_code == 400
    assert "comment" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("body, field", [
    ({"choice": "maybe", "comment": "x"}, "choice"),
    ({"choice": "", "comment": "x"}, "choice"),
    ({"comment": "x"}, "choice"),
    ({"choice": "objection", "comment": "あ" * 4001}, "comment"),
    ({"choice": "consent", "organization": 99999999}, "organization"),
])
def test_a_bad_ballot_is_a_400_naming_the_field(api, body, field):
    round_ = open_round(policy_in("submitted"))
    before = snapshot()
    response = api("chosonkai").post(url(round_, "ballots/"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("username", NOT_VOTERS)
def test_only_representatives_of_voting_bodies_vote(api, username):
    round_ = open_round(policy_in("submitted"))
    before = snapshot()
    client = api(username)
    assert cast(client, round_, "consent").status_code == 403
    assert cast(client, round_, "maybe").status_code == 403  # a refusal for rights comes before validation
    assert snapshot() == before


def test_an_association_may_not_vote_for_another(api):
    round_ = open_round(policy_in("submitted"))
    before = snapshot()
    assert cast(api("chijikai"), round_, "consent", organization=org("shichokai").pk).status_code == 403
    assert snapshot() == before


def test_a_secretariat_body_granted_rights_votes_and_counts(api):
    policy = policy_in("submitted")
    round_ = open_round(policy, extra_voters=["digital"])
    vote(round_, "consent", "consent", "consent")
    secretariat = api("secretariat")
    assert close(secretariat, round_).json()["outcome"] == "not_consented"  # デジタル庁 did not vote
    next_version(policy)
    second = open_round(policy, extra_voters=["digital"])
    vote(second, "consent", "consent", "consent")
    response = cast(secretariat, second, "consent")
    assert response.status_code == 200
    assert response.json()["organization"]["code"] == "digital"
    assert close(secretariat, second).json()["outcome"] == "consented"


def test_no_ballot_is_changed_after_the_round_closed(api):
    round_ = closed_round(policy_in("submitted"), "consent", "consent", "consent")
    before = snapshot()
    response = cast(api("chijikai"), round_, "objection", "遅れて反対")
    assert response.status_code == 409
    assert response.json()["detail"]
    assert snapshot() == before


def test_no_ballot_is_cast_after_the_closing_time_even_before_the_beat_closes_the_round(api):
    round_ = open_round(policy_in("submitted"))
    ConsentRound.objects.filter(pk=round_.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    before = snapshot()
    assert cast(api("chijikai"), round_, "consent").status_code == 409
    assert snapshot() == before


def test_ballots_accept_only_get_and_post(api):
    round_ = open_round(policy_in("submitted"))
    assert api("chijikai").put(url(round_, "ballots/"), {"choice": "consent"}, format="json").status_code == 405


# --- closing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("choices", [
    ("consent", "consent", "consent"),
    ("consent", "conditional_consent", "conditional_consent"),
])
def test_closing_with_every_body_consenting_is_consented(api, choices):
    policy = policy_in("submitted")
    round_ = open_round(policy)
    for username, choice in zip(ASSOCIATIONS, choices, strict=True):
        assert cast(api(username), round_, choice, "" if choice == "consent" else "条件").status_code == 200
    response = close(api("secretariat"), round_, comment="全団体の同意を確認")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == FIELDS
    assert (body["status"], body["outcome"], body["closed_by"]["username"]) == ("closed", "consented", "secretariat")
    assert body["closed_at"]
    assert body["policy"]["status"] == "consented"
    assert api("sapporo").get(f"/api/v1/policies/{policy.pk}/").json()["status"] == "consented"


@pytest.mark.parametrize("choices", [
    ("consent", "objection", "consent"),
    ("consent", "abstain", "consent"),
    ("consent", "consent"),  # 町村会 did not vote
    (),
])
def test_closing_with_an_objection_an_abstention_or_a_missing_ballot_is_not_consented(api, choices):
    policy = policy_in("submitted")
    round_ = open_round(policy)
    for username, choice in zip(ASSOCIATIONS, choices, strict=False):
        cast(api(username), round_, choice, "" if choice == "consent" else "理由")
    response = close(api("secretariat"), round_)
    assert response.status_code == 200
    assert (response.json()["outcome"], response.json()["policy"]["status"]) == ("not_consented", "drafting")
    # Back in drafting: the ministry may revise it.
    assert api("soumu").post(f"/api/v1/policies/{policy.pk}/versions/", {}, format="json").status_code == 201


def test_a_second_close_is_a_409_and_changes_nothing(api):
    round_ = closed_round(policy_in("submitted"))
    before = snapshot()
    response = close(api("secretariat"), round_)
    assert response.status_code == 409
    assert (response.json()["from"], response.json()["to"]) == ("closed", "closed")
    assert snapshot() == before


@pytest.mark.parametrize("stage", ["open", "closed"])
def test_a_round_never_moves_back_to_open(api, stage):
    # A round only moves from open to closed: asking for `open` is a 409 like any move the
    # state table does not allow (not a 400: `open` is a state of rounds).
    round_ = open_round(policy_in("submitted"))
    if stage == "closed":
        close(api("secretariat"), round_)
    before = snapshot()
    response = close(api("secretariat"), round_, to="open")
    assert response.status_code == 409
    assert (response.json()["from"], response.json()["to"]) == (stage, "open")
    assert snapshot() == before


@pytest.mark.parametrize("to", ["", "cancelled", None, "Closed"])
def test_an_unknown_target_state_is_a_400_naming_to(api, to):
    round_ = open_round(policy_in("submitted"))
    before = snapshot()
    response = close(api("secretariat"), round_, to=to)
    assert response.status_code == 400
    assert "to" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("username", [u for u in EVERYONE if u != "secretariat"])
def test_only_the_secretariat_closes_a_round_whatever_the_body(api, username):
    round_ = open_round(policy_in("submitted"))
    vote(round_, "consent", "consent", "consent")
    before = snapshot()
    assert close(api(username), round_).status_code == 403
    assert close(api(username), round_, to="bogus").status_code == 403
    assert snapshot() == before


def test_transition_accepts_only_post_and_history_only_get(api):
    round_ = open_round(policy_in("submitted"))
    client = api("secretariat")
    assert client.get(url(round_, "transition/")).status_code == 405
    assert client.post(url(round_, "history/"), {}, format="json").status_code == 405


# --- voters ---------------------------------------------------------------------------------------


def test_the_secretariat_grants_a_secretariat_body_consent_rights(api):
    round_ = open_round(policy_in("submitted"))
    response = api("secretariat").post(url(round_, "voters/"), {"organization": org("mic-lab").pk}, format="json")
    assert response.status_code == 201, response.content
    assert codes(response.json()["voters"]) == ["chijikai", "chosonkai", "mic-lab", "shichokai"]
    assert round_.records.order_by("-seq").first().kind == "voter_added"


@pytest.mark.parametrize("code", ["chijikai", "soumu", "011002"])
def test_only_secretariat_bodies_not_yet_voting_are_granted_rights(api, code):
    round_ = open_round(policy_in("submitted"))
    before = snapshot()
    response = api("secretariat").post(url(round_, "voters/"), {"organization": org(code).pk}, format="json")
    assert response.status_code == 400
    assert "organization" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("body", [{}, {"organization": 99999999}, {"organization": None}])
def test_a_bad_voter_is_a_400(api, body):
    round_ = open_round(policy_in("submitted"))
    before = snapshot()
    response = api("secretariat").post(url(round_, "voters/"), body, format="json")
    assert response.status_code == 400
    assert "organization" in response.json()
    assert snapshot() == before


def test_granting_rights_twice_is_a_400(api):
    round_ = open_round(policy_in("submitted"), extra_voters=["digital"])
    before = snapshot()
    response = api("secretariat").post(url(round_, "voters/"), {"organization": org("digital").pk}, format="json")
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("username", [u for u in EVERYONE if u != "secretariat"])
def test_only_the_secretariat_grants_rights(api, username):
    round_ = open_round(policy_in("submitted"))
    before = snapshot()
    client = api(username)
    assert client.post(url(round_, "voters/"), {"organization": org("digital").pk}, format="json").status_code == 403
    assert client.post(url(round_, "voters/"), {}, format="json").status_code == 403
    assert snapshot() == before


def test_no_rights_are_granted_in_a_closed_round(api):
    round_ = closed_round(policy_in("submitted"))
    before = snapshot()
    response = api("secretariat").post(url(round_, "voters/"), {"organization": org("digital").pk}, format="json")
    assert response.status_code == 409
    assert snapshot() == before


# --- history ----------------------------------------------------------------------------------------


def test_the_history_is_the_hash_chain_in_order(api):
    round_ = open_round(policy_in("submitted"), extra_voters=["digital"])
    cast(api("chijikai"), round_, "objection", "財源が不明確")
    cast(api("chijikai"), round_, "conditional_consent", "財源の明記")
    close(api("secretariat"), round_, comment="期限到来")
    response = api("sapporo").get(url(round_, "history/"))
    assert response.status_code == 200
    rows = response.json()
    assert isinstance(rows, list)  # not paginated, as every workflow object's history
    assert [r["kind"] for r in rows] == ["opened"] + ["voter_added"] * 4 + ["ballot", "ballot", "closed"]
    assert [r["seq"] for r in rows] == list(range(1, 9))
    assert rows[0]["prev_hash"] == GENESIS
    for previous, row in zip(rows, rows[1:], strict=False):
        assert row["prev_hash"] == previous["hash"]
        assert previous["at"] <= row["at"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", row["hash"]) for row in rows)
    assert [r["hash"] for r in rows] == list(round_.records.order_by("seq").values_list("hash", flat=True))
    # Read as a workflow history too: who, when, from, to, comment.
    assert {"by", "at", "from", "to", "comment"} <= set(rows[0])
    assert [(r["from"], r["to"]) for r in (rows[0], rows[-1])] == [(None, "open"), ("open", "closed")]
    assert rows[5]["from"] is rows[5]["to"] is None
    assert [r["comment"] for r in rows[5:]] == ["財源が不明確", "財源の明記", "期限到来"]
    assert rows[0]["by"]["username"] == "secretariat" and rows[5]["by"]["username"] == "chijikai"
    assert rows[0]["payload"]["version_hash"] == round_.version_hash
    assert rows[-1]["payload"]["outcome"] == "not_consented"


def test_a_round_closed_at_its_closing_time_has_no_closer(api):
    round_ = open_round(policy_in("submitted"))
    vote(round_, "consent", "consent", "consent")
    ConsentRound.objects.filter(pk=round_.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    tasks.close_due_rounds()
    body = api("secretariat").get(url(round_)).json()
    assert (body["status"], body["outcome"], body["closed_by"]) == ("closed", "consented", None)
    last = api("secretariat").get(url(round_, "history/")).json()[-1]
    assert (last["kind"], last["by"]) == ("closed", None)


def test_the_history_verifies_after_rounds_run_through_the_api(api):
    policy = policy_in("submitted")
    created = api("secretariat").post(url(), new_round_body(policy), format="json").json()
    round_ = ConsentRound.objects.get(pk=created["id"])
    for username, choice in zip(ASSOCIATIONS, ("consent", "abstain", "consent"), strict=True):
        cast(api(username), round_, choice, "理由")
    close(api("secretariat"), round_)
    out = StringIO()
    call_command("verify_consent_records", stdout=out)
    assert "1 rounds verified" in out.getvalue()
    assert ConsentRecord.objects.filter(round=round_).count() == 1 + 3 + 3 + 1


# --- filters and query counts ----------------------------------------------------------------------


def test_it_filters_by_status_outcome_and_policy(api):
    ongoing = open_round(policy_in("submitted", "受付中"))
    consented = closed_round(policy_in("submitted", "同意"), "consent", "consent", "consent")
    refused = closed_round(policy_in("submitted", "不同意"), "objection")
    client = api("chijikai")
    assert ids(client.get(url() + "?status=open")) == {ongoing.pk}
    assert ids(client.get(url() + "?outcome=consented")) == {consented.pk}
    assert ids(client.get(url() + "?outcome=not_consented")) == {refused.pk}
    assert ids(client.get(url() + f"?policy={refused.policy_id}")) == {refused.pk}


@pytest.mark.parametrize("query, field", [("?status=paused", "status"), ("?outcome=yes", "outcome"),
                                          ("?policy=abc", "policy")])
def test_a_bad_filter_is_a_400_naming_it(api, query, field):
    response = api("secretariat").get(url() + query)
    assert response.status_code == 400
    assert field in response.json()


def make_rounds(count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        policy = policy_in("submitted", f"方針 {n:02d}")
        if n % 2:
            closed_round(policy, "consent", "conditional_consent", "consent")
        else:
            vote(open_round(policy, extra_voters=["digital"]), "objection", "consent")


@pytest.mark.parametrize("username", ["secretariat", "chijikai", "sapporo"])
def test_the_list_reads_in_constant_queries(api, username, django_assert_max_num_queries):
    client = api(username)
    make_rounds(2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url()).status_code == 200
    make_rounds(6, start=2)
    # token and memberships, count, page (policy, ministry, candidate, version, closer joined),
    # ballots, voters, their organizations, the ballots' casters
    with django_assert_max_num_queries(7):
        response = client.get(url())
    assert response.json()["count"] == 8
    with CaptureQueriesContext(connection) as many:
        client.get(url())
    assert len(many) == len(few)


def test_the_detail_reads_in_constant_queries(api, django_assert_max_num_queries):
    make_rounds(4)
    round_ = ConsentRound.objects.first()
    client = api("sapporo")
    with django_assert_max_num_queries(5):  # token, memberships, round, ballots, voters
        assert client.get(url(round_)).status_code == 200
