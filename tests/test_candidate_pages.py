"""The candidate pages (stage 1): list, detail, propose/edit, assess, decide, weights, downloads."""

import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates import actions
from candidates.models import (
    Assessment,
    AssessmentEvidence,
    BusinessArea,
    Candidate,
    CriteriaWeights,
    FeasibilityStudy,
)
from candidates.views import content_disposition
from council import calendar

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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


@pytest.fixture
def propose(user, org):
    def make(title="公金受取口座の登録支援", ministry="soumu", areas=(), description="住民の口座登録を共通の仕組みで支援する。"):
        return actions.propose_candidate(
            user("secretariat"),
            title=title,
            description=description,
            owning_ministry=org(ministry),
            business_areas=BusinessArea.objects.filter(code__in=areas),
        )

    return make


@pytest.fixture
def candidate(propose):
    return propose()


def put_in(candidate, status, track="commonization"):
    """Force a starting status for a test (bypassing the workflow on purpose)."""
    decided = status in ("selected", "not_selected")
    Candidate.objects.filter(pk=candidate.pk).update(status=status, track=track if decided else "")
    candidate.refresh_from_db()
    return candidate


def assessed(candidate, user, username="secretariat", scores=(4, 3, 5), rationale="根拠となる理由", **kwargs):
    return actions.assess(
        candidate, user(username), user_need=scores[0], expected_effect=scores[1], feasibility=scores[2],
        rationale=rationale, **{"viewpoints": ["i"], **kwargs},
    )


def pdf(name="根拠資料.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def url(name, *args):
    return reverse(f"candidates:{name}", args=args)


def assess_data(**overrides):
    return {"user_need": "4", "expected_effect": "3", "feasibility": "5", "rationale": "住民の負担が大きい。", "viewpoints": ["ii"], **overrides}


# --- Who reaches which page -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["list", "create", "weights"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, name):
    response = client.get(url(name))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url(name)}"


