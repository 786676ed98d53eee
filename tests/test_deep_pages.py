"""Deep pages read by their ids first (council.api.pagination.Paginator.page): the same page.

Past DEFERRED_FROM skipped rows, a list's page is `pk IN (its ordered ids, sliced)` instead of
OFFSET over whole rows. Here the threshold is lowered to 0 so every page of every list is read
that way, and each page of every list endpoint (found from council.api.urls, as the query-count
test finds them), for the secretariat and a municipal official, is compared with the page read
the plain way: the same JSON, with as many queries.

The adoption list's deep pages start at their policy, from the rows per policy in the adoption
tally (Paginator.seek): each of its pages, with each filter the tally counts, is compared with
the page read by OFFSET.
"""

from datetime import date

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from bench.endpoints import discover
from council.api import pagination
from council.national_data import Plan, generate
from policies.models import Policy
from progress.models import Adoption
from tests.api_helpers import get_json, token_client

pytestmark = pytest.mark.django_db

NEVER = 10**12
SEEK = pagination.Paginator.seek


def no_seek(self, rows, low, high):
    """Paginator.seek switched off: a deep page read by its ids alone."""
    return None

IDS_QUERY = 'SELECT "progress_adoption"."id" AS "pk"'


def read(client: APIClient, path: str, deferred_from: int, monkeypatch, seek: bool = False):
    monkeypatch.setattr(pagination, "DEFERRED_FROM", deferred_from)
    monkeypatch.setattr(pagination.Paginator, "seek", SEEK if seek else no_seek)
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
    monkeypatch.setattr(pagination.Paginator, "seek", no_seek)
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


def offset_of(sql: str) -> int:
    return int(sql.rsplit("OFFSET", 1)[1]) if "OFFSET" in sql else 0


@pytest.mark.parametrize("username", ["secretariat", "sapporo"])
def test_a_deep_adoption_page_starts_at_its_policy_and_is_the_page_offset_gives(user, monkeypatch, username):
    generate(Plan.for_scale(1, seed=5, as_of=date(2026, 11, 28), policies=3, changes_per_adoption=1))
    client = token_client(user(username))
    policy = Policy.objects.filter(adoptions__isnull=False).order_by("pk")[1]
    per_policy = policy.adoptions.count()  # 1,788: every local government
    commonest, rarer = Adoption.objects.values_list("status", flat=True).annotate(n=Count("pk")).order_by("-n")[:2]
    lists = {
        # Pages that cross from one policy to the next, with each filter the tally counts.
        "": 500,
        f"status={commonest}&": 200,
        "prefecture=010006&": 50,  # 北海道 and its municipalities
        f"policy={policy.pk}&": 500,
        f"policy={policy.pk}&status={rarer}&": 20,
    }
    compared = 0
    for query, size in lists.items():
        count = client.get(f"/api/v1/adoption/?{query}page_size={size}", HTTP_CACHE_CONTROL="no-cache").json()["count"]
        assert count > size, query  # more than one page
        for page in range(1, -(-count // size) + 1):
            path = f"/api/v1/adoption/?{query}page_size={size}&page={page}"
            plain = read(client, path, NEVER, monkeypatch)
            sought = read(client, path, 0, monkeypatch, seek=True)
            assert plain[0] == 200 and sought[:2] == plain[:2], path
            [ids] = [sql for sql in sought[3] if sql.startswith(IDS_QUERY)]
            assert '"progress_adoption"."policy_id" >= ' in ids, path
            # Only rows of the page's first policy are skipped, never the policies before it.
            assert offset_of(ids) < per_policy, path
            compared += 1
    assert compared > 40
    # Past the last page: 404, as by OFFSET.
    for deferred_from, seek in ((NEVER, False), (0, True)):
        assert read(client, f"/api/v1/adoption/?page_size=500&page={-(-3 * per_policy // 500) + 1}", deferred_from,
                    monkeypatch, seek)[0] == 404


def test_an_adoption_list_in_another_order_is_not_sought(user, monkeypatch):
    generate(Plan.for_scale(1, seed=5, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))
    client = token_client(user("secretariat"))
    path = "/api/v1/adoption/?ordering=code&page_size=500&page=4"
    plain = read(client, path, NEVER, monkeypatch)
    deferred = read(client, path, 0, monkeypatch, seek=True)
    assert plain[0] == 200 and deferred[:2] == plain[:2]
    [page] = [sql for sql in deferred[3] if sql.startswith('SELECT "progress_adoption"."id",')]
    # Read by its ids in one query, as any other list's deep page, from the start of the list.
    assert 'IN (SELECT U0."id"' in page and ">=" not in page and "OFFSET 1500)" in page


@pytest.mark.django_db(transaction=True)
def test_a_sought_page_reads_its_sizes_ids_and_rows_in_one_repeatable_read_transaction(user, monkeypatch):
    generate(Plan.for_scale(1, seed=5, as_of=date(2026, 11, 28), policies=1, changes_per_adoption=1))
    client = token_client(user("secretariat"))
    statements = []

    def watch(execute, sql, params, many, context):
        statements.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    path = "/api/v1/adoption/?page_size=500&page=3"
    plain = read(client, path, NEVER, monkeypatch)
    with connection.execute_wrapper(watch):
        sought = read(client, path, 0, monkeypatch, seek=True)
    assert sought[:2] == plain[:2]
    inside = [sql for sql, atomic in statements if atomic]
    if connection.vendor == "postgresql":
        assert inside[0] == "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        inside = inside[1:]
    assert [sql.split(" FROM ")[0] for sql in inside] == [
        'SELECT "progress_adoptiontally"."policy_id" AS "policy_id", SUM("progress_adoptiontally"."n") AS "rows"',
        IDS_QUERY,
        'SELECT "progress_adoption"."id", "progress_adoption"."policy_id", "progress_adoption"."organization_id", '
        '"progress_adoption"."status", "progress_adoption"."target_fiscal_year", "progress_adoption"."updated_at", '
        '"policies_policy"."id", "policies_policy"."title", "tenants_organization"."id", "tenants_organization"."code", '
        '"tenants_organization"."name"',
    ]
    assert not connection.in_atomic_block
