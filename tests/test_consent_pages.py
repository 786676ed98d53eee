"""The consent pages (stage 3): opening a round, the round page, closing it, ballots, and
the consent status page every signed-in user follows."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from policies import actions
from policies.models import Ballot, ConsentRecord, ConsentRound, Policy
from tenants.models import Membership, Role

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
ROLES = ("secretariat", "soumu", "mhlw", "chijikai", "sapporo", "hokkaido")


@pytest.fixture
def signed_in(client, demo_password):
    def login(username: str):
        client.logout()
        assert client.login(username=username, password=demo_password)
        return client

    return login


def url(name, *args):
    return reverse(f"policies:{name}", args=args)


def local_input(when) -> str:
    """A datetime as the datetime-local input sends it (Tokyo time, minutes)."""
    return when.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def open_round(submitted_policy, user):
    def make(ministry="soumu", days=7):
        policy = submitted_policy(ministry)
        return actions.open_round(policy.versions.get(), user("secretariat"), closes_at=timezone.now() + timedelta(days=days))

    return make


def closed(round_, user, choices=("consent", "consent", "consent")):
    comments = {"consent": "", "conditional_consent": "条件", "objection": "理由", "abstain": "理由"}
    for name, choice in zip(("chijikai", "shichokai", "chosonkai"), choices, strict=True):
        if choice:
            actions.cast_ballot(round_, user(name), choice=choice, comment=comments[choice])
    return actions.close_round(round_, user("secretariat"))


def past_closing(round_):
    ConsentRound.objects.filter(pk=round_.pk).update(closes_at=timezone.now() - timedelta(minutes=1))


# --- Who reaches which page ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, open_round):
    round_ = open_round()
    for path in (url("consent-status"), url("round-detail", round_.pk), url("ballot", round_.pk), url("round-new", round_.policy_id)):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    response = client.post(url("round-close", round_.pk))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post(url("ballot", round_.pk), {"choice": "consent"})
    assert response.status_code == 302 and not Ballot.objects.exists()
    assert ConsentRound.objects.get(pk=round_.pk).is_open


@pytest.mark.parametrize("username", ROLES)
def test_every_signed_in_user_follows_the_consent_status_and_the_rounds(signed_in, open_round, username):
    round_ = open_round()
    client = signed_in(username)
    assert client.get(url("consent-status")).status_code == 200
    assert client.get(url("round-detail", round_.pk)).status_code == 200


@pytest.mark.parametrize(
    "username, status",
    [("secretariat", 403), ("soumu", 403), ("mhlw", 403), ("chijikai", 200), ("sapporo", 403), ("hokkaido", 403)],
)
def test_only_representatives_of_voting_bodies_reach_the_ballot(signed_in, open_round, username, status):
    round_ = open_round()
    assert signed_in(username).get(url("ballot", round_.pk)).status_code == status


@pytest.mark.parametrize(
    "username, status",
    [("secretariat", 200), ("soumu", 403), ("mhlw", 403), ("chijikai", 403), ("sapporo", 404), ("hokkaido", 404)],
)
def test_only_the_secretariat_opens_rounds(signed_in, submitted_policy, username, status):
    policy = submitted_policy()
    client = signed_in(username)
    assert client.get(url("round-new", policy.pk)).status_code == status
    response = client.post(url("round-new", policy.pk), {"closes_at": local_input(timezone.now() + timedelta(days=3))})
    assert response.status_code == (302 if status == 200 else status)
    assert ConsentRound.objects.filter(policy=policy).exists() is (status == 200)


def test_an_unknown_round_is_404(signed_in):
    client = signed_in("chijikai")
    assert client.get(url("round-detail", 999_999)).status_code == 404
    assert client.post(url("ballot", 999_999), {"choice": "consent"}).status_code == 404


# --- Opening a round ------------------------------------------------------------------------------------------


def test_the_secretariat_opens_a_round_with_an_extra_voter(signed_in, submitted_policy, org):
    policy = submitted_policy()
    version = policy.versions.get()
    client = signed_in("secretariat")
    response = client.get(url("round-new", policy.pk))
    html = response.content.decode()
    assert 'type="datetime-local" name="closes_at"' in html
    assert html.count('type="checkbox" name="extra_voters"') == 3  # the three secretariat bodies
    assert version.content_hash in html and "全国知事会、全国市長会、全国町村会" in html
    closes = (timezone.now() + timedelta(days=10)).replace(second=0, microsecond=0)
    response = client.post(url("round-new", policy.pk), {"closes_at": local_input(closes), "extra_voters": [org("digital").pk]}, follow=True)
    round_ = ConsentRound.objects.get(policy=policy)
    assert response.redirect_chain[-1][0] == round_.get_absolute_url()
    assert "第1版の同意手続を開始しました。" in response.content.decode()
    assert round_.closes_at == closes and round_.version == version
    assert {v.organization.code for v in round_.voters.select_related("organization")} == {"chijikai", "shichokai", "chosonkai", "digital"}
    assert Policy.objects.get(pk=policy.pk).status == "in_consent"


@pytest.mark.parametrize("value", ["past", "now", "", "2026-13-45T10:00", "明日"])
def test_a_closing_time_that_is_not_in_the_future_is_a_field_error(signed_in, submitted_policy, value):
    policy = submitted_policy()
    when = {"past": timezone.now() - timedelta(hours=1), "now": timezone.now()}.get(value)
    response = signed_in("secretariat").post(url("round-new", policy.pk), {"closes_at": local_input(when) if when else value})
    html = response.content.decode()
    assert response.status_code == 200
    assert "closes_at" in response.context["form"].errors
    assert 'id="id_closes_at_error"' in html
    if value in ("past", "now"):
        assert "締切日時は現在より後にしてください。" in html
    assert not ConsentRound.objects.filter(policy=policy).exists()
    assert Policy.objects.get(pk=policy.pk).status == "drafting"


def test_a_round_on_a_policy_already_in_consent_is_refused(signed_in, open_round):
    round_ = open_round()
    client = signed_in("secretariat")
    assert "この方針は同意手続中です" in client.get(url("round-new", round_.policy_id)).content.decode()
    response = client.post(url("round-new", round_.policy_id), {"closes_at": local_input(timezone.now() + timedelta(days=3))})
    assert response.status_code == 409
    assert "この方針は同意手続中か、既に同意済み・取下げです。" in response.content.decode()
    assert ConsentRound.objects.filter(policy_id=round_.policy_id).count() == 1


def test_a_round_needs_a_submitted_version(signed_in, accepted_candidate, user):
    policy = actions.create_policy(accepted_candidate("soumu"), user("soumu"), title="下書きだけの方針")
    client = signed_in("secretariat")
    assert "提出済みの版がありません" in client.get(url("round-new", policy.pk)).content.decode()
    response = client.post(url("round-new", policy.pk), {"closes_at": local_input(timezone.now() + timedelta(days=3))})
    assert "提出済みの版がありません。" in str(response.context["form"].non_field_errors())
    assert not ConsentRound.objects.filter(policy=policy).exists()


# --- The round page -----------------------------------------------------------------------------------------------


def test_the_round_page_shows_voters_ballots_and_the_record_chain(signed_in, open_round, user):
    round_ = open_round()
    actions.cast_ballot(round_, user("shichokai"), choice="conditional_consent", comment="移行時期への配慮を明記すること。")
    html = signed_in("sapporo").get(url("round-detail", round_.pk)).content.decode()
    ballots = html.split('id="ballots-heading"', 1)[1].split("</section>", 1)[0]
    order = [ballots.index(name) for name in ("全国知事会", "全国市長会", "全国町村会")]
    assert order == sorted(order)  # the official order
    assert "条件付き同意" in ballots and "移行時期への配慮を明記すること。" in ballots and "全国市長会 代表者" in ballots
    assert ballots.count("未投票") == 2
    records = html.split('id="records-heading"', 1)[1]
    first = round_.records.get(seq=1)
    assert first.hash[:12] in records and "開始" in records and "全国市長会：条件付き同意" in records
    assert "記録の連鎖を検証済み" in records
    assert round_.version_hash in html and "受付中" in html
    assert "投票する" not in html and url("round-close", round_.pk) not in html


def test_the_round_page_offers_each_role_its_action(signed_in, open_round, user):
    round_ = open_round()
    html = signed_in("chijikai").get(url("round-detail", round_.pk)).content.decode()
    assert f'href="{url("ballot", round_.pk)}">投票する<' in html and url("round-close", round_.pk) not in html
    actions.cast_ballot(round_, user("chijikai"), choice="consent")
    assert ">投票を変更する<" in signed_in("chijikai").get(url("round-detail", round_.pk)).content.decode()
    html = signed_in("secretariat").get(url("round-detail", round_.pk)).content.decode()
    assert f'action="{url("round-close", round_.pk)}"' in html and url("ballot", round_.pk) not in html
    assert url("round-close", round_.pk) not in signed_in("soumu").get(url("round-detail", round_.pk)).content.decode()


def test_a_closed_round_shows_its_outcome_and_offers_nothing(signed_in, open_round, user):
    round_ = closed(open_round(), user, ("consent", "objection", "consent"))
    html = signed_in("chijikai").get(url("round-detail", round_.pk)).content.decode()
    assert 'class="outcome-panel outcome-panel--not_consented"' in html
    assert '<p class="outcome-panel__value">不同意</p>' in html and "デジタル庁 事務局が締め切りました" in html
    assert "投票する" not in html and "投票を変更する" not in html and url("round-close", round_.pk) not in html
    assert "結果：不同意" in html


def test_a_round_past_its_closing_time_says_so(signed_in, open_round):
    round_ = open_round()
    past_closing(round_)
    html = signed_in("chijikai").get(url("round-detail", round_.pk)).content.decode()
    assert "締切日時を過ぎました" in html and "投票する" not in html


# --- Closing ---------------------------------------------------------------------------------------------------------


def test_the_secretariat_closes_a_round(signed_in, open_round, user):
    round_ = open_round()
    for name in ("chijikai", "shichokai", "chosonkai"):
        actions.cast_ballot(round_, user(name), choice="consent")
    response = signed_in("secretariat").post(url("round-close", round_.pk), follow=True)
    assert "同意手続を締め切りました。結果は「同意」です。" in response.content.decode()
    round_.refresh_from_db()
    assert (round_.status, round_.outcome, round_.closed_by.username) == ("closed", "consented", "secretariat")
    assert Policy.objects.get(pk=round_.policy_id).status == "consented"


@pytest.mark.parametrize("username, status", [("soumu", 403), ("chijikai", 403), ("sapporo", 403)])
def test_only_the_secretariat_closes(signed_in, open_round, username, status):
    round_ = open_round()
    assert signed_in(username).post(url("round-close", round_.pk)).status_code == status
    assert ConsentRound.objects.get(pk=round_.pk).is_open


def test_closing_a_closed_round_is_a_conflict(signed_in, open_round, user):
    round_ = closed(open_round(), user)
    response = signed_in("secretariat").post(url("round-close", round_.pk))
    assert response.status_code == 409
    assert "この同意手続は既に終了しています。" in response.content.decode()
    assert ConsentRecord.objects.filter(round=round_, kind="closed").count() == 1


def test_close_is_post_only(signed_in, open_round):
    assert signed_in("secretariat").get(url("round-close", open_round().pk)).status_code == 405


# --- Ballots --------------------------------------------------------------------------------------------------------


def test_an_association_consents(signed_in, open_round):
    round_ = open_round()
    client = signed_in("chijikai")
    html = client.get(url("ballot", round_.pk)).content.decode()
    for value, label in (("consent", "同意"), ("conditional_consent", "条件付き同意"), ("objection", "異議"), ("abstain", "棄権")):
        assert f'type="radio" name="choice" value="{value}"' in html and label in html
    assert 'name="organization"' not in html  # one voting body: no question
    response = client.post(url("ballot", round_.pk), {"choice": "consent", "comment": ""}, follow=True)
    assert response.redirect_chain[-1][0] == round_.get_absolute_url()
    assert "全国知事会として「同意」を登録しました。" in response.content.decode()
    ballot = Ballot.objects.get(round=round_)
    assert (ballot.organization.code, ballot.choice, ballot.cast_by.username) == ("chijikai", "consent", "chijikai")


def test_an_association_changes_its_ballot_with_conditions(signed_in, open_round, user):
    round_ = open_round()
    actions.cast_ballot(round_, user("chijikai"), choice="consent")
    client = signed_in("chijikai")
    response = client.get(url("ballot", round_.pk))
    assert response.context["form"]["choice"].value() == "consent"
    assert "意思表示の変更" in response.content.decode()
    client.post(url("ballot", round_.pk), {"choice": "conditional_consent", "comment": "財政措置を講じること。"})
    ballot = Ballot.objects.get(round=round_)
    assert (ballot.choice, ballot.comment) == ("conditional_consent", "財政措置を講じること。")
    assert round_.records.filter(kind="ballot").count() == 2


@pytest.mark.parametrize("choice", ["conditional_consent", "objection", "abstain"])
@pytest.mark.parametrize("comment", ["", "   "])
def test_conditions_or_reasons_are_required_except_for_consent(signed_in, open_round, choice, comment):
    round_ = open_round()
    response = signed_in("chijikai").post(url("ballot", round_.pk), {"choice": choice, "comment": comment})
    html = response.content.decode()
    assert response.status_code == 200
    assert "comment" in response.context["form"].errors
    assert 'id="id_comment_error"' in html and "条件付き同意・異議・棄権には条件または理由を入力してください。" in html
    assert not Ballot.objects.exists()


@pytest.mark.parametrize("data, field", [({"choice": ""}, "choice"), ({"choice": "veto"}, "choice"), ({"choice": "consent", "comment": "あ" * 4001}, "comment")])
def test_a_bad_ballot_shows_the_error_next_to_the_field(signed_in, open_round, data, field):
    round_ = open_round()
    response = signed_in("chijikai").post(url("ballot", round_.pk), data)
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Ballot.objects.exists()


@pytest.mark.parametrize("username", ["secretariat", "soumu", "mhlw", "sapporo", "hokkaido"])
def test_a_ballot_by_a_non_representative_is_403(signed_in, open_round, username):
    round_ = open_round()
    assert signed_in(username).post(url("ballot", round_.pk), {"choice": "consent"}).status_code == 403
    assert not Ballot.objects.exists()


def test_a_ballot_after_the_close_is_a_conflict(signed_in, open_round, user):
    round_ = closed(open_round(), user, ("consent", None, None))
    client = signed_in("shichokai")
    assert client.get(url("ballot", round_.pk)).status_code == 409
    response = client.post(url("ballot", round_.pk), {"choice": "consent"})
    assert response.status_code == 409
    assert "この同意手続は終了しているか、締切日時を過ぎているため、投票できません。" in response.content.decode()
    assert not Ballot.objects.filter(round=round_, organization__code="shichokai").exists()


def test_a_ballot_past_the_closing_time_is_a_conflict(signed_in, open_round):
    round_ = open_round()
    past_closing(round_)
    response = signed_in("chijikai").post(url("ballot", round_.pk), {"choice": "consent"})
    assert response.status_code == 409
    assert not Ballot.objects.exists()


def test_a_representative_of_two_voting_bodies_chooses_which_one(signed_in, submitted_policy, user, org, django_user_model, demo_password):
    policy = submitted_policy()
    round_ = actions.open_round(policy.versions.get(), user("secretariat"), closes_at=timezone.now() + timedelta(days=7), extra_voters=[org("digital")])
    both = django_user_model.objects.create_user("both", password=demo_password)
    Membership(user=both, organization=org("chijikai"), role=Role.ASSOCIATION_REPRESENTATIVE).save()
    Membership(user=both, organization=org("digital"), role=Role.SECRETARIAT_STAFF).save()
    client = signed_in("both")
    html = client.get(url("ballot", round_.pk)).content.decode()
    assert '<select name="organization"' in html and "全国知事会" in html and "デジタル庁" in html
    response = client.post(url("ballot", round_.pk), {"choice": "consent"})
    assert "organization" in response.context["form"].errors and not Ballot.objects.exists()
    response = client.post(url("ballot", round_.pk), {"choice": "consent", "organization": org("shichokai").pk})
    assert "organization" in response.context["form"].errors and not Ballot.objects.exists()
    client.post(url("ballot", round_.pk), {"choice": "abstain", "comment": "利害関係のため", "organization": org("digital").pk})
    assert Ballot.objects.get(round=round_).organization.code == "digital"


# --- The consent status page -----------------------------------------------------------------------------------------


def test_a_municipal_official_sees_each_ballot_its_conditions_and_the_outcome(signed_in, open_round, user):
    consented = closed(open_round("soumu"), user, ("consent", "conditional_consent", "consent"))
    running = open_round("mhlw", days=5)
    actions.cast_ballot(running, user("chosonkai"), choice="objection", comment="町村の負担が大きい。")
    response = signed_in("sapporo").get(url("consent-status"))
    html = response.content.decode()
    assert [p.pk for p in response.context["policies"]] == [running.policy_id, consented.policy_id]  # latest first
    first = html.split(f'id="consent-{running.policy_id}"', 1)[1].split("</article>", 1)[0]
    assert 'badge--proposed">受付中<' in first
    closes = running.closes_at.astimezone(TOKYO)
    assert f"{closes.year}年{closes.month}月{closes.day}日 {closes:%H:%M}締切" in first
    assert "異議" in first and "町村の負担が大きい。" in first and first.count("未投票") == 2
    assert f'href="{url("version", running.policy_id, 1)}">第1版</a>' in first
    second = html.split(f'id="consent-{consented.policy_id}"', 1)[1].split("</article>", 1)[0]
    assert 'badge--done">同意<' in second and "条件付き同意" in second and "条件" in second


def test_drafts_never_appear(signed_in, submitted_policy, accepted_candidate, user):
    submitted = submitted_policy()
    draft = actions.create_policy(accepted_candidate("mhlw", title="下書き候補"), user("mhlw"), title="下書きの方針")
    for username in ("sapporo", "secretariat", "chijikai"):
        response = signed_in(username).get(url("consent-status"))
        html = response.content.decode()
        assert list(response.context["policies"]) == []
        assert f'id="consent-{submitted.pk}"' not in html and draft.title not in html
        assert "同意手続に付された方針はまだありません。" in html


def test_earlier_rounds_are_kept_under_the_policy(signed_in, open_round, user):
    first = closed(open_round(), user, ("consent", "objection", "consent"))
    policy = first.policy
    v2 = actions.create_version(policy, user("soumu"))
    actions.submit_version(v2, user("soumu"))
    second = actions.open_round(v2, user("secretariat"), closes_at=timezone.now() + timedelta(days=3))
    html = signed_in("hokkaido").get(url("consent-status")).content.decode()
    card = html.split(f'id="consent-{policy.pk}"', 1)[1].split("</article>", 1)[0]
    assert html.count(f'id="consent-{policy.pk}"') == 1
    assert "これまでの同意手続（1件）" in card
    assert card.index(second.get_absolute_url()) < card.index(first.get_absolute_url())
    assert 'badge--rejected">不同意<' in card


def test_the_consent_status_filters_by_the_latest_round(signed_in, open_round, user):
    consented = closed(open_round("soumu"), user)
    refused = closed(open_round("mhlw"), user, ("consent", "abstain", "consent"))
    running = open_round("cfa")
    client = signed_in("sapporo")
    listed = lambda query: {p.pk for p in client.get(url("consent-status"), query).context["policies"]}  # noqa: E731
    assert listed({"status": "open"}) == {running.policy_id}
    assert listed({"status": "closed"}) == {consented.policy_id, refused.policy_id}
    assert listed({"outcome": "consented"}) == {consented.policy_id}
    assert listed({"outcome": "not_consented"}) == {refused.policy_id}
    assert listed({"status": "open", "outcome": "consented"}) == set()
    assert "条件に合う方針はありません" in client.get(url("consent-status"), {"status": "open", "outcome": "consented"}).content.decode()


def test_the_consent_status_reads_in_constant_queries(signed_in, open_round, user, django_assert_max_num_queries):
    client = signed_in("sapporo")
    closed(open_round(), user, ("consent", "conditional_consent", "consent"))
    open_round()
    client.get(url("consent-status"))  # warm the per-process caches
    with CaptureQueriesContext(connection) as few:
        client.get(url("consent-status"))
    for _ in range(3):
        closed(open_round(), user, ("objection", "consent", None))
        running = open_round()
        actions.cast_ballot(running, user("chijikai"), choice="abstain", comment="理由")
    with django_assert_max_num_queries(len(few)):
        response = client.get(url("consent-status"))
    assert len(response.context["policies"]) == 8