@pytest.mark.parametrize("name", ["detail", "edit", "assess", "assign-study"])
def test_anonymous_visitors_never_see_a_candidate(client, candidate, name):
    response = client.get(url(name, candidate.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_anonymous_transition_and_download_go_to_the_login_page(client, candidate, user):
    assessed(candidate, user, evidence=[pdf()])
    evidence = AssessmentEvidence.objects.get()
    assert client.post(url("transition", candidate.pk), {"to": "under_review"}).status_code == 302
    assert client.get(url("evidence-download", evidence.pk)).status_code == 302
    assert Candidate.objects.get(pk=candidate.pk).status == "proposed"


@pytest.mark.parametrize(
    "username, list_, create, weights",
    [
        ("secretariat", 200, 200, 200),
        ("soumu", 200, 403, 403),
        ("chijikai", 200, 403, 403),
        ("sapporo", 200, 403, 403),
        ("hokkaido", 200, 403, 403),
    ],
)
def test_the_list_is_for_everyone_proposing_and_weights_for_the_secretariat(signed_in, username, list_, create, weights):
    client = signed_in(username)
    assert client.get(url("list")).status_code == list_
    assert client.get(url("create")).status_code == create
    assert client.get(url("weights")).status_code == weights


@pytest.mark.parametrize(
    "username, detail, edit, assess",
    [
        ("secretariat", 200, 200, 200),
        ("soumu", 200, 403, 200),  # the owning ministry assesses but does not edit
        ("mhlw", 200, 403, 403),  # another ministry sees it but may not assess
        ("chijikai", 200, 403, 200),
        ("sapporo", 404, 404, 404),  # a proposal is not published to local officials
        ("hokkaido", 404, 404, 404),
    ],
)
def test_a_proposed_candidate_page_by_role(signed_in, candidate, username, detail, edit, assess):
    client = signed_in(username)
    assert client.get(url("detail", candidate.pk)).status_code == detail
    assert client.get(url("edit", candidate.pk)).status_code == edit
    assert client.get(url("assess", candidate.pk)).status_code == assess


@pytest.mark.parametrize(
    "username, detail, edit, assess, assign",
    [
        ("secretariat", 200, 403, 403, 200),
        ("soumu", 200, 403, 403, 403),
        ("chijikai", 200, 403, 403, 403),
        ("sapporo", 200, 403, 403, 403),
    ],
)
def test_a_selected_candidate_page_by_role(signed_in, candidate, username, detail, edit, assess, assign):
    put_in(candidate, "selected")
    client = signed_in(username)
    assert client.get(url("detail", candidate.pk)).status_code == detail
    assert client.get(url("edit", candidate.pk)).status_code == edit
    assert client.get(url("assess", candidate.pk)).status_code == assess
    assert client.get(url("assign-study", candidate.pk)).status_code == assign


def test_an_unknown_candidate_is_404(signed_in):
    client = signed_in("secretariat")
    assert client.get(url("detail", 999_999)).status_code == 404
    assert client.post(url("transition", 999_999), {"to": "under_review"}).status_code == 404


def test_the_navigation_has_the_two_new_sections(signed_in):
    html = signed_in("sapporo").get("/").content.decode()
    assert f'href="{url("list")}"' in html and "対象候補" in html
    assert f'href="{url("study-list")}"' in html and "実現可能性調査" in html


# --- The list -----------------------------------------------------------------------------------


def listed(response, candidates) -> list[int]:
    """The pks of `candidates` in the order the page lists them (ignoring the demo's own)."""
    wanted = {c.pk for c in candidates}
    return [c.pk for c in response.context["candidates"] if c.pk in wanted]


@pytest.fixture
def three(propose, user):
    """Three candidates with different statuses, ministries, areas, scores and titles."""
    a = propose(title="あ 住民記録の共通化", ministry="soumu", areas=["resident-registry"])
    b = propose(title="い 介護認定の共通SaaS", ministry="mhlw", areas=["long-term-care-insurance"], description="認定審査会の資料作成を共通化")
    c = propose(title="う 児童手当の共通化", ministry="cfa", areas=["child-allowance"])
    assessed(a, user, "secretariat", (2, 2, 2))
    assessed(b, user, "secretariat", (5, 5, 4))
    assessed(c, user, "secretariat", (3, 4, 3))
    put_in(b, "under_review")
    put_in(c, "selected", track="joint_procurement")
    return a, b, c


def test_the_list_shows_the_columns(signed_in, three):
    a, b, c = three
    response = signed_in("secretariat").get(url("list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{c.get_absolute_url()}"' in html
    assert "こども家庭庁" in html and "(c) 都道府県の共同調達による横展開" in html
    assert 'class="badge badge--selected">選定<' in html
    row = next(x for x in response.context["candidates"] if x.pk == b.pk)
    assert row.assessor_count == 1 and row.weighted_total == pytest.approx(14 / 3)
    assert "4.67" in html
    assert "対象候補を登録" in html


def test_only_the_secretariat_gets_the_propose_button(signed_in):
    assert "対象候補を登録" not in signed_in("soumu").get(url("list")).content.decode()


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"status": "under_review"}, "b"),
        ({"track": "joint_procurement"}, "c"),
        ({"owning_ministry": "mhlw"}, "b"),
        ({"business_area": "child-allowance"}, "c"),
        ({"score": "3.3"}, "bc"),
        ({"score": "4.5"}, "b"),
        ({"q": "児童手当"}, "c"),
        ({"q": "審査会"}, "b"),  # the description is searched too
        ({"status": "selected", "owning_ministry": "cfa"}, "c"),
        ({"status": "selected", "owning_ministry": "soumu"}, ""),
    ],
)
def test_the_list_filters(signed_in, three, org, query, expected):
    if "owning_ministry" in query:
        query = {**query, "owning_ministry": org(query["owning_ministry"]).pk}
    if "business_area" in query:
        query = {**query, "business_area": BusinessArea.objects.get(code=query["business_area"]).pk}
    response = signed_in("secretariat").get(url("list"), query)
    assert response.status_code == 200
    names = dict(zip("abc", three))
    assert set(listed(response, three)) == {names[x].pk for x in expected}
    if not expected and not response.context["candidates"]:
        assert "条件に合う対象候補はありません" in response.content.decode()


def test_a_bad_filter_value_is_reported_and_not_applied(signed_in, three):
    response = signed_in("secretariat").get(url("list"), {"score": "9"})
    assert response.status_code == 200
    assert response.context["filterset"].form.errors["score"]
    assert len(listed(response, three)) == 3


@pytest.mark.parametrize(
    "ordering, expected",
    [
        ("-weighted_total", "bca"),
        ("weighted_total", "acb"),
        ("title", "abc"),
        ("-title", "cba"),
        ("created", "abc"),
        ("-created", "cba"),
        ("", "cba"),  # newest first by default
    ],
)
def test_the_list_sorts(signed_in, three, ordering, expected):
    response = signed_in("secretariat").get(url("list"), {"ordering": ordering} if ordering else {})
    names = dict(zip("abc", three))
    assert listed(response, three) == [names[x].pk for x in expected]


