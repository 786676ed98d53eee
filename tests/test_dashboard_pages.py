"""The dashboard pages (home, a prefecture's municipalities, costs) and their downloads."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from council.dashboards import aggregates, queries
from progress import actions as progress_actions
from progress.models import Adoption, AdoptionStatus

ROLES = ("secretariat", "soumu", "mhlw", "chijikai", "hokkaido", "sapporo")


@pytest.fixture
def signed_in(client, demo_password):
    def login(username: str):
        client.logout()
        assert client.login(username=username, password=demo_password)
        return client

    return login


@pytest.fixture
def world(db, consented_policy, submitted_policy, user):
    consented = consented_policy("soumu")
    drafting = submitted_policy("mhlw")
    progress_actions.set_schedule(consented, user("secretariat"), frequency="quarterly", due_days_after_period=30)
    sapporo = Adoption.objects.get(policy=consented, organization__code="011002")
    progress_actions.change_adoption(sapporo, user("sapporo"), status=AdoptionStatus.IN_USE)
    aggregates.rebuild_all()
    return consented, drafting


def test_anonymous_is_sent_to_login(client, db):
    for url in ("/", "/dashboard/costs/", "/dashboard/prefectures/010006/?policy=1", "/dashboard/export/summary.csv"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_home_is_the_dashboard_for_every_role(signed_in, world):
    consented, drafting = world
    for username in ROLES:
        response = signed_in(username).get("/")
        assert response.status_code == 200, username
        html = response.content.decode()
        stages = {s["key"]: s["total"] for s in response.context["stages"]}
        assert stages["policies"] == 2 and stages["consent_outcomes"] == 1, username
        # The map of the consented policy, each prefecture linking to its municipalities.
        assert 'class="jpmap"' in html
        assert f'/dashboard/prefectures/010006/?policy={consented.pk}' in html
        rows = {r["policy"]["id"] for r in response.context["policy_rows"]}
        assert consented.pk in rows
        assert (drafting.pk in rows) == (username in ("secretariat", "mhlw", "soumu", "chijikai")), username


def test_the_map_colours_each_prefecture_by_its_rate(signed_in, world):
    response = signed_in("secretariat").get("/")
    adoption = response.context["adoption"]
    hokkaido = next(r for r in adoption["results"] if r["code"] == "010006")
    assert hokkaido["in_use_rate"] == round(100 / 180, 1)
    html = response.content.decode()
    assert "北海道：0.6%" in html
    assert "東京都：0.0%" in html


def test_a_bad_filter_is_reported_and_ignored(signed_in, world):
    response = signed_in("secretariat").get("/?fiscal_year=1999&ministry=abc")
    assert response.status_code == 200
    form = response.context["form"]
    assert "fiscal_year" in form.errors and "ministry" in form.errors
    assert response.context["filters"] == queries.Filters()


def test_filters_narrow_the_figures(signed_in, world, org):
    consented, drafting = world
    response = signed_in("secretariat").get(f"/?ministry={org('mhlw').pk}" if False else f"/?ministry={drafting.ministry_id}")
    stages = {s["key"]: s["total"] for s in response.context["stages"]}
    assert stages["policies"] == 1 and stages["consent_outcomes"] == 0
    assert response.context["map_policy"] is None  # 厚生労働省 has no consented policy
    response = signed_in("secretariat").get(f"/?policy={consented.pk}")
    assert response.context["map_policy"] == consented


def test_prefecture_page_lists_its_local_governments(signed_in, world):
    consented, _ = world
    response = signed_in("sapporo").get(f"/dashboard/prefectures/010006/?policy={consented.pk}")
    assert response.status_code == 200
    rows = response.context["data"]["results"]
    assert len(rows) == 180 and rows[0]["name"] == "北海道"
    html = response.content.decode()
    assert '<tr class="is-own"><td>011002</td><th scope="row">札幌市</th><td><span class="adoption-legend__swatch adoption-seg--in_use"' in html
    assert "利用中" in html


def test_prefecture_page_refuses_what_is_not_there_or_not_visible(signed_in, world):
    consented, drafting = world
    client = signed_in("sapporo")
    assert client.get(f"/dashboard/prefectures/999999/?policy={consented.pk}").status_code == 404
    assert client.get("/dashboard/prefectures/010006/").status_code == 404
    assert client.get("/dashboard/prefectures/010006/?policy=abc").status_code == 404
    assert client.get(f"/dashboard/prefectures/010006/?policy={drafting.pk}").status_code == 404
    assert signed_in("mhlw").get(f"/dashboard/prefectures/010006/?policy={drafting.pk}").status_code == 200


def test_costs_page(signed_in, world):
    consented, drafting = world
    response = signed_in("secretariat").get("/dashboard/costs/")
    assert response.status_code == 200
    assert response.context["data"]["totals"]["cost_initial_yen"] == 200_000_000
    assert "200,000,000円" in response.content.decode()
    response = signed_in("chijikai").get("/dashboard/costs/")
    assert [r["policy"]["id"] for r in response.context["data"]["results"]] == sorted([consented.pk, drafting.pk])
    # Study costs are details for council members: local officials do not have the page.
    for username in ("sapporo", "hokkaido"):
        client = signed_in(username)
        assert client.get("/dashboard/costs/").status_code == 404
        assert client.get("/dashboard/export/costs.csv").status_code == 404
        assert "費用負担の内訳を見る" not in client.get("/").content.decode()


def _csv(response) -> list[list[str]]:
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_exports_hold_what_the_page_shows(signed_in, world):
    consented, _ = world
    client = signed_in("secretariat")
    response = client.get("/dashboard/export/summary.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["段階", "状態", "件数"]
    assert ["共通化推進方針", "同意済み", "1"] in rows
    assert ["同意手続", "同意", "1"] in rows

    rows = _csv(client.get(f"/dashboard/export/adoption-prefectures.csv?policy={consented.pk}"))
    assert rows[0][:3] == ["団体コード", "都道府県", "予定なし"]
    assert rows[1][:2] == ["010006", "北海道"] and rows[1][-2:] == ["180", "0.6"]
    assert rows[-1][1] == "全国" and rows[-1][-2] == "1788"
    assert len(rows) == 1 + 47 + 1

    rows = _csv(client.get(f"/dashboard/export/adoption-municipalities.csv?policy={consented.pk}&prefecture=010006"))
    assert len(rows) == 1 + 180
    assert ["011002", "札幌市", "利用中", ""] in rows

    rows = _csv(client.get(f"/dashboard/export/adoption-trend.csv?policy={consented.pk}"))
    assert rows[-1][0] == queries.adoption_trend(consented.pk)[-1]["month"]

    rows = _csv(client.get("/dashboard/export/adoption-policies.csv"))
    assert len(rows) == 1 + 2

    rows = _csv(client.get("/dashboard/export/costs.csv"))
    assert rows[-1][1] == "合計" and rows[-1][5] == "200000000"

    response = client.get("/dashboard/export/costs.xlsx")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][1] == "方針" and values[-1][1] == "合計" and values[-1][5] == 200_000_000


def test_exports_refuse_unknown_tables_and_invisible_policies(signed_in, world):
    _, drafting = world
    client = signed_in("sapporo")
    assert client.get("/dashboard/export/passwords.csv").status_code == 404
    assert client.get("/dashboard/export/summary.pdf").status_code == 404
    assert client.get(f"/dashboard/export/adoption-prefectures.csv?policy={drafting.pk}").status_code == 404
    assert client.get(f"/dashboard/export/adoption-municipalities.csv?policy={drafting.pk}").status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_dashboard_reads_in_constant_queries(signed_in, world, consented_policy, user):
    consented, _ = world
    client = signed_in("sapporo")
    urls = ["/", f"/dashboard/prefectures/010006/?policy={consented.pk}"]
    before = [_queries(client, url) for url in urls]
    for ministry in ("mhlw", "cfa"):
        more = consented_policy(ministry)
        progress_actions.set_schedule(more, user("secretariat"), frequency="quarterly", due_days_after_period=30)
    aggregates.rebuild_all()
    assert [_queries(client, url) for url in urls] == before
