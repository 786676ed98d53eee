"""REST dashboards: who may read what, bad queries, ETag / Last-Modified, fixed query counts."""


import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from council.dashboards import aggregates
from progress import actions as progress_actions
from progress.models import Adoption, AdoptionStatus

ROLES = ("secretariat", "soumu", "mhlw", "cfa", "chijikai", "shichokai", "chosonkai", "hokkaido", "sapporo")
BASE = "/api/v1/dashboards/"


@pytest.fixture
def world(db, consented_policy, submitted_policy):
    consented = consented_policy("soumu")
    drafting = submitted_policy("mhlw")  # submitted, never put to consent
    secretariat = get_user_model().objects.get(username="secretariat")
    progress_actions.set_schedule(consented, secretariat, frequency="quarterly", due_days_after_period=30)
    aggregates.rebuild_all()
    return consented, drafting


@pytest.mark.parametrize("path", ["summary/", "adoption/?policy=1", "adoption-trend/?policy=1", "costs/"])
def test_anonymous_gets_401(api, db, path):
    assert api().get(BASE + path).status_code == 401


def test_every_signed_in_user_reads_the_summary_and_published_adoption(api, world):
    consented, _ = world
    for username in ROLES:
        client = api(username)
        response = client.get(BASE + "summary/")
        assert response.status_code == 200, username
        body = response.json()
        assert body["policies"]["by_status"]["consented"] == 1
        assert body["consent_outcomes"]["consented"] == 1
        assert set(body) >= {"updated_at", "filters", "candidates", "feasibility_studies", "progress_reports", "measure_requests"}
        body = client.get(BASE + f"adoption/?policy={consented.pk}&group_by=prefecture").json()
        assert body["group_by"] == "prefecture", username
        assert len(body["results"]) == 47
        assert body["national"]["total"] == 1788


def test_figures_of_a_policy_follow_its_visibility(api, world):
    """A submitted draft is visible to its ministry, the secretariat and council members
    (DOMAIN.md), not to local officials: they get 404, as for the policy itself."""
    _, drafting = world
    expected = {"secretariat": 200, "mhlw": 200, "soumu": 200, "chijikai": 200, "hokkaido": 404, "sapporo": 404}
    for username, status in expected.items():
        client = api(username)
        assert client.get(f"/api/v1/policies/{drafting.pk}/").status_code == status, username
        assert client.get(BASE + f"adoption/?policy={drafting.pk}").status_code == status, username
        assert client.get(BASE + f"adoption-trend/?policy={drafting.pk}").status_code == status, username
        assert client.get(BASE + f"summary/?policy={drafting.pk}").status_code == status, username
        costs = client.get(BASE + "costs/")
        if username in ("hokkaido", "sapporo"):
            assert costs.status_code == 404  # study costs are details for council members
        else:
            assert drafting.pk in [r["policy"]["id"] for r in costs.json()["results"]], username
        listed = client.get(BASE + "adoption/?group_by=policy").json()["results"]
        assert (drafting.pk in [r["policy"]["id"] for r in listed]) == (status == 200), username


BAD_QUERIES = [
    ("adoption/", "policy"),
    ("adoption/?policy=x", "policy"),
    ("adoption/?policy=1&group_by=city", "group_by"),
    ("adoption/?policy=1&group_by=municipality", "prefecture"),
    ("adoption/?policy=1&group_by=municipality&prefecture=01", "prefecture"),
    ("summary/?fiscal_year=26", "fiscal_year"),
    ("summary/?ministry=999999", "ministry"),
    ("costs/?fiscal_year=abc", "fiscal_year"),
    ("adoption-trend/", "policy"),
]


def test_bad_queries_get_400_with_the_field(api, db):
    client = api("secretariat")
    for query, field in BAD_QUERIES:
        response = client.get(BASE + query)
        assert response.status_code == 400, query
        assert field in response.json(), query


def test_a_ministry_filter_must_name_a_ministry(api, db, org):
    response = api("secretariat").get(BASE + f"summary/?ministry={org('011002').pk}")
    assert response.status_code == 400 and "ministry" in response.json()


def test_unknown_prefecture_is_404(api, world):
    consented, _ = world
    response = api("sapporo").get(BASE + f"adoption/?policy={consented.pk}&group_by=municipality&prefecture=999999")
    assert response.status_code == 404


def test_municipalities_of_hokkaido(api, world):
    consented, _ = world
    body = api("sapporo").get(BASE + f"adoption/?policy={consented.pk}&group_by=municipality&prefecture=010006").json()
    assert body["prefecture"]["name"] == "北海道"
    assert len(body["results"]) == 180
    sapporo = next(r for r in body["results"] if r["code"] == "011002")
    assert sapporo["name"] == "札幌市" and sapporo["status"] == "not_planned"


