"""Deep pages read by their ids first (council.api.pagination.Paginator.page): the same page.

Past DEFERRED_FROM skipped rows, a list's page is `pk IN (its ordered ids, sliced)` instead of
OFFSET over whole rows. Here the threshold is lowered to 0 so every page of every list is read
that way, and each page of every list endpoint (found from council.api.urls, as the query-count
test finds them), for the secretariat and a municipal official, is compared with the page read
the plain way: the same JSON, with as many queries.
"""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from bench.endpoints import discover
from council.api import pagination
from council.national_data import Plan, generate
from policies.models import Policy
from tests.api_helpers import get_json, token_client

pytestmark = pytest.mark.django_db

NEVER = 10**12


def read(client: APIClient, path: str, deferred_from: int, monkeypatch):
    monkeypatch.setattr(pagination, "DEFERRED_FROM", deferred_from)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, HTTP_CACHE_CONTROL="no-cache")
    return response.status_code, response.content, len(captured), [q["sql"] for q in captured]


def test_every_lists_pages_read_by_their_ids_are_the_pages_read_by_offset(user, monkeypatch):
    generate(Plan.for_scale(1, seed=5, as_of=date(2026, 11, 28), policies=3, changes_per_adoption=1))
    compared = 0
    for username in ("secretariat", "sapporo"):
        client = token_client(user(username))
        endpoints, _skipped = discover(lambda path, c=client: get_json(c, path))
        for endpoint in endpoints:
            if endpoint.kind != "list" or endpoint.empty:
                continue
            for page in (2, 3):
                path = f"{endpoint.path}{'&' if '?' in endpoint.path else '?'}page_size=2&page={page}"
                plain = read(client, path, NEVER, monkeypatch)
                deferred = read(client, path, 0, monkeypatch)
                assert deferred[:3] == plain[:3], (username, path)
                if plain[0] == 200:
                    compared += 1
    # Most lists have at least two pages of two here: the comparison is not vacuous.
    assert compared >= 40


def test_only_a_deep_page_is_read_by_its_ids(user, monkeypatch):
    generate(Plan.for_scale(1, seed=5, as_of=date(2026, 11, 28), policies=1, changes_per_adoption=1))
    client = token_client(user("secretariat"))
    policy = Policy.objects.filter(adoptions__isnull=False).first()
    monkeypatch.setattr(pagination, "DEFERRED_FROM", 100)
    pages = {}
    for page in (2, 3):  # 50 and 100 rows skipped
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/v1/adoption/?policy={policy.pk}&page={page}", HTTP_CACHE_CONTROL="no-cache")
        assert response.status_code == 200
        [page_query] = [q["sql"] for q in captured if q["sql"].startswith('SELECT "progress_adoption"."id"')]
        pages[page] = page_query
    assert "OFFSET 50" in pages[2] and "IN (SELECT" not in pages[2]
    assert "IN (SELECT" in pages[3] and "OFFSET 100" in pages[3]


def test_what_cannot_be_read_by_its_ids():
    from candidates.models import Candidate

    ordered = Candidate.objects.order_by("pk")
    assert pagination.deferrable(ordered)
    assert not pagination.deferrable(Candidate.objects.order_by())
    assert not pagination.deferrable(ordered.distinct())
    assert not pagination.deferrable(ordered.union(ordered))
    assert not pagination.deferrable(ordered[:10])
    assert not pagination.deferrable(list(ordered))