def test_unscored_candidates_sort_last_either_way(signed_in, three, propose):
    unscored = propose(title="え 評価なし")
    for ordering in ("weighted_total", "-weighted_total"):
        response = signed_in("secretariat").get(url("list"), {"ordering": ordering, "q": "評価なし"})
        assert listed(response, [unscored]) == [unscored.pk]
        response = signed_in("secretariat").get(url("list"), {"ordering": ordering})
        pks = [c.pk for c in response.context["candidates"]]
        scored = [c.pk for c in response.context["candidates"] if c.weighted_total is not None]
        assert pks[: len(scored)] == scored


def test_sort_links_keep_the_filters_and_toggle(signed_in, three):
    response = signed_in("secretariat").get(url("list"), {"status": "selected", "ordering": "-weighted_total"})
    html = response.content.decode()
    assert 'aria-sort="descending"' in html
    assert "?status=selected&amp;ordering=weighted_total" in html


def test_a_local_official_lists_only_selected_candidates(signed_in, three):
    response = signed_in("sapporo").get(url("list"))
    a, b, c = three
    assert listed(response, three) == [c.pk]
    assert all(x.status == "selected" for x in response.context["candidates"])
    # Filtering cannot reveal what the scope hides.
    response = signed_in("sapporo").get(url("list"), {"status": "proposed"})
    assert list(response.context["candidates"]) == []


def test_the_list_is_paginated_by_fifty(signed_in, user, org):
    for i in range(51):
        Candidate.objects.create(
            title=f"ページ送り確認 {i:02d}", description="-", owning_ministry=org("soumu"),
            proposed_by=org("digital"), created_by=user("secretariat"),
        )
    client = signed_in("secretariat")
    first = client.get(url("list"), {"q": "ページ送り確認"})
    second = client.get(url("list"), {"q": "ページ送り確認", "page": 2})
    assert len(first.context["candidates"]) == 50
    assert len(second.context["candidates"]) == 1
    assert "?q=%E3%83%9A%E3%83%BC%E3%82%B8%E9%80%81%E3%82%8A%E7%A2%BA%E8%AA%8D&amp;page=2" in first.content.decode()
    assert client.get(url("list"), {"page": "999"}).status_code == 200


def test_the_list_reads_in_constant_queries(signed_in, propose, user, django_assert_max_num_queries):
    def add(count):
        for i in range(count):
            candidate = propose(title=f"件数確認 {i}", areas=["resident-registry", "family-register"])
            assessed(candidate, user, "secretariat", (3, 3, 3))
            assessed(candidate, user, "chijikai", (4, 4, 4))

    client = signed_in("chijikai")
    add(2)
    client.get(url("list"))  # warm the per-process caches (content types)
    with CaptureQueriesContext(connection) as few:
        client.get(url("list"))
    add(15)
    # session, user, memberships, weights, count, rows, two organization lists, business areas,
    # two-factor device
    with django_assert_max_num_queries(len(few)):
        response = client.get(url("list"))
    assert len(response.context["candidates"]) >= 17
    assert len(few) <= 10


# --- The detail page ------------------------------------------------------------------------------


@pytest.fixture
def scored(candidate, user):
    assessed(candidate, user, "secretariat", (5, 2, 4), rationale="事務局として重複の解消効果が大きいと判断。")
    assessed(candidate, user, "soumu", (3, 4, 4), rationale="所管省として制度改正への対応が容易になる。", viewpoints=["ii", "iii"],
             evidence=[pdf("制度改正の頻度.pdf")])
    assessed(candidate, user, "chijikai", (4, 3, 1), rationale="都道府県では移行時期の調整が難しい。", viewpoints=[])
    return candidate


