"""The REST dashboards' body cache: a second identical request is answered from the cache
without reading the figures, and a rebuild of the figures (a stamp bump) is seen at once."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from council.dashboards import aggregates
from progress import actions as progress_actions
from progress.models import Adoption, AdoptionStatus

BASE = "/api/v1/dashboards/"
PATHS = ["summary/", "adoption/?policy={pk}", "adoption/?group_by=policy", "adoption-trend/?policy={pk}", "costs/"]


@pytest.fixture
def cached(settings, consented_policy):
    settings.DASHBOARD_CACHE_SECONDS = 600
    cache.clear()
    policy = consented_policy("soumu")
    progress_actions.ensure_adoption_rows(policy)
    aggregates.rebuild_all()
    yield policy
    cache.clear()


def figure_reads(queries) -> int:
    return sum("dashboards_" in q["sql"] and "dashboards_stamp" not in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("path", PATHS)
def test_the_second_request_is_served_from_the_cache(api, cached, path):
    client = api("secretariat")
    url = BASE + path.format(pk=cached.pk)
    with CaptureQueriesContext(connection) as first:
        one = client.get(url)
    with CaptureQueriesContext(connection) as second:
        two = client.get(url)
    assert one.status_code == two.status_code == 200
    assert one.json() == two.json()
    assert figure_reads(first) >= 1
    assert figure_reads(second) == 0


def test_a_rebuild_of_the_figures_is_seen_at_once(api, cached):
    client = api("secretariat")
    url = f"{BASE}adoption/?policy={cached.pk}"
    before = client.get(url).json()
    row = Adoption.objects.get(policy=cached, organization__code="011002")
    progress_actions.change_adoption(row, get_user_model().objects.get(username="sapporo"), status=AdoptionStatus.IN_USE)
    assert client.get(url).json() == before  # no rebuild yet (it runs after the commit)
    aggregates.rebuild_adoption([cached.pk])
    after = client.get(url).json()
    assert after["national"]["counts"]["in_use"] == before["national"]["counts"]["in_use"] + 1


def test_each_viewer_gets_their_own_body(api, cached):
    """A body depends on who reads it (the policies they may see): never shared across users."""
    secretariat = api("secretariat").get(f"{BASE}adoption/?group_by=policy").json()
    sapporo = api("sapporo").get(f"{BASE}adoption/?group_by=policy").json()
    assert api("sapporo").get(f"{BASE}adoption/?group_by=policy").json() == sapporo
    assert api("secretariat").get(f"{BASE}adoption/?group_by=policy").json() == secretariat
    assert api("chijikai").get(f"{BASE}costs/").status_code == 200
    assert api("sapporo").get(f"{BASE}costs/").status_code == 404


def test_json_is_kept_rendered_and_the_browsable_api_still_renders(api, cached):
    client = api("secretariat")
    url = f"{BASE}summary/"
    first, second = client.get(url), client.get(url)
    assert first.content == second.content
    assert first["Content-Type"] == "application/json"
    assert first["ETag"] == second["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    browsable = client.get(url, HTTP_ACCEPT="text/html")
    assert browsable.status_code == 200 and browsable["Content-Type"].startswith("text/html")
    indented = client.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert indented.json() == first.json() and indented.content != first.content
