import pytest

from tenants.models import Organization

pytestmark = pytest.mark.django_db


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.mark.parametrize("username", ["secretariat", "soumu", "chijikai", "sapporo"])
def test_every_role_reads_the_organizations(api, username):
    body = api(username).get("/api/v1/organizations/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == Organization.objects.count()
    assert body["count"] >= 1741 + 47 + 3 + 3 + 15
    assert len(body["results"]) == 50


@pytest.mark.parametrize("kind, count", [("prefecture", 47), ("municipality", 1741), ("association", 3), ("secretariat", 3)])
def test_it_filters_by_kind(api, kind, count):
    body = api("sapporo").get(f"/api/v1/organizations/?kind={kind}").json()
    assert body["count"] == count
    assert {row["kind"] for row in body["results"]} == {kind}


def test_it_filters_by_prefecture(api):
    body = api("sapporo").get("/api/v1/organizations/?prefecture=470007&page_size=500").json()
    assert body["count"] == 41  # Okinawa's 11 cities, 11 towns and 19 villages
    assert all(row["parent"]["code"] == "470007" for row in body["results"])
    tokyo = api("sapporo").get("/api/v1/organizations/?prefecture=130001&kind=municipality").json()
    assert tokyo["count"] == 62


def test_a_row_has_the_contract_fields(api):
    row = results(api("soumu").get("/api/v1/organizations/?code=011002"))[0]
    assert row["code"] == "011002"
    assert row["kind"] == "municipality"
    assert row["name"] == "札幌市"
    assert row["name_en"] == "Sapporo City"
    assert row["parent"] == {"id": row["parent"]["id"], "code": "010006", "name": "北海道"}
    detail = api("soumu").get(f"/api/v1/organizations/{row['id']}/").json()
    assert detail == row


def test_an_unknown_kind_is_a_400_naming_the_field(api):
    response = api("soumu").get("/api/v1/organizations/?kind=city")
    assert response.status_code == 400
    assert "kind" in response.json()


def test_a_mistyped_prefecture_code_is_a_400_with_the_reason(api):
    response = api("soumu").get("/api/v1/organizations/?prefecture=010007")
    assert response.status_code == 400
    assert "検査数字" in response.json()["prefecture"][0]


def test_a_missing_organization_is_404(api):
    assert api("soumu").get("/api/v1/organizations/99999999/").status_code == 404


def test_the_list_reads_in_constant_queries(api, django_assert_max_num_queries):
    client = api("sapporo")
    with django_assert_max_num_queries(4):  # token user, count, page (parent joined)
        client.get("/api/v1/organizations/?page_size=500")


def test_business_areas_are_the_twenty_with_their_ministries(api):
    body = api("chosonkai").get("/api/v1/business-areas/").json()
    assert body["count"] == 20
    first = body["results"][0]
    assert first["name"] == "住民基本台帳"
    assert first["owning_ministry"]["name"] == "総務省"
    assert {"id", "name", "owning_ministry"} <= set(first)


def test_business_areas_filter_by_owning_ministry(api, org):
    body = api("cfa").get(f"/api/v1/business-areas/?owning_ministry={org('cfa').pk}").json()
    assert [row["name"] for row in body["results"]] == ["児童手当", "児童扶養手当", "子ども・子育て支援"]