def test_the_detail_shows_the_aggregates_and_the_weighted_total(signed_in, scored):
    response = signed_in("mhlw").get(url("detail", scored.pk))
    html = response.content.decode()
    need, effect, feasible = response.context["summary"].criteria
    assert (need.mean, need.min, need.max, need.spread, need.count) == (4, 3, 5, 2, 3)
    assert (feasible.mean, feasible.min, feasible.spread) == (3, 1, 3)
    assert response.context["summary"].weighted_total == pytest.approx(10 / 3)
    # The chart says its numbers, and the table repeats them.
    assert 'role="img" aria-label="① 利用者起点：平均 4.00（1〜5の5段階）、最小 3、最大 5、ばらつき 2、評価者 3人"' in html
    assert 'aria-label="③ 実現可能性の評点の分布：1点 1人、2点 0人、3点 0人、4点 2人、5点 0人"' in html
    assert "<svg" in html and "<script" not in html.split("</header>", 1)[1]
    table = html.split('id="criteria-table-caption"', 1)[1].split("</table>", 1)[0]
    assert all(number in table for number in ("4.00", "3.00", "3.33"))
    assert "3.33" in html.split('class="score-total"', 1)[1].split("</div>", 1)[0]


def test_the_detail_uses_the_weights_set(signed_in, scored, user):
    actions.set_weights(user("secretariat"), user_need=Decimal(2), expected_effect=Decimal(1), feasibility=Decimal(1))
    response = signed_in("soumu").get(url("detail", scored.pk))
    assert response.context["summary"].weighted_total == pytest.approx((2 * 4 + 3 + 3) / 4)
    assert "3.50" in response.content.decode()


def test_the_detail_shows_every_assessors_rationale_side_by_side(signed_in, scored):
    html = signed_in("chosonkai").get(url("detail", scored.pk)).content.decode()
    cards = html.split('class="card assessment-card')[1:]
    assert len(cards) == 3
    assert "事務局として重複の解消効果が大きいと判断。" in cards[0] and "デジタル庁" in cards[0]
    assert "所管省として制度改正への対応が容易になる。" in cards[1] and "総務省" in cards[1]
    assert "ii) 制度改正への対応が多い、又は大きな制度改正がある" in cards[1]
    assert "制度改正の頻度.pdf" in cards[1]
    assert "都道府県では移行時期の調整が難しい。" in cards[2] and "全国知事会" in cards[2]


def test_the_detail_shows_the_history_in_tokyo_time(signed_in, candidate, user):
    actions.decide(candidate, user("secretariat"), "under_review", comment="審議に付す")
    html = signed_in("chijikai").get(url("detail", candidate.pk)).content.decode()
    history = html.split('id="history-heading"', 1)[1]
    assert "審議に付す" in history and "デジタル庁 事務局" in history
    assert "審議中" in history and "提案" in history
    at = candidate.history().last().at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}" in history


def test_an_empty_candidate_page_explains_there_are_no_assessments(signed_in, candidate):
    html = signed_in("soumu").get(url("detail", candidate.pk)).content.decode()
    assert "まだ評価がありません" in html
    assert f'href="{url("assess", candidate.pk)}"' in html


def test_only_the_secretariat_sees_the_transition_buttons(signed_in, candidate):
    html = signed_in("secretariat").get(url("detail", candidate.pk)).content.decode()
    assert 'name="to" value="under_review"' in html and 'name="to" value="withdrawn"' in html
    assert 'name="to" value="selected"' not in html  # not allowed from "proposed"
    assert f'href="{url("edit", candidate.pk)}"' in html
    html = signed_in("soumu").get(url("detail", candidate.pk)).content.decode()
    assert 'name="to"' not in html and f'href="{url("edit", candidate.pk)}"' not in html
    assert "評価する" in html


def test_the_decision_form_appears_under_review(signed_in, candidate):
    put_in(candidate, "under_review")
    html = signed_in("secretariat").get(url("detail", candidate.pk)).content.decode()
    assert 'name="to" value="selected"' in html and 'name="to" value="not_selected"' in html
    assert 'name="track"' in html and "(b) 共通化" in html


def test_another_ministry_cannot_assess_and_sees_no_link(signed_in, candidate):
    html = signed_in("mhlw").get(url("detail", candidate.pk)).content.decode()
    assert f'href="{url("assess", candidate.pk)}"' not in html


def test_the_secretariat_is_offered_a_study_for_a_selected_candidate(signed_in, candidate):
    put_in(candidate, "selected")
    html = signed_in("secretariat").get(url("detail", candidate.pk)).content.decode()
    assert f'href="{url("assign-study", candidate.pk)}"' in html


# --- Propose and edit -------------------------------------------------------------------------------


def candidate_data(org, **overrides):
    return {
        "title": "窓口予約の共通化",
        "description": "来庁予約を共通の仕組みで受け付ける。",
        "owning_ministry": org("soumu").pk,
        "business_areas": [BusinessArea.objects.get(code="resident-registry").pk],
        "proposed_by": org("digital").pk,
        **overrides,
    }


