"""The policy pages (stage 3, drafting): list, create, detail, withdraw, versions (read, edit,
submit, new), comments, diff and PDF."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates import actions as candidate_actions
from policies import actions
from policies.models import Policy, PolicyVersion, VersionComment, VersionPdf
from policies.sections import BODY_TEMPLATE
from tests.conftest import COMPLETE_BODY, COST_SHARING, SCHEDULE

pytestmark = pytest.mark.django_db

ROLES = ("secretariat", "soumu", "mhlw", "chijikai", "sapporo", "hokkaido")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def signed_in(client, demo_password):
    def login(username: str):
        client.logout()
        assert client.login(username=username, password=demo_password)
        return client

    return login


def url(name, *args):
    return reverse(f"policies:{name}", args=args)


@pytest.fixture
def draft_policy(accepted_candidate, user):
    """A policy of 総務省 whose only version is an unsubmitted draft."""

    def make(ministry="soumu", title="共通化推進方針（下書き）"):
        return actions.create_policy(accepted_candidate(ministry, title=f"{title}の対象候補"), user(ministry), title=title)

    return make


@pytest.fixture
def in_consent(submitted_policy, user):
    def make(ministry="soumu"):
        policy = submitted_policy(ministry)
        actions.open_round(policy.versions.get(), user("secretariat"), closes_at=timezone.now() + timedelta(days=7))
        policy.refresh_from_db()
        return policy

    return make


def edit_data(revision, *, body=COMPLETE_BODY, cost=COST_SHARING, schedule=SCHEDULE, intent="save", extra_rows=3, **overrides):
    """What the edit page posts: body, revision, the cost grid, the schedule rows, the button."""
    data = {"body": body, "revision": str(revision), "intent": intent}
    for row in cost:
        data[f"payer__{row['layer']}__{row['item']}"] = row["payer"]
        if row.get("until"):
            data[f"until__{row['layer']}"] = str(row["until"])
    rows = list(schedule) + [{"milestone": "", "target_date": ""}] * extra_rows
    data.update({"schedule-TOTAL_FORMS": str(len(rows)), "schedule-INITIAL_FORMS": str(len(schedule))})
    for index, row in enumerate(rows):
        data[f"schedule-{index}-milestone"] = row["milestone"]
        data[f"schedule-{index}-target_date"] = row["target_date"]
    data.update(overrides)
    return data


def stored(version) -> PolicyVersion:
    return PolicyVersion.objects.get(pk=version.pk)


# --- Who reaches which page ---------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, submitted_policy):
    policy = submitted_policy()
    gets = [
        url("list"), f"{url('create')}?candidate={policy.candidate_id}", url("detail", policy.pk),
        url("version", policy.pk, 1), url("version-edit", policy.pk, 1), url("version-diff", policy.pk, 1),
        url("version-pdf", policy.pk, 1),
    ]
    for path in gets:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    posts = [url("transition", policy.pk), url("version-new", policy.pk), url("version-submit", policy.pk, 1),
             url("version-comment", policy.pk, 1), url("version-pdf", policy.pk, 1)]
    for path in posts:
        response = client.post(path, {"comment": "x", "body": "x"})
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    assert Policy.objects.get(pk=policy.pk).status == "drafting"
    assert not VersionComment.objects.exists()


@pytest.mark.parametrize("username", ROLES)
def test_every_signed_in_user_reaches_the_list(signed_in, username):
    assert signed_in(username).get(url("list")).status_code == 200


@pytest.mark.parametrize(
    "username, detail, version, edit, diff",
    [
        ("secretariat", 200, 200, 403, 200),  # sees every draft, writes none
        ("soumu", 200, 200, 200, 200),  # the owning ministry
        ("mhlw", 404, 404, 404, 404),  # another ministry never sees a draft
        ("chijikai", 404, 404, 404, 404),  # nothing submitted yet
        ("sapporo", 404, 404, 404, 404),
        ("hokkaido", 404, 404, 404, 404),
    ],
)
def test_a_draft_policy_by_role(signed_in, draft_policy, username, detail, version, edit, diff):
    policy = draft_policy()
    client = signed_in(username)
    assert client.get(url("detail", policy.pk)).status_code == detail
    assert client.get(url("version", policy.pk, 1)).status_code == version
    assert client.get(url("version-edit", policy.pk, 1)).status_code == edit
    assert client.get(url("version-diff", policy.pk, 1)).status_code == diff


@pytest.mark.parametrize(
    "username, detail, edit",
    [
        ("secretariat", 200, 409),
        ("soumu", 200, 409),  # frozen: a conflict, not a permission question
        ("mhlw", 200, 409),
        ("chijikai", 200, 409),
        ("sapporo", 404, 404),  # not put to consent yet
        ("hokkaido", 404, 404),
    ],
)
def test_a_submitted_policy_by_role(signed_in, submitted_policy, username, detail, edit):
    policy = submitted_policy()
    client = signed_in(username)
    assert client.get(url("detail", policy.pk)).status_code == detail
    assert client.get(url("version", policy.pk, 1)).status_code == detail
    assert client.get(url("version-edit", policy.pk, 1)).status_code == edit


@pytest.mark.parametrize("username", ROLES)
def test_a_policy_in_consent_is_visible_to_everyone(signed_in, in_consent, username):
    policy = in_consent()
    client = signed_in(username)
    assert client.get(url("detail", policy.pk)).status_code == 200
    assert client.get(url("version", policy.pk, 1)).status_code == 200
    assert client.get(url("version-diff", policy.pk, 1)).status_code == 200


def test_unknown_policies_and_versions_are_404(signed_in, submitted_policy):
    policy = submitted_policy()
    client = signed_in("secretariat")
    assert client.get(url("detail", 999_999)).status_code == 404
    assert client.get(url("version", policy.pk, 9)).status_code == 404
    assert client.post(url("transition", 999_999), {"comment": "x"}).status_code == 404


def test_the_navigation_has_the_policies_and_the_consent_status(signed_in):
    html = signed_in("sapporo").get("/").content.decode()
    assert f'href="{url("list")}"' in html and "共通化推進方針" in html
    assert f'href="{url("consent-status")}"' in html and "同意状況" in html


def test_the_navigation_marks_the_current_section(signed_in, submitted_policy):
    policy = submitted_policy()
    html = signed_in("secretariat").get(url("version", policy.pk, 1)).content.decode()
    assert f'<a href="{url("list")}" aria-current="true">' in html
    html = signed_in("secretariat").get(url("consent-status")).content.decode()
    assert f'<a href="{url("consent-status")}" aria-current="page">' in html
    assert f'<a href="{url("list")}" aria-current' not in html


# --- The list --------------------------------------------------------------------------------------------


def test_the_list_shows_status_ministry_candidate_latest_version_and_round(signed_in, in_consent, draft_policy):
    policy = in_consent()
    draft = draft_policy("mhlw", title="厚労省の下書き方針")
    response = signed_in("secretariat").get(url("list"))
    html = response.content.decode()
    row = html.split(f'href="{policy.get_absolute_url()}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="badge badge--proposed">同意手続中<' in row
    assert "総務省" in row and policy.candidate.title in row
    assert f'href="{url("version", policy.pk, 1)}">第1版</a>' in row and "（提出済み）" in row
    assert ">受付中<" in row and "締切" in row
    draft_row = html.split(f'href="{draft.get_absolute_url()}"', 1)[1].split("</tr>", 1)[0]
    assert "（下書き）" in draft_row and 'badge--pending">策定中<' in draft_row


def test_the_list_shows_the_latest_version_the_user_may_see(signed_in, submitted_policy, user):
    policy = submitted_policy()
    actions.create_version(policy, user("soumu"))  # v2, a draft only 総務省 and the secretariat see
    rows = {p.pk: p for p in signed_in("mhlw").get(url("list")).context["policies"]}
    assert rows[policy.pk].latest_version_number == 1
    rows = {p.pk: p for p in signed_in("soumu").get(url("list")).context["policies"]}
    assert rows[policy.pk].latest_version_number == 2


def test_the_list_filters_by_status_and_ministry(signed_in, in_consent, draft_policy, org):
    consenting = in_consent()
    drafting = draft_policy("mhlw", title="厚労省の方針")
    client = signed_in("secretariat")
    listed = lambda query: {p.pk for p in client.get(url("list"), query).context["policies"]}  # noqa: E731
    assert listed({"status": "in_consent"}) == {consenting.pk}
    assert listed({"status": "drafting"}) == {drafting.pk}
    assert listed({"ministry": org("mhlw").pk}) == {drafting.pk}
    assert listed({"ministry": org("mhlw").pk, "status": "in_consent"}) == set()
    assert "条件に合う共通化推進方針はありません" in client.get(url("list"), {"status": "consented"}).content.decode()


def test_local_officials_list_only_policies_put_to_consent(signed_in, in_consent, submitted_policy):
    consenting = in_consent()
    submitted = submitted_policy("mhlw")
    pks = {p.pk for p in signed_in("sapporo").get(url("list")).context["policies"]}
    assert consenting.pk in pks and submitted.pk not in pks
    # Filtering cannot reveal what the scope hides.
    assert not signed_in("sapporo").get(url("list"), {"status": "drafting"}).context["policies"]


def test_a_ministry_officer_is_offered_its_candidates_without_a_policy(signed_in, accepted_candidate, submitted_policy):
    candidate = accepted_candidate("soumu", title="方針のない対象候補")
    other_ministry = accepted_candidate("mhlw", title="厚労省の対象候補")
    with_policy = submitted_policy().candidate
    html = signed_in("soumu").get(url("list")).content.decode()
    assert "方針を作成できる対象候補" in html
    assert f'href="{url("create")}?candidate={candidate.pk}"' in html
    assert f"?candidate={other_ministry.pk}" not in html and f"?candidate={with_policy.pk}" not in html
    for username in ("secretariat", "chijikai", "sapporo"):
        assert "方針を作成できる対象候補" not in signed_in(username).get(url("list")).content.decode()


def test_the_list_reads_in_constant_queries(signed_in, in_consent, draft_policy, django_assert_max_num_queries):
    client = signed_in("soumu")
    in_consent()
    draft_policy()
    client.get(url("list"))  # warm the per-process caches (content types)
    with CaptureQueriesContext(connection) as few:
        client.get(url("list"))
    for _ in range(4):
        in_consent()
        draft_policy()
    with django_assert_max_num_queries(len(few)):
        response = client.get(url("list"))
    assert len(response.context["policies"]) == 10


# --- Create ---------------------------------------------------------------------------------------------------


def test_the_owning_ministry_creates_a_policy_and_lands_on_the_first_draft(signed_in, accepted_candidate):
    candidate = accepted_candidate("soumu", title="公金受取口座の登録支援の共通化")
    client = signed_in("soumu")
    response = client.get(url("create"), {"candidate": candidate.pk})
    assert response.context["form"]["title"].value() == "公金受取口座の登録支援に関する共通化推進方針"
    response = client.post(f"{url('create')}?candidate={candidate.pk}", {"title": "公金受取口座の方針"}, follow=True)
    policy = Policy.objects.get(candidate=candidate)
    assert response.redirect_chain[-1][0] == url("version-edit", policy.pk, 1)
    assert "共通化推進方針「公金受取口座の方針」を作成しました。" in response.content.decode()
    assert (policy.title, policy.ministry.code, policy.status) == ("公金受取口座の方針", "soumu", "drafting")


@pytest.mark.parametrize("username, status", [("secretariat", 403), ("mhlw", 403), ("chijikai", 403), ("sapporo", 403)])
def test_only_the_owning_ministry_may_create(signed_in, accepted_candidate, username, status):
    candidate = accepted_candidate("soumu")
    client = signed_in(username)
    assert client.get(url("create"), {"candidate": candidate.pk}).status_code == status
    assert client.post(f"{url('create')}?candidate={candidate.pk}", {"title": "方針"}).status_code == status
    assert not Policy.objects.filter(candidate=candidate).exists()


def test_create_needs_a_visible_candidate(signed_in):
    client = signed_in("soumu")
    assert client.get(url("create")).status_code == 404
    assert client.get(url("create"), {"candidate": "abc"}).status_code == 404
    assert client.get(url("create"), {"candidate": 999_999}).status_code == 404


@pytest.mark.parametrize("title", ["", "あ" * 201])
def test_a_bad_title_shows_the_error_next_to_the_field(signed_in, accepted_candidate, title):
    candidate = accepted_candidate("soumu")
    response = signed_in("soumu").post(f"{url('create')}?candidate={candidate.pk}", {"title": title})
    html = response.content.decode()
    assert response.status_code == 200
    assert "title" in response.context["form"].errors
    assert 'id="id_title_error"' in html and "入力内容に誤りがあります" in html
    assert not Policy.objects.filter(candidate=candidate).exists()


def test_a_candidate_without_an_accepted_study_is_refused(signed_in, user, org):
    candidate = candidate_actions.propose_candidate(
        user("secretariat"), title="未選定の候補", description="d", owning_ministry=org("soumu"))
    response = signed_in("soumu").post(f"{url('create')}?candidate={candidate.pk}", {"title": "方針"})
    assert response.status_code == 200
    assert "受理された対象候補についてのみ作成できます" in response.content.decode()
    assert not Policy.objects.filter(candidate=candidate).exists()


def test_a_second_policy_for_a_candidate_is_refused(signed_in, submitted_policy):
    policy = submitted_policy()
    client = signed_in("soumu")
    assert "この対象候補には既に方針があります" in client.get(url("create"), {"candidate": policy.candidate_id}).content.decode()
    response = client.post(f"{url('create')}?candidate={policy.candidate_id}", {"title": "二つ目"})
    assert "この対象候補には既に方針があります。" in str(response.context["form"].non_field_errors())
    assert Policy.objects.filter(candidate=policy.candidate).count() == 1


# --- Detail -------------------------------------------------------------------------------------------------


def test_the_detail_lists_versions_rounds_and_history(signed_in, in_consent):
    policy = in_consent()
    version = policy.versions.get()
    html = signed_in("chijikai").get(url("detail", policy.pk)).content.decode()
    versions = html.split('id="versions-heading"', 1)[1].split("</section>", 1)[0]
    assert f'href="{url("version", policy.pk, 1)}">第1版</a>' in versions
    assert "提出済み（確定）" in versions and version.content_hash[:12] in versions
    assert f'action="{url("version-pdf", policy.pk, 1)}"' in versions  # not rendered yet: a button to render it
    rounds = html.split('id="rounds-heading"', 1)[1].split("</section>", 1)[0]
    assert 'badge--proposed">受付中<' in rounds and policy.rounds.get().get_absolute_url() in rounds
    history = html.split('id="history-heading"', 1)[1]
    assert "第1版を同意手続に付す。" in history and "同意手続中" in history
    assert "同意手続中です" in html


def test_the_owner_is_offered_a_new_version_once_the_latest_is_frozen(signed_in, submitted_policy, draft_policy):
    policy = submitted_policy()
    html = signed_in("soumu").get(url("detail", policy.pk)).content.decode()
    assert f'action="{url("version-new", policy.pk)}"' in html and "新しい版を作成" in html
    for username in ("secretariat", "mhlw", "chijikai"):
        assert f'action="{url("version-new", policy.pk)}"' not in signed_in(username).get(url("detail", policy.pk)).content.decode()
    draft = draft_policy(title="下書き中")
    html = signed_in("soumu").get(url("detail", draft.pk)).content.decode()
    assert "新しい版を作成" not in html
    assert f'href="{url("version-edit", draft.pk, 1)}"' in html


def test_only_the_secretariat_is_offered_to_open_a_round_on_a_submitted_version(signed_in, submitted_policy, draft_policy, in_consent):
    policy = submitted_policy()
    assert f'href="{url("round-new", policy.pk)}"' in signed_in("secretariat").get(url("detail", policy.pk)).content.decode()
    for username in ("soumu", "chijikai"):
        assert f'href="{url("round-new", policy.pk)}"' not in signed_in(username).get(url("detail", policy.pk)).content.decode()
    draft = draft_policy(title="下書きのみ")
    assert "同意手続を開始" not in signed_in("secretariat").get(url("detail", draft.pk)).content.decode()
    consenting = in_consent("mhlw")
    assert "同意手続を開始" not in signed_in("secretariat").get(url("detail", consenting.pk)).content.decode()


@pytest.mark.parametrize("username, offered", [("soumu", True), ("secretariat", True), ("mhlw", False), ("chijikai", False)])
def test_withdrawal_is_offered_to_the_owner_and_the_secretariat(signed_in, submitted_policy, username, offered):
    policy = submitted_policy()
    html = signed_in(username).get(url("detail", policy.pk)).content.decode()
    assert (f'action="{url("transition", policy.pk)}"' in html) is offered


def test_the_owner_withdraws_with_a_reason(signed_in, submitted_policy):
    policy = submitted_policy()
    response = signed_in("soumu").post(url("transition", policy.pk), {"to": "withdrawn", "comment": "他の方式で対応する。"}, follow=True)
    assert response.redirect_chain[-1][0] == policy.get_absolute_url()
    assert "を取り下げました。" in response.content.decode()
    policy.refresh_from_db()
    assert policy.status == "withdrawn"
    assert policy.history().last().comment == "他の方式で対応する。"


def test_withdrawing_without_a_reason_shows_the_error_and_saves_nothing(signed_in, submitted_policy):
    policy = submitted_policy()
    response = signed_in("secretariat").post(url("transition", policy.pk), {"to": "withdrawn", "comment": "  "})
    html = response.content.decode()
    assert response.status_code == 200
    assert "comment" in response.context["withdraw_form"].errors
    assert 'id="id_comment_error"' in html and "取下げの理由を入力してください。" in html
    assert Policy.objects.get(pk=policy.pk).status == "drafting"


def test_another_ministry_may_not_withdraw(signed_in, submitted_policy):
    policy = submitted_policy()
    assert signed_in("mhlw").post(url("transition", policy.pk), {"comment": "理由"}).status_code == 403
    assert signed_in("mhlw").post(url("transition", policy.pk), {"comment": ""}).status_code == 403
    assert signed_in("sapporo").post(url("transition", policy.pk), {"comment": "理由"}).status_code == 404
    assert Policy.objects.get(pk=policy.pk).status == "drafting"


def test_a_consented_policy_cannot_be_withdrawn(signed_in, in_consent, user):
    policy = in_consent()
    round_ = policy.rounds.get()
    for name in ("chijikai", "shichokai", "chosonkai"):
        actions.cast_ballot(round_, user(name), choice="consent")
    actions.close_round(round_, user("secretariat"))
    response = signed_in("soumu").post(url("transition", policy.pk), {"to": "withdrawn", "comment": "理由"})
    assert response.status_code == 409
    assert "「同意済み」から「取下げ」へは変更できません。" in response.content.decode()
    assert Policy.objects.get(pk=policy.pk).status == "consented"


def test_consent_moves_are_not_made_from_the_policy_page(signed_in, submitted_policy):
    policy = submitted_policy()
    response = signed_in("secretariat").post(url("transition", policy.pk), {"to": "in_consent", "comment": "x"})
    assert response.status_code == 409
    assert Policy.objects.get(pk=policy.pk).status == "drafting"


def test_transition_is_post_only(signed_in, submitted_policy):
    assert signed_in("soumu").get(url("transition", submitted_policy().pk)).status_code == 405


# --- The version page ---------------------------------------------------------------------------------------


def test_the_version_page_renders_each_section_the_costs_and_the_schedule(signed_in, submitted_policy):
    policy = submitted_policy()
    version = policy.versions.get()
    response = signed_in("chijikai").get(url("version", policy.pk, 1))
    html = response.content.decode()
    for index, title in enumerate(["目的と範囲", "対象システムと業務", "スケジュールとマイルストーン", "移行の考え方", "KPI"], start=1):
        assert f'id="section-{index}-title">{title}</h2>' in html
        assert f"<p>{title}の内容。</p>" in html
    cost = html.split('id="cost-heading"', 1)[1].split("</section>", 1)[0]
    assert "共通SaaS" in cost and "利用料" in cost and "地方公共団体" in cost and "標準仕様の作成" in cost
    assert "2030年度（令和12年度）まで" in cost
    schedule = html.split('id="schedule-heading"', 1)[1].split("</section>", 1)[0]
    assert "標準仕様の策定" in schedule and "2027年3月31日" in schedule
    assert "提出済み（確定）" in html and version.content_hash in html


def test_user_markdown_is_rendered_without_raw_html(signed_in, draft_policy, user):
    policy = draft_policy()
    version = policy.versions.get()
    actions.update_version(version, user("soumu"), {"body": "## 目的と範囲\n**重要**な点。<script>alert(1)</script>"})
    html = signed_in("soumu").get(url("version", policy.pk, 1)).content.decode()
    assert "<strong>重要</strong>" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_a_draft_is_marked_and_offers_edit_and_submit_to_its_owner(signed_in, draft_policy):
    policy = draft_policy()
    html = signed_in("soumu").get(url("version", policy.pk, 1)).content.decode()
    assert "下書きです" in html and ">下書き<" in html
    assert f'href="{url("version-edit", policy.pk, 1)}"' in html
    assert f'action="{url("version-submit", policy.pk, 1)}"' in html
    assert "PDFは提出後に作成できます。" in html
    html = signed_in("secretariat").get(url("version", policy.pk, 1)).content.decode()
    assert f'href="{url("version-edit", policy.pk, 1)}"' not in html


@pytest.mark.parametrize("username, offered", [("secretariat", True), ("chijikai", True), ("soumu", False), ("mhlw", False)])
def test_the_comment_forms_are_for_the_secretariat_and_the_associations(signed_in, submitted_policy, username, offered):
    policy = submitted_policy()
    html = signed_in(username).get(url("version", policy.pk, 1)).content.decode()
    assert (html.count(f'action="{url("version-comment", policy.pk, 1)}"') == 6) is offered  # 5 sections + whole version
    assert ("「移行の考え方」にコメントする" in html) is offered


def test_comments_appear_under_their_section(signed_in, submitted_policy, user):
    policy = submitted_policy()
    version = policy.versions.get()
    actions.comment_on_version(version, user("chijikai"), section="KPI", body="目標値を入れてください。")
    actions.comment_on_version(version, user("secretariat"), section="", body="全体として簡潔に。")
    html = signed_in("mhlw").get(url("version", policy.pk, 1)).content.decode()
    kpi = html.split('id="section-5"', 1)[1].split("</section>", 1)[0]
    assert "目標値を入れてください。" in kpi and "全国知事会" in kpi
    general = html.split('id="comments-general"', 1)[1].split("</section>", 1)[0]
    assert "全体として簡潔に。" in general and "デジタル庁" in general
    assert "目標値を入れてください。" not in html.split('id="section-5"', 1)[0]


def test_an_association_comments_on_a_section(signed_in, submitted_policy):
    policy = submitted_policy()
    response = signed_in("chijikai").post(url("version-comment", policy.pk, 1), {"section": "移行の考え方", "body": "支援体制を追記。"})
    assert response.status_code == 302
    assert response["Location"] == f"{url('version', policy.pk, 1)}#section-4"
    comment = VersionComment.objects.get()
    assert (comment.section, comment.body, comment.organization.code) == ("移行の考え方", "支援体制を追記。", "chijikai")


@pytest.mark.parametrize("data, field", [
    ({"section": "KPI", "body": ""}, "body"),
    ({"section": "KPI", "body": "あ" * 4001}, "body"),
    ({"section": "存在しない節", "body": "コメント"}, "section"),
])
def test_a_bad_comment_shows_the_error_and_saves_nothing(signed_in, submitted_policy, data, field):
    policy = submitted_policy()
    response = signed_in("secretariat").post(url("version-comment", policy.pk, 1), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "入力内容に誤りがあります" in html
    if field == "body":
        assert 'id="id_body_error"' in html
        assert re.search(r'<details class="comment-form" open>', html)
    else:
        assert "節「存在しない節」はこの版にありません。" in html
    assert not VersionComment.objects.exists()


@pytest.mark.parametrize("username, status", [("soumu", 403), ("mhlw", 403), ("sapporo", 404)])
def test_others_may_not_comment(signed_in, submitted_policy, username, status):
    policy = submitted_policy()
    assert signed_in(username).post(url("version-comment", policy.pk, 1), {"section": "KPI", "body": "x"}).status_code == status
    assert not VersionComment.objects.exists()


# --- Editing a draft -------------------------------------------------------------------------------------------


def test_the_edit_form_starts_from_the_section_template_with_the_cost_grid_and_schedule_rows(signed_in, draft_policy):
    policy = draft_policy()
    response = signed_in("soumu").get(url("version-edit", policy.pk, 1))
    html = response.content.decode()
    assert response.context["form"]["body"].value() == BODY_TEMPLATE
    assert "## 目的と範囲" in html and "## KPI" in html
    assert len(re.findall(r'<select name="payer__', html)) == 21  # 3 layers × 7 items
    assert len(re.findall(r'name="until__', html)) == 3  # one per layer, on the initial-support row
    assert '<option value="" selected>該当なし</option>' in html
    assert len(re.findall(r'name="schedule-\d+-milestone"', html)) == 3
    assert 'type="date" name="schedule-0-target_date"' in html
    assert f'name="revision" value="{stored(policy.versions.get()).revision}"' in html
    assert 'name="intent" value="save"' in html and 'name="intent" value="submit"' in html


def test_the_edit_form_is_prefilled_from_the_draft(signed_in, draft_policy, user):
    policy = draft_policy()
    version = policy.versions.get()
    actions.update_version(version, user("soumu"), {"body": COMPLETE_BODY, "cost_sharing": COST_SHARING, "schedule": SCHEDULE})
    html = signed_in("soumu").get(url("version-edit", policy.pk, 1)).content.decode()
    assert re.search(r'name="payer__common_saas__usage_fee"[^>]*>.*?<option value="local" selected>', html, re.S)
    assert 'name="until__common_saas" value="2030"' in html
    assert 'name="schedule-0-milestone" value="標準仕様の策定"' in html
    assert 'name="schedule-0-target_date" value="2027-03-31"' in html
    assert len(re.findall(r'name="schedule-\d+-milestone"', html)) == 4  # the row, and three empty ones


def test_the_owner_saves_a_draft(signed_in, draft_policy):
    policy = draft_policy()
    version = policy.versions.get()
    response = signed_in("soumu").post(url("version-edit", policy.pk, 1), edit_data(version.revision), follow=True)
    assert response.redirect_chain[-1][0] == url("version-edit", policy.pk, 1)
    assert "下書きを保存しました。" in response.content.decode()
    saved = stored(version)
    assert saved.body == COMPLETE_BODY
    assert saved.cost_sharing == [
        {"layer": "common_saas", "item": "specification", "payer": "state"},
        {"layer": "common_saas", "item": "usage_fee", "payer": "local"},
        {"layer": "common_saas", "item": "initial_support", "payer": "state", "until": 2030},
    ]
    assert saved.schedule == SCHEDULE
    assert saved.revision == version.revision + 1 and not saved.is_frozen


def test_browser_line_endings_are_stored_as_lf(signed_in, draft_policy):
    policy = draft_policy()
    version = policy.versions.get()
    signed_in("soumu").post(url("version-edit", policy.pk, 1), edit_data(version.revision, body="## 目的と範囲\r\n内容\r\n"))
    assert stored(version).body == "## 目的と範囲\n内容\n"


def test_clearing_a_schedule_row_removes_it(signed_in, draft_policy, user):
    policy = draft_policy()
    version = actions.update_version(policy.versions.get(), user("soumu"), {"schedule": SCHEDULE + [{"milestone": "移行完了", "target_date": "2030-03-31"}]})
    data = edit_data(version.revision, schedule=[{"milestone": "", "target_date": ""}, {"milestone": "移行完了", "target_date": "2030-03-31"}])
    signed_in("soumu").post(url("version-edit", policy.pk, 1), data)
    assert stored(version).schedule == [{"milestone": "移行完了", "target_date": "2030-03-31"}]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"payer__dpi__development": "nobody"}, "payer__dpi__development"),
        ({"until__common_saas": "1999"}, "until__common_saas"),
        ({"until__common_saas": "二〇三〇"}, "until__common_saas"),
        ({"until__dpi": "2030"}, "until__dpi"),  # a deadline without anyone paying the support
        ({"body": ""}, "body"),
        ({"body": "あ" * 100_001}, "body"),
    ],
)
def test_bad_input_shows_the_error_next_to_the_field_and_saves_nothing(signed_in, draft_policy, overrides, field):
    policy = draft_policy()
    version = policy.versions.get()
    response = signed_in("soumu").post(url("version-edit", policy.pk, 1), edit_data(version.revision, **overrides))
    html = response.content.decode()
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in html
    assert re.search(f'aria-describedby="[^"]*id_{field}_error', html)
    assert "入力内容に誤りがあります" in html and f'href="#id_{field}"' in html
    assert stored(version).revision == version.revision and stored(version).body == BODY_TEMPLATE


@pytest.mark.parametrize(
    "row, field",
    [
        ({"milestone": "標準仕様の策定", "target_date": ""}, "target_date"),
        ({"milestone": "", "target_date": "2027-03-31"}, "milestone"),
        ({"milestone": "標準仕様の策定", "target_date": "2027-13-45"}, "target_date"),
        ({"milestone": "あ" * 201, "target_date": "2027-03-31"}, "milestone"),
    ],
)
def test_a_bad_schedule_row_shows_the_error_on_that_row(signed_in, draft_policy, row, field):
    policy = draft_policy()
    version = policy.versions.get()
    response = signed_in("soumu").post(url("version-edit", policy.pk, 1), edit_data(version.revision, schedule=[row]))
    html = response.content.decode()
    assert response.status_code == 200
    assert field in response.context["formset"].forms[0].errors
    assert f'id="id_schedule-0-{field}_error"' in html
    assert f'href="#id_schedule-0-{field}">スケジュール 1行目の' in html
    assert stored(version).revision == version.revision and stored(version).schedule == []


def test_a_stale_revision_is_a_conflict_that_keeps_the_users_text(signed_in, draft_policy, user):
    policy = draft_policy()
    version = policy.versions.get()
    read = version.revision
    actions.update_version(version, user("soumu"), {"body": "## 目的と範囲\n同僚の編集"}, revision=read)
    response = signed_in("soumu").post(url("version-edit", policy.pk, 1), edit_data(read, body="## 目的と範囲\n私の編集"))
    html = response.content.decode()
    assert response.status_code == 409
    assert "この版は他の人が更新しました" in html
    assert f"あなたが編集を始めた後（改訂 {read}）に、他の人が保存しました（現在は改訂 {read + 1}）。" in html
    assert "私の編集" in html  # kept in the textarea
    assert stored(version).body == "## 目的と範囲\n同僚の編集"
    # The form now carries the newer revision: saving again, knowingly, replaces it.
    current = stored(version).revision
    assert f'name="revision" value="{current}"' in html
    again = signed_in("soumu").post(url("version-edit", policy.pk, 1), edit_data(current, body="## 目的と範囲\n私の編集"))
    assert again.status_code == 302 and stored(version).body == "## 目的と範囲\n私の編集"


def test_a_frozen_version_cannot_be_edited(signed_in, submitted_policy):
    policy = submitted_policy()
    version = policy.versions.get()
    client = signed_in("soumu")
    response = client.get(url("version-edit", policy.pk, 1))
    assert response.status_code == 409
    assert "第1版は提出済みのため変更できません。" in response.content.decode()
    response = client.post(url("version-edit", policy.pk, 1), edit_data(version.revision, body="## 目的と範囲\n書き換え"))
    assert response.status_code == 409
    html = response.content.decode()
    assert "この版は提出済みです" in html and "書き換え" in html  # the text is not lost
    assert 'value="submit"' not in html
    assert stored(version).body == COMPLETE_BODY and stored(version).content_hash == version.content_hash


def test_the_secretariat_may_not_edit_a_draft(signed_in, draft_policy):
    policy = draft_policy()
    version = policy.versions.get()
    assert signed_in("secretariat").post(url("version-edit", policy.pk, 1), edit_data(version.revision)).status_code == 403
    assert stored(version).body == BODY_TEMPLATE


def test_submitting_from_the_edit_form_saves_and_freezes(signed_in, draft_policy):
    policy = draft_policy()
    version = policy.versions.get()
    response = signed_in("soumu").post(url("version-edit", policy.pk, 1), edit_data(version.revision, intent="submit"), follow=True)
    assert response.redirect_chain[-1][0] == url("version", policy.pk, 1)
    assert "第1版を提出しました。" in response.content.decode()
    saved = stored(version)
    assert saved.is_frozen and saved.content_hash == saved.compute_hash()
    assert saved.body == COMPLETE_BODY and saved.submitted_by.username == "soumu"


def test_submitting_an_incomplete_draft_keeps_it_and_shows_what_is_missing(signed_in, draft_policy):
    policy = draft_policy()
    version = policy.versions.get()
    body = "## 目的と範囲\n目的。\n\n## KPI\n"
    response = signed_in("soumu").post(url("version-edit", policy.pk, 1), edit_data(version.revision, body=body, cost=[], schedule=[], intent="submit"))
    html = response.content.decode()
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "対象システムと業務、スケジュールとマイルストーン、移行の考え方、KPI" in errors["body"][0]
    assert 'id="id_body_error"' in html
    assert 'id="cost-sharing-errors"' in html and "提出するには費用負担の表を入力してください。" in html
    assert 'id="schedule-errors"' in html and "提出するにはスケジュールを1件以上入力してください。" in html
    assert "下書きは保存されています。" in html
    saved = stored(version)
    assert saved.body == body and not saved.is_frozen
    # The form carries the saved revision, so correcting and submitting again is not a conflict.
    assert f'name="revision" value="{saved.revision}"' in html
    again = signed_in("soumu").post(url("version-edit", policy.pk, 1), edit_data(saved.revision, intent="submit"))
    assert again.status_code == 302 and stored(version).is_frozen


def test_the_submit_button_of_the_version_page(signed_in, draft_policy, user):
    policy = draft_policy()
    version = policy.versions.get()
    response = signed_in("soumu").post(url("version-submit", policy.pk, 1))
    assert response.status_code == 200
    assert "body" in response.context["form"].errors and not stored(version).is_frozen
    assert response.context["editor"].cost_errors and response.context["editor"].schedule_errors
    actions.update_version(version, user("soumu"), {"body": COMPLETE_BODY, "cost_sharing": COST_SHARING, "schedule": SCHEDULE})
    response = signed_in("soumu").post(url("version-submit", policy.pk, 1))
    assert response.status_code == 302 and stored(version).is_frozen
    assert signed_in("soumu").post(url("version-submit", policy.pk, 1)).status_code == 409


def test_only_the_owner_submits(signed_in, draft_policy, user):
    policy = draft_policy()
    version = actions.update_version(policy.versions.get(), user("soumu"), {"body": COMPLETE_BODY, "cost_sharing": COST_SHARING, "schedule": SCHEDULE})
    assert signed_in("secretariat").post(url("version-submit", policy.pk, 1)).status_code == 403
    assert signed_in("mhlw").post(url("version-submit", policy.pk, 1)).status_code == 404
    assert not stored(version).is_frozen


# --- New versions ------------------------------------------------------------------------------------------------


def test_the_owner_starts_the_next_version_from_the_latest(signed_in, submitted_policy):
    policy = submitted_policy()
    response = signed_in("soumu").post(url("version-new", policy.pk), follow=True)
    assert response.redirect_chain[-1][0] == url("version-edit", policy.pk, 2)
    assert "第2版を作成しました。" in response.content.decode()
    v2 = policy.versions.get(number=2)
    assert (v2.body, v2.cost_sharing, v2.schedule, v2.is_frozen) == (COMPLETE_BODY, COST_SHARING, SCHEDULE, False)


def test_a_second_draft_is_a_conflict(signed_in, draft_policy):
    policy = draft_policy()
    response = signed_in("soumu").post(url("version-new", policy.pk))
    assert response.status_code == 409
    assert "編集中の版（第1版）があります。" in response.content.decode()
    assert policy.versions.count() == 1


@pytest.mark.parametrize("username, status", [("secretariat", 403), ("mhlw", 403), ("chijikai", 403), ("sapporo", 404)])
def test_only_the_owner_creates_versions(signed_in, submitted_policy, username, status):
    policy = submitted_policy()
    assert signed_in(username).post(url("version-new", policy.pk)).status_code == status
    assert policy.versions.count() == 1


# --- Diff -------------------------------------------------------------------------------------------------------------


@pytest.fixture
def revised(submitted_policy, user):
    """v1 submitted; v2 (draft) changes one section, adds one, and moves a milestone."""
    policy = submitted_policy()
    v2 = actions.create_version(policy, user("soumu"))
    body = COMPLETE_BODY.replace("移行の考え方の内容。", "移行の考え方の新しい内容。") + "\n## 参考資料\n資料一覧。"
    actions.update_version(v2, user("soumu"), {
        "body": body,
        "cost_sharing": COST_SHARING[:2] + [{"layer": "dpi", "item": "operation", "payer": "state"}],
        "schedule": [{"milestone": "標準仕様の策定", "target_date": "2028-03-31"}],
    })
    return policy


def test_the_diff_marks_sections_and_characters(signed_in, revised):
    policy = revised
    response = signed_in("soumu").get(url("version-diff", policy.pk, 2), {"against": 1})
    html = response.content.decode()
    statuses = {s.title: s.status for s in response.context["sections"]}
    assert statuses == {"目的と範囲": "unchanged", "対象システムと業務": "unchanged", "スケジュールとマイルストーン": "unchanged",
                        "移行の考え方": "changed", "KPI": "unchanged", "参考資料": "added"}
    changed = html.split(">移行の考え方 ", 1)[1].split("</section>", 1)[0]
    assert 'badge--warning">変更<' in changed
    assert '<ins><span class="visually-hidden">追加：</span>新しい</ins>' in changed
    assert "移行の考え方の" in changed
    added = html.split(">参考資料 ", 1)[1].split("</section>", 1)[0]
    assert 'badge--done">追加<' in added and "資料一覧。</ins>" in added
    assert "第1版と第2版の差分" in html


def test_the_diff_shows_cost_and_schedule_changes(signed_in, revised):
    html = signed_in("soumu").get(url("version-diff", revised.pk, 2), {"against": 1}).content.decode()
    costs = html.split('id="cost-diff-heading"', 1)[1].split("</section>", 1)[0]
    assert "共通SaaS・初期経費の国による支援" in costs and "国（2030年度まで）" in costs and 'badge--rejected">削除<' in costs
    assert "DPI（デジタル公共インフラ）・運用" in costs and 'badge--done">追加<' in costs
    schedule = html.split('id="schedule-diff-heading"', 1)[1].split("</section>", 1)[0]
    assert "<del><span class=\"visually-hidden\">削除：</span>2027年3月31日</del>" in schedule
    assert "<ins><span class=\"visually-hidden\">追加：</span>2028年3月31日</ins>" in schedule


def test_the_diff_compares_with_the_previous_version_by_default(signed_in, revised):
    response = signed_in("soumu").get(url("version-diff", revised.pk, 2))
    assert response.context["other"].number == 1
    response = signed_in("soumu").get(url("version-diff", revised.pk, 1))
    assert response.context["other"].number == 2  # no earlier one: the other version


def test_the_diff_never_reaches_a_draft_the_user_may_not_see(signed_in, revised):
    client = signed_in("mhlw")
    assert client.get(url("version-diff", revised.pk, 1), {"against": 2}).status_code == 404
    assert client.get(url("version-diff", revised.pk, 2), {"against": 1}).status_code == 404
    assert client.get(url("version-diff", revised.pk, 1), {"against": 7}).status_code == 404
    response = client.get(url("version-diff", revised.pk, 1))
    assert response.status_code == 200 and "比較できる版がありません" in response.content.decode()


def test_the_version_page_offers_the_diff_selector(signed_in, revised):
    html = signed_in("soumu").get(url("version", revised.pk, 2)).content.decode()
    picker = html.split('class="diff-picker"', 1)[1].split("</form>", 1)[0]
    assert f'action="{url("version-diff", revised.pk, 2)}"' in html
    assert '<option value="1" selected>第1版</option>' in picker


# --- PDF ----------------------------------------------------------------------------------------------------------------


def test_the_pdf_is_rendered_then_downloaded(signed_in, submitted_policy):
    policy = submitted_policy()
    client = signed_in("chijikai")
    response = client.get(url("version-pdf", policy.pk, 1), follow=True)
    assert "この版のPDFはまだ作成されていません。" in response.content.decode()
    response = client.post(url("version-pdf", policy.pk, 1), follow=True)
    assert response.redirect_chain[-1][0] == url('version', policy.pk, 1)
    assert "PDFを作成しました。" in response.content.decode()
    assert VersionPdf.objects.count() == 1
    assert f'href="{url("version-pdf", policy.pk, 1)}" download' in response.content.decode()
    response = client.get(url("version-pdf", policy.pk, 1))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    # Asking again does not render again.
    client.post(url("version-pdf", policy.pk, 1))
    assert VersionPdf.objects.count() == 1


def test_a_draft_has_no_pdf(signed_in, draft_policy):
    policy = draft_policy()
    response = signed_in("soumu").post(url("version-pdf", policy.pk, 1))
    assert response.status_code == 409
    assert "PDFは提出済みの版についてのみ作成できます。" in response.content.decode()
    assert not VersionPdf.objects.exists()
    assert signed_in("mhlw").get(url("version-pdf", policy.pk, 1)).status_code == 404


def test_version_pages_read_in_bounded_queries(signed_in, submitted_policy, user, django_assert_max_num_queries):
    policy = submitted_policy()
    version = policy.versions.get()
    client = signed_in("chijikai")
    client.get(url("version", policy.pk, 1))
    with CaptureQueriesContext(connection) as few:
        client.get(url("version", policy.pk, 1))
    for index in range(10):
        actions.comment_on_version(version, user("secretariat" if index % 2 else "chijikai"), section="KPI", body=f"コメント{index}")
    with django_assert_max_num_queries(len(few)):
        client.get(url("version", policy.pk, 1))

