"""The adoption pages: the overview per policy (status counts, 47 prefectures, drill-down to
municipalities), a local official's own rows and their edit form, and the owning ministry's
all-or-nothing import.

A consented policy with a schedule makes 1,788 adoption rows: each test builds it once
through the `schedule` fixture, and the role checks loop inside one test.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from progress import actions
from progress.models import Adoption, AdoptionChange

pytestmark = pytest.mark.django_db

ROLES = ("secretariat", "soumu", "mhlw", "chijikai", "sapporo", "hokkaido")
SAPPORO, ASAHIKAWA, HOKKAIDO, TOKYO, TOTTORI = "011002", "012041", "010006", "130001", "310000"


@pytest.fixture
def signed_in(client, demo_password):
    def login(username: str):
        client.logout()
        assert client.login(username=username, password=demo_password)
        return client

    return login


@pytest.fixture
def schedule(consented_policy, user):
    return actions.set_schedule(consented_policy(), user("secretariat"), frequency="quarterly", due_days_after_period=30)


@pytest.fixture
def policy(schedule):
    return schedule.policy


@pytest.fixture
def row(policy):
    def get(code: str) -> Adoption:
        return Adoption.objects.select_related("organization").get(policy=policy, organization__code=code)

    return get


def url(name, *args):
    return reverse(f"progress:{name}", args=args)


def overview(policy, **params):
    from urllib.parse import urlencode

    return f"{url('adoption')}?{urlencode({'policy': policy.pk, **params})}"


def statuses(client, paths) -> list[int]:
    return [client.get(path).status_code for path in paths]


def csv_upload(text: str, name: str = "adoption.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


# --- Who reaches which page ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/adoption/", "/adoption/mine/", "/adoption/1/edit/", "/policies/1/adoption/import/"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == f"/accounts/login/?next={path}"


def test_adoption_pages_by_role(signed_in, policy, row):
    sapporo, asahikawa = row(SAPPORO), row(ASAHIKAWA)
    paths = [
        overview(policy), overview(policy, prefecture=HOKKAIDO), url("adoption-mine"),
        url("adoption-edit", sapporo.pk), url("adoption-edit", asahikawa.pk), url("adoption-import", policy.pk),
    ]
    expected = {
        # The owning ministry may correct any row; a local official only its own.
        "secretariat": [200, 200, 403, 403, 403, 403],
        "soumu": [200, 200, 403, 200, 200, 200],
        "mhlw": [200, 200, 403, 403, 403, 403],
        "chijikai": [200, 200, 403, 403, 403, 403],
        "sapporo": [200, 200, 200, 200, 403, 403],
        "hokkaido": [200, 200, 200, 403, 403, 403],
    }
    for username in ROLES:
        assert statuses(signed_in(username), paths) == expected[username], username


def test_unknown_or_hidden_policies_and_prefectures_are_404(signed_in, policy, submitted_policy, user):
    draft = submitted_policy("mhlw")
    # Rows of a policy that is not published to local officials (made here on purpose).
    actions.ensure_adoption_rows(draft)
    client = signed_in("sapporo")
    assert client.get(overview(draft)).status_code == 404
    assert client.get(url("adoption-edit", Adoption.objects.get(policy=draft, organization__code=SAPPORO).pk)).status_code == 404
    assert client.get(url("adoption-import", draft.pk)).status_code == 404
    assert client.get(overview(policy, prefecture="999999")).status_code == 404
    assert client.get(overview(policy, prefecture=SAPPORO)).status_code == 404  # a municipality is no prefecture
    assert client.get(f"{url('adoption')}?policy=abc").status_code == 404
    assert client.get(url("adoption-edit", 999_999)).status_code == 404


def test_without_any_policy_the_page_explains(signed_in):
    response = signed_in("sapporo").get(url("adoption"))
    assert response.status_code == 200
    assert "導入状況を集計している方針はまだありません" in response.content.decode()


# --- The overview ---------------------------------------------------------------------------------


def test_the_overview_counts_statuses_per_prefecture(signed_in, policy, row, user):
    actions.change_adoption(row(SAPPORO), user("sapporo"), status="in_use")
    actions.change_adoption(row(ASAHIKAWA), user("soumu"), status="planned", target_fiscal_year=2028)
    actions.change_adoption(row(HOKKAIDO), user("hokkaido"), status="considering")
    actions.change_adoption(row(TOKYO), user("soumu"), status="in_use")

    response = signed_in("chijikai").get(overview(policy))
    assert response.status_code == 200
    context = response.context
    assert context["policy"] == policy
    # The first page shows the policy chosen by default too.
    assert signed_in("chijikai").get(url("adoption")).context["policy"] == policy
    assert context["national_total"] == 1788 and context["national_rate"] == pytest.approx(2 / 1788 * 100, abs=0.1)
    prefectures = context["prefectures"]
    assert len(prefectures) == 47
    hokkaido = prefectures[0]
    assert hokkaido["organization"].code == HOKKAIDO and hokkaido["total"] == 180  # itself + 179 municipalities
    # Columns in AdoptionStatus order: not_planned, considering, planned, migrating, in_use, not_applicable.
    assert hokkaido["counts"] == [177, 1, 1, 0, 1, 0]
    assert sum(p["total"] for p in prefectures) == 1788
    bar = context["bar"]
    assert [s.count for s in bar.segments] == [1784, 1, 1, 0, 2, 0]
    html = response.content.decode()
    assert 'role="img"' in html and "全国の導入状況（1,788団体）" in html
    assert f'href="?policy={policy.pk}&amp;prefecture={HOKKAIDO}"' in html
    # The map colours each prefecture by its rate and links to the same drill-down.
    assert 'class="jpmap"' in html and f"prefecture={HOKKAIDO}" in html and "北海道：27.2%" not in html
    assert "東京都：1.6%" in html  # 1 in use among 63
    assert "利用中 2団体" in html


def test_drilling_into_a_prefecture_lists_its_governments(signed_in, policy, row, user):
    actions.change_adoption(row(ASAHIKAWA), user("soumu"), status="planned", target_fiscal_year=2028)
    response = signed_in("sapporo").get(overview(policy, prefecture=HOKKAIDO))
    rows = list(response.context["rows"])
    assert len(rows) == 180 and rows[0].organization.code == HOKKAIDO
    assert response.context["bar"].total == 180
    html = response.content.decode()
    assert "北海道の導入状況" in html and "旭川市" in html and "2028年度" in html
    # Sapporo's official gets the edit link of its own row only.
    assert url("adoption-edit", row(SAPPORO).pk) in html
    assert url("adoption-edit", row(ASAHIKAWA).pk) not in html
    # The owning ministry may correct any row.
    assert url("adoption-edit", row(ASAHIKAWA).pk) in signed_in("soumu").get(overview(policy, prefecture=HOKKAIDO)).content.decode()


def test_the_status_filter_lists_matching_governments(signed_in, policy, row, user):
    actions.change_adoption(row(SAPPORO), user("sapporo"), status="in_use")
    actions.change_adoption(row(TOKYO), user("soumu"), status="in_use")
    client = signed_in("secretariat")
    national = client.get(overview(policy, status="in_use")).context["rows"]
    assert {r.organization.code for r in national} == {SAPPORO, TOKYO}
    in_hokkaido = client.get(overview(policy, prefecture=HOKKAIDO, status="in_use")).context["rows"]
    assert [r.organization.code for r in in_hokkaido] == [SAPPORO]
    bad = client.get(overview(policy, status="using"))
    assert bad.status_code == 200 and bad.context["filter_form"].errors and bad.context["page_obj"] is None


def test_the_overview_reads_in_constant_queries(signed_in, policy, row, user, django_assert_max_num_queries):
    client = signed_in("sapporo")
    with CaptureQueriesContext(connection) as national:
        client.get(overview(policy))
    with CaptureQueriesContext(connection) as small:
        client.get(overview(policy, prefecture=TOTTORI))
    # Many more rows changed, and the biggest prefecture: the same number of queries.
    Adoption.objects.filter(policy=policy, organization__code__startswith="01").update(status="in_use")
    Adoption.objects.filter(policy=policy, organization__code__startswith="13").update(status="migrating")
    with django_assert_max_num_queries(len(national)):
        client.get(overview(policy))
    with django_assert_max_num_queries(len(small)):
        response = client.get(overview(policy, prefecture=HOKKAIDO))
    assert len(response.context["rows"]) == 180
    assert len(national) <= 10


# --- A local official's own rows --------------------------------------------------------------------


def test_my_adoption_lists_only_my_organizations_rows(signed_in, policy, row):
    response = signed_in("sapporo").get(url("adoption-mine"))
    [(organization, rows)] = response.context["organizations"].items()
    assert organization.code == SAPPORO and [r.pk for r in rows] == [row(SAPPORO).pk]
    html = response.content.decode()
    assert url("adoption-edit", row(SAPPORO).pk) in html
    assert url("adoption-edit", row(ASAHIKAWA).pk) not in html and "旭川市" not in html
    assert policy.title in html


def test_a_local_official_updates_its_own_status(signed_in, row):
    sapporo = row(SAPPORO)
    response = signed_in("sapporo").post(url("adoption-edit", sapporo.pk), {"status": "planned", "target_fiscal_year": "2028"})
    assert response.status_code == 302 and response["Location"] == url("adoption-mine")
    sapporo.refresh_from_db()
    assert (sapporo.status, sapporo.target_fiscal_year) == ("planned", 2028)
    change = AdoptionChange.objects.get(adoption=sapporo)
    assert (change.from_status, change.to_status, change.source, change.changed_by.username) == ("not_planned", "planned", "web", "sapporo")
    page = signed_in("sapporo").get(url("adoption-edit", sapporo.pk)).content.decode()
    assert "変更の履歴" in page and "2028年度" in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({"status": "planned", "target_fiscal_year": ""}, "導入予定の場合は導入予定年度を入力してください。"),
        ({"status": "in_use", "target_fiscal_year": "2028"}, "導入予定年度は導入予定の場合のみ入力します。"),
        ({"status": "planned", "target_fiscal_year": "令和10"}, "年度は西暦の数字で入力してください"),
        ({"status": "planned", "target_fiscal_year": "1999"}, "2000 以上"),
    ],
)
def test_a_bad_adoption_shows_the_error_next_to_the_year_and_saves_nothing(signed_in, row, data, message):
    sapporo = row(SAPPORO)
    response = signed_in("sapporo").post(url("adoption-edit", sapporo.pk), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["target_fiscal_year"])
    assert 'id="id_target_fiscal_year_error"' in response.content.decode()
    sapporo.refresh_from_db()
    assert (sapporo.status, sapporo.target_fiscal_year) == ("not_planned", None)
    assert not AdoptionChange.objects.exists()


def test_sapporo_cannot_change_asahikawa(signed_in, row):
    asahikawa = row(ASAHIKAWA)
    client = signed_in("sapporo")
    assert client.get(url("adoption-edit", asahikawa.pk)).status_code == 403
    assert client.post(url("adoption-edit", asahikawa.pk), {"status": "in_use"}).status_code == 403
    asahikawa.refresh_from_db()
    assert asahikawa.status == "not_planned" and not AdoptionChange.objects.exists()


def test_the_owning_ministry_corrects_a_row_and_returns_to_the_prefecture(signed_in, policy, row):
    asahikawa = row(ASAHIKAWA)
    response = signed_in("soumu").post(url("adoption-edit", asahikawa.pk), {"status": "migrating"})
    assert response.status_code == 302
    assert response["Location"] == overview(policy, prefecture=HOKKAIDO)
    assert Adoption.objects.get(pk=asahikawa.pk).status == "migrating"


# --- Import ------------------------------------------------------------------------------------


def test_a_good_import_applies_every_row(signed_in, policy, row):
    client = signed_in("soumu")
    assert "code,status,target_fiscal_year" in client.get(url("adoption-import", policy.pk)).content.decode()
    text = f"code,status,target_fiscal_year\n{SAPPORO},in_use,\n12041,planned,2029\n{TOKYO},not_planned,\n"
    response = client.post(url("adoption-import", policy.pk), {"file": csv_upload(text)})
    assert response.status_code == 302 and response["Location"] == overview(policy)
    assert (row(SAPPORO).status, row(ASAHIKAWA).status, row(ASAHIKAWA).target_fiscal_year) == ("in_use", "planned", 2029)
    message = str(list(response.wsgi_request._messages)[0])
    assert "3行を取り込み、2団体の導入状況を更新しました" in message
    assert AdoptionChange.objects.filter(source="import").count() == 2


def test_a_bad_line_shows_every_error_with_its_line_and_applies_nothing(signed_in, policy, row):
    text = (
        "code,status,target_fiscal_year\n"
        f"{SAPPORO},in_use,\n"
        "999999,in_use,\n"
        f"{ASAHIKAWA},planned,\n"
        f"{TOKYO},using,\n"
    )
    response = signed_in("soumu").post(url("adoption-import", policy.pk), {"file": csv_upload(text)})
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert errors == [
        "3行目：団体コード「999999」の地方公共団体はありません。",
        "4行目：導入予定の場合は導入予定年度が必要です。",
        "5行目：導入状況「using」は選べません。",
    ]
    html = response.content.decode()
    assert "3件の誤りがあります" in html and "何も取り込まれていません" in html
    assert all(e in html for e in errors)
    assert row(SAPPORO).status == "not_planned" and not AdoptionChange.objects.exists()


@pytest.mark.parametrize(
    "upload, message",
    [
        (SimpleUploadedFile("adoption.pdf", b"%PDF-1.4 not a table"), "CSV または XLSX のファイルを指定してください。"),
        (SimpleUploadedFile("adoption.xlsx", b"code,status,target_fiscal_year\n011002,in_use,\n"), "CSV または XLSX のファイルを指定してください。"),
        (SimpleUploadedFile("adoption.csv", b"code;status\n011002;in_use\n"), "1行目（見出し）は code,status,target_fiscal_year にしてください。"),
    ],
)
def test_a_wrong_file_is_refused_with_the_reason(signed_in, policy, row, upload, message):
    response = signed_in("soumu").post(url("adoption-import", policy.pk), {"file": upload})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [message]
    assert row(SAPPORO).status == "not_planned"


def test_no_file_is_a_field_error(signed_in, policy):
    response = signed_in("soumu").post(url("adoption-import", policy.pk), {})
    assert response.context["form"].errors["file"] == ["取り込むファイルを選んでください。"]


def test_only_the_owning_ministry_may_post_an_import(signed_in, policy, row):
    text = f"code,status,target_fiscal_year\n{SAPPORO},in_use,\n"
    for username in ("secretariat", "mhlw", "sapporo"):
        assert signed_in(username).post(url("adoption-import", policy.pk), {"file": csv_upload(text)}).status_code == 403
    assert row(SAPPORO).status == "not_planned"


def test_a_policy_not_consented_takes_no_import(signed_in, submitted_policy):
    draft = submitted_policy()
    text = f"code,status,target_fiscal_year\n{SAPPORO},in_use,\n"
    response = signed_in("soumu").post(url("adoption-import", draft.pk), {"file": csv_upload(text)})
    assert response.status_code == 200
    assert "同意済みの方針についてのみ取り込めます" in response.content.decode()
    assert not Adoption.objects.filter(policy=draft).exists()