def test_the_secretariat_proposes_a_candidate(signed_in, org):
    client = signed_in("secretariat")
    form = client.get(url("create")).context["form"]
    assert form["proposed_by"].value() == org("digital").pk
    assert {o.kind for o in form.fields["owning_ministry"].queryset} == {"ministry"}
    assert form.fields["business_areas"].queryset.count() == 20
    response = client.post(url("create"), candidate_data(org), follow=True)
    candidate = Candidate.objects.get(title="窓口予約の共通化")
    assert response.redirect_chain[-1][0] == candidate.get_absolute_url()
    assert "対象候補「窓口予約の共通化」を登録しました。" in response.content.decode()
    assert [a.code for a in candidate.business_areas.all()] == ["resident-registry"]
    assert (candidate.status, candidate.proposed_by.code, candidate.created_by.username) == ("proposed", "digital", "secretariat")


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"title": ""}, "title"),
        ({"title": "あ" * 201}, "title"),
        ({"description": "あ" * 10_001}, "description"),
        ({"owning_ministry": ""}, "owning_ministry"),
        ({"owning_ministry": "chijikai"}, "owning_ministry"),  # an association is not a ministry
        ({"business_areas": ["999999"]}, "business_areas"),
    ],
)
def test_a_bad_proposal_shows_the_error_next_to_the_field_and_saves_nothing(signed_in, org, overrides, field):
    if overrides.get("owning_ministry") == "chijikai":
        overrides = {"owning_ministry": org("chijikai").pk}
    before = Candidate.objects.count()
    response = signed_in("secretariat").post(url("create"), candidate_data(org, **overrides))
    html = response.content.decode()
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in html
    assert re.search(f'aria-describedby="[^"]*id_{field}_error', html)
    assert "入力内容に誤りがあります" in html
    assert Candidate.objects.count() == before


def test_only_the_secretariat_may_post_a_proposal(signed_in, org):
    before = Candidate.objects.count()
    assert signed_in("soumu").post(url("create"), candidate_data(org)).status_code == 403
    assert Candidate.objects.count() == before


def test_the_secretariat_edits_a_candidate(signed_in, candidate, org):
    client = signed_in("secretariat")
    assert client.get(url("edit", candidate.pk)).context["form"]["title"].value() == candidate.title
    response = client.post(url("edit", candidate.pk), candidate_data(org, title="公金受取口座の登録支援（改）", business_areas=[]))
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.title == "公金受取口座の登録支援（改）"
    assert candidate.business_areas.count() == 0


def test_a_bad_edit_saves_nothing(signed_in, candidate, org):
    response = signed_in("secretariat").post(url("edit", candidate.pk), candidate_data(org, title="", description="あ" * 10_001))
    assert set(response.context["form"].errors) == {"title", "description"}
    assert Candidate.objects.get(pk=candidate.pk).title == "公金受取口座の登録支援"
    assert "公金受取口座の登録支援" in response.content.decode()  # the stored title, not the typed one


def test_a_decided_candidate_cannot_be_edited(signed_in, candidate, org):
    put_in(candidate, "selected")
    response = signed_in("secretariat").post(url("edit", candidate.pk), candidate_data(org))
    assert response.status_code == 403
    assert Candidate.objects.get(pk=candidate.pk).title == "公金受取口座の登録支援"


# --- Assess ---------------------------------------------------------------------------------------------