def test_trend_and_costs(api, world):
    consented, _ = world
    trend = api("sapporo").get(BASE + f"adoption-trend/?policy={consented.pk}").json()
    assert trend["policy"]["id"] == consented.pk
    assert trend["results"][-1]["total"] == 1788
    assert api("sapporo").get(BASE + "costs/").status_code == 404
    costs = api("chijikai").get(BASE + f"costs/?policy={consented.pk}").json()
    assert [r["policy"]["id"] for r in costs["results"]] == [consented.pk]
    assert costs["totals"]["cost_initial_yen"] == 100_000_000


# --- Conditional requests -----------------------------------------------------------------------


def test_etag_gives_304_until_the_figures_change(api, world, django_capture_on_commit_callbacks):
    consented, _ = world
    client = api("sapporo")
    url = BASE + f"adoption/?policy={consented.pk}"
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and first["Last-Modified"]
    assert first["Cache-Control"] == "private, no-cache"
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    # Another query, another language or another viewer is another representation.
    assert client.get(url + "&group_by=prefecture", HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    assert api("hokkaido").get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200

    adoption = Adoption.objects.get(policy=consented, organization__code="011002")
    sapporo = get_user_model().objects.get(username="sapporo")
    with django_capture_on_commit_callbacks(execute=True):
        progress_actions.change_adoption(adoption, sapporo, status=AdoptionStatus.IN_USE)
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["national"]["counts"]["in_use"] == 1


def test_summary_etag_changes_with_the_summary(api, world, django_capture_on_commit_callbacks):
    from candidates import actions as candidate_actions

    consented, _ = world
    client = api("secretariat")
    etag = client.get(BASE + "summary/")["ETag"]
    assert client.get(BASE + "summary/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        candidate_actions.propose_candidate(
            get_user_model().objects.get(username="secretariat"), title="候補", description="概要",
            owning_ministry=consented.ministry,
        )
    response = client.get(BASE + "summary/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["candidates"]["by_status"]["proposed"] == 1


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_the_data(api, world, consented_policy):
    consented, _ = world
    client = api("sapporo")
    urls = [
        BASE + "summary/",
        BASE + f"adoption/?policy={consented.pk}",
        BASE + f"adoption-trend/?policy={consented.pk}",
        BASE + "adoption/?group_by=policy",
    ]
    before = [_queries(client, url) for url in urls]
    secretariat = get_user_model().objects.get(username="secretariat")
    for ministry in ("mhlw", "cfa"):
        more = consented_policy(ministry)
        progress_actions.set_schedule(more, secretariat, frequency="quarterly", due_days_after_period=30)
    aggregates.rebuild_all()
    assert [_queries(client, url) for url in urls] == before


def test_schema_documents_the_dashboards(api, db):
    schema = api("secretariat").get("/api/schema/?format=json").json()
    for path in ("summary/", "adoption/", "adoption-trend/", "costs/"):
        assert f"/api/v1/dashboards/{path}" in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/v1/dashboards/adoption/"]["get"]["parameters"]}
    assert {"policy", "group_by", "prefecture"} <= params


def test_costs_come_in_pages_with_totals_over_all_of_them(api, world):
    client = api("secretariat")
    everything = client.get(BASE + "costs/?page_size=500").json()
    rows = everything["results"]
    assert everything["count"] == len(rows) >= 2  # the consented policy and the submitted draft
    assert everything["next"] is None and everything["previous"] is None
    for key in ("cost_initial_yen", "cost_annual_yen", "staff_hours_full", "staff_hours_current"):
        assert everything["totals"][key] == sum(row[key] for row in rows), key
    for phase in ("initial_split", "annual_split"):
        for payer, total in everything["totals"][phase].items():
            assert total == sum(row[phase][payer] for row in rows), (phase, payer)

    walked, url = [], BASE + "costs/?page_size=1"
    while url:
        page = client.get(url).json()
        assert page["totals"] == everything["totals"] and page["count"] == len(rows)
        assert len(page["results"]) == 1
        walked += page["results"]
        url = page["next"]
    assert walked == rows
    last = client.get(BASE + f"costs/?page_size=1&page={len(rows)}").json()
    assert last["next"] is None
    assert client.get(last["previous"]).json()["results"] == [rows[-2]]
    assert client.get(BASE + f"costs/?page_size=1&page={len(rows) + 1}").status_code == 404
    for query, field in (("page=0", "page"), ("page=x", "page"), ("page_size=501", "page_size"), ("page_size=0", "page_size")):
        response = client.get(BASE + f"costs/?{query}")
        assert response.status_code == 400 and field in response.json(), query


def test_the_costs_of_no_policy_total_zero(api, db):
    body = api("secretariat").get(BASE + "costs/").json()
    assert body["count"] == 0 and body["results"] == []
    assert body["totals"]["cost_initial_yen"] == 0
    assert set(body["totals"]["initial_split"].values()) == {0}