def test_an_association_assesses_with_evidence(signed_in, candidate):
    client = signed_in("chijikai")
    html = client.get(url("assess", candidate.pk)).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert html.count("<fieldset") >= 4 and "<legend>① 利用者起点" in html
    assert 'type="radio" name="user_need" value="5"' in html
    assert 'type="file" name="evidence"' in html and "multiple" in html
    response = client.post(
        url("assess", candidate.pk),
        {**assess_data(), "evidence": [pdf("調査.pdf"), SimpleUploadedFile("集計.csv", "団体,件数\n札幌市,3\n".encode())]},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"{candidate.get_absolute_url()}#assessments"
    assert "評価を登録しました。" in response.content.decode()
    assessment = Assessment.objects.get(candidate=candidate)
    assert (assessment.organization.code, assessment.scores(), assessment.viewpoints) == (
        "chijikai", {"user_need": 4, "expected_effect": 3, "feasibility": 5}, ["ii"])
    assert {e.original_name for e in assessment.evidence.all()} == {"集計.csv", "調査.pdf"}


def test_the_assess_form_is_prefilled_to_revise(signed_in, candidate, user):
    assessed(candidate, user, "soumu", (2, 5, 3), rationale="前回の理由", viewpoints=["iii"])
    client = signed_in("soumu")
    response = client.get(url("assess", candidate.pk))
    html = response.content.decode()
    assert "評価の修正" in html and "前回の理由" in html
    assert re.search(r'name="user_need" value="2"[^>]*checked', html)
    assert re.search(r'name="viewpoints" value="iii"[^>]*checked', html)
    assert response.context["form"].initial == {
        "user_need": 2, "expected_effect": 5, "feasibility": 3, "rationale": "前回の理由", "viewpoints": ["iii"]}
    client.post(url("assess", candidate.pk), assess_data(rationale="改めた理由"))
    assert Assessment.objects.get(candidate=candidate, assessor__username="soumu").rationale == "改めた理由"
    assert Assessment.objects.filter(candidate=candidate).count() == 1


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"user_need": "6"}, "user_need"),
        ({"expected_effect": "0"}, "expected_effect"),
        ({"feasibility": ""}, "feasibility"),
        ({"feasibility": "abc"}, "feasibility"),
        ({"rationale": ""}, "rationale"),
        ({"rationale": "   "}, "rationale"),
        ({"rationale": "あ" * 4001}, "rationale"),
        ({"viewpoints": ["iv"]}, "viewpoints"),
        ({"evidence": [SimpleUploadedFile("tool.pdf", b"MZ\x90\x00 not a pdf")]}, "evidence"),
        ({"evidence": [SimpleUploadedFile("table.xlsx", PDF)]}, "evidence"),  # a PDF called .xlsx
        ({"evidence": [SimpleUploadedFile("big.pdf", PDF + b"\x00" * (20 * 1024 * 1024))]}, "evidence"),
    ],
)
def test_a_bad_assessment_shows_the_error_next_to_the_field_and_saves_nothing(signed_in, candidate, user, overrides, field):
    assessed(candidate, user, "chijikai", (1, 1, 1), rationale="元の評価")
    response = signed_in("chijikai").post(url("assess", candidate.pk), assess_data(**overrides))
    html = response.content.decode()
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in html
    assert re.search(f'aria-describedby="[^"]*id_{field}_error', html)
    assessment = Assessment.objects.get(candidate=candidate, assessor__username="chijikai")
    assert (assessment.rationale, assessment.user_need) == ("元の評価", 1)
    assert AssessmentEvidence.objects.filter(assessment__candidate=candidate).count() == 0


def test_a_too_large_evidence_file_is_named_in_the_error(signed_in, candidate):
    big = SimpleUploadedFile("大きな資料.pdf", PDF + b"\x00" * (20 * 1024 * 1024))
    response = signed_in("secretariat").post(url("assess", candidate.pk), assess_data(evidence=[big]))
    assert "ファイル「大きな資料.pdf」は20MBを超えています。" in response.context["form"].errors["evidence"]
    assert not Assessment.objects.filter(candidate=candidate).exists()


def test_a_refused_assessor_gets_403_and_nothing_is_saved(signed_in, candidate):
    assert signed_in("mhlw").post(url("assess", candidate.pk), assess_data()).status_code == 403
    assert not Assessment.objects.filter(candidate=candidate).exists()


# --- Transitions --------------------------------------------------------------------------------------------


def test_the_secretariat_moves_a_candidate_with_a_message(signed_in, candidate):
    response = signed_in("secretariat").post(
        url("transition", candidate.pk), {"to": "under_review", "comment": "第1回協議会で審議"}, follow=True)
    assert response.redirect_chain[-1][0] == candidate.get_absolute_url()
    assert "「審議中」にしました" in response.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == "under_review"
    assert candidate.history().last().comment == "第1回協議会で審議"


def test_a_decision_records_the_track_and_the_note(signed_in, candidate, user):
    put_in(candidate, "under_review")
    assessed(candidate, user)
    signed_in("secretariat").post(
        url("transition", candidate.pk), {"to": "selected", "track": "commonization", "comment": "3基準を満たす"})
    candidate.refresh_from_db()
    assert (candidate.status, candidate.track, candidate.decision_note, candidate.decided_on) == (
        "selected", "commonization", "3基準を満たす", calendar.today())


def test_a_decision_without_a_track_shows_the_error_next_to_the_track(signed_in, candidate, user):
    put_in(candidate, "under_review")
    assessed(candidate, user)
    response = signed_in("secretariat").post(url("transition", candidate.pk), {"to": "not_selected", "comment": "x"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "track" in response.context["transition_form"].errors
    assert 'id="id_track_error"' in html and "区分" in html
    assert Candidate.objects.get(pk=candidate.pk).status == "under_review"


def test_a_move_the_workflow_refuses_is_409_with_a_message(signed_in, candidate):
    response = signed_in("secretariat").post(url("transition", candidate.pk), {"to": "selected", "track": "commonization"})
    assert response.status_code == 409
    assert "「提案」から「選定」へは変更できません。" in response.content.decode()
    assert Candidate.objects.get(pk=candidate.pk).status == "proposed"


def test_selecting_without_assessments_is_409_with_the_reason(signed_in, candidate):
    put_in(candidate, "under_review")
    response = signed_in("secretariat").post(url("transition", candidate.pk), {"to": "selected", "track": "commonization"})
    assert response.status_code == 409
    assert "評価が必要" in response.content.decode()
    assert Candidate.objects.get(pk=candidate.pk).status == "under_review"


@pytest.mark.parametrize("username, status", [("soumu", 403), ("chijikai", 403), ("sapporo", 404)])
def test_only_the_secretariat_may_move_a_candidate(signed_in, candidate, username, status):
    assert signed_in(username).post(url("transition", candidate.pk), {"to": "under_review"}).status_code == status
    assert Candidate.objects.get(pk=candidate.pk).status == "proposed"


def test_transition_is_post_only(signed_in, candidate):
    assert signed_in("secretariat").get(url("transition", candidate.pk)).status_code == 405


def test_a_too_long_comment_is_refused(signed_in, candidate):
    response = signed_in("secretariat").post(url("transition", candidate.pk), {"to": "under_review", "comment": "あ" * 4001})
    assert "comment" in response.context["transition_form"].errors
    assert Candidate.objects.get(pk=candidate.pk).status == "proposed"


# --- Weights ----------------------------------------------------------------------------------------------------


def test_the_secretariat_sets_the_weights(signed_in):
    client = signed_in("secretariat")
    response = client.post(url("weights"), {"user_need": "2.5", "expected_effect": "1", "feasibility": "0.5"}, follow=True)
    assert "評価基準の重みを更新しました" in response.content.decode()
    weights = CriteriaWeights.current()
    assert (weights.user_need, weights.expected_effect, weights.feasibility) == (Decimal("2.5"), 1, Decimal("0.5"))
    assert weights.updated_by.username == "secretariat"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"user_need": "0", "expected_effect": "0", "feasibility": "0"}, None),
        ({"user_need": "11", "expected_effect": "1", "feasibility": "1"}, "user_need"),
        ({"user_need": "1", "expected_effect": "-1", "feasibility": "1"}, "expected_effect"),
        ({"user_need": "1", "expected_effect": "1", "feasibility": ""}, "feasibility"),
    ],
)
def test_bad_weights_are_refused_and_nothing_is_saved(signed_in, data, field):
    response = signed_in("secretariat").post(url("weights"), data)
    errors = response.context["form"].errors
    assert response.status_code == 200
    assert (field in errors) if field else errors.get("__all__")
    assert not CriteriaWeights.objects.exists()


def test_others_may_not_set_weights(signed_in):
    assert signed_in("chijikai").post(url("weights"), {"user_need": "2", "expected_effect": "1", "feasibility": "1"}).status_code == 403
    assert not CriteriaWeights.objects.exists()


# --- Assign a study ---------------------------------------------------------------------------------------------


def a_business_day(days=30):
    return calendar.next_business_day(calendar.today() + timedelta(days=days))


def next_saturday():
    today = calendar.today()
    return today + timedelta(days=(5 - today.weekday()) % 7 or 7)


def test_the_secretariat_assigns_a_study(signed_in, candidate):
    put_in(candidate, "selected")
    due = a_business_day()
    client = signed_in("secretariat")
    assert 'type="date"' in client.get(url("assign-study", candidate.pk)).content.decode()
    response = client.post(url("assign-study", candidate.pk), {"due_date": due.isoformat()}, follow=True)
    study = FeasibilityStudy.objects.get(candidate=candidate)
    assert response.redirect_chain[-1][0] == study.get_absolute_url()
    html = response.content.decode()
    assert f"総務省に実現可能性調査を依頼しました。提出期限は{due.year}年{due.month}月{due.day}日です。" in html
    assert "翌開庁日" not in html
    assert (study.due_date, study.ministry.code) == (due, "soumu")


def test_a_due_date_on_a_holiday_moves_and_the_message_says_so(signed_in, candidate):
    put_in(candidate, "selected")
    saturday = next_saturday()
    response = signed_in("secretariat").post(url("assign-study", candidate.pk), {"due_date": saturday.isoformat()}, follow=True)
    study = FeasibilityStudy.objects.get(candidate=candidate)
    assert study.due_date > saturday
    assert f"指定された{saturday.year}年{saturday.month}月{saturday.day}日は行政機関の休日のため、翌開庁日に変更しました。" in response.content.decode()


@pytest.mark.parametrize("due", ["today", "past", "", "2026-13-45"])
def test_a_due_date_that_is_not_in_the_future_is_refused(signed_in, candidate, due):
    put_in(candidate, "selected")
    value = {"today": calendar.today().isoformat(), "past": (calendar.today() - timedelta(days=3)).isoformat()}.get(due, due)
    response = signed_in("secretariat").post(url("assign-study", candidate.pk), {"due_date": value})
    html = response.content.decode()
    assert response.status_code == 200
    assert "due_date" in response.context["form"].errors
    assert 'id="id_due_date_error"' in html
    assert not FeasibilityStudy.objects.filter(candidate=candidate).exists()


def test_no_study_for_a_candidate_that_is_not_selected(signed_in, candidate):
    put_in(candidate, "not_selected")
    client = signed_in("secretariat")
    assert "まだ選定されていません" in client.get(url("assign-study", candidate.pk)).content.decode()
    response = client.post(url("assign-study", candidate.pk), {"due_date": a_business_day().isoformat()})
    assert "実現可能性調査は選定された対象候補についてのみ依頼できます。" in response.content.decode()
    assert response.context["form"].non_field_errors()
    assert not FeasibilityStudy.objects.filter(candidate=candidate).exists()


def test_a_second_study_is_refused(signed_in, candidate, user):
    put_in(candidate, "selected")
    actions.assign_study(candidate, user("secretariat"), due_date=a_business_day())
    response = signed_in("secretariat").post(url("assign-study", candidate.pk), {"due_date": a_business_day(40).isoformat()})
    assert "既に実現可能性調査が依頼されています" in response.content.decode()
    assert FeasibilityStudy.objects.filter(candidate=candidate).count() == 1


def test_only_the_secretariat_assigns(signed_in, candidate):
    put_in(candidate, "selected")
    assert signed_in("soumu").post(url("assign-study", candidate.pk), {"due_date": a_business_day().isoformat()}).status_code == 403
    assert not FeasibilityStudy.objects.filter(candidate=candidate).exists()


# --- Evidence downloads ------------------------------------------------------------------------------------------


def test_evidence_is_served_as_an_attachment_to_who_sees_the_candidate(signed_in, candidate, user):
    assessed(candidate, user, "soumu", evidence=[pdf("根拠 資料.pdf")])
    evidence = AssessmentEvidence.objects.get()
    response = signed_in("chijikai").get(url("evidence-download", evidence.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"download.pdf\"; filename*=UTF-8''%E6%A0%B9%E6%8B%A0%20%E8%B3%87%E6%96%99.pdf")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_evidence_of_an_unpublished_candidate_is_404_for_local_officials(signed_in, candidate, user):
    assessed(candidate, user, "soumu", evidence=[pdf()])
    evidence = AssessmentEvidence.objects.get()
    assert signed_in("sapporo").get(url("evidence-download", evidence.pk)).status_code == 404
    put_in(candidate, "selected")
    assert signed_in("sapporo").get(url("evidence-download", evidence.pk)).status_code == 200
    assert signed_in("sapporo").get(url("evidence-download", 999_999)).status_code == 404


@pytest.mark.parametrize(
    "name, header",
    [
        ("report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
        ("資料.xlsx", "attachment; filename=\"download.xlsx\"; filename*=UTF-8''%E8%B3%87%E6%96%99.xlsx"),
        ('a"b;c.csv', "attachment; filename=\"abc.csv\"; filename*=UTF-8''a%22b%3Bc.csv"),
    ],
)
def test_content_disposition_names(name, header):
    assert content_disposition(name) == header
