"""`?ordering=` on the API's lists (council.api.filters.StableOrderingFilter).

Ties are broken by id in the direction of the field asked for, so `-x` is exactly the reverse
of `x`, page after page. A column that cannot be null is ordered without a NULLS clause, and
the adoption list — 1,788 rows per policy, all policies at once — has an index for each of its
orders: on PostgreSQL, with sorting switched off for the planner, the page's query still has
no sort step (a query no index serves keeps its Sort: the planner only makes it dearer).
"""

import json
from datetime import date

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from council.api.filters import StableOrderingFilter
from council.national_data import Plan, generate
from policies.models import Policy
from progress.models import Adoption
from tenants.models import Membership, Role
from tests.api_helpers import token_client

pytestmark = pytest.mark.django_db

ORDERINGS = ("code", "status", "updated_at")


def listed(client, query: str) -> list[tuple]:
    """Every row of the adoption list in the order given, page by page."""
    rows, page = [], 1
    while True:
        response = client.get(f"/api/v1/adoption/?{query}&page_size=500&page={page}", HTTP_CACHE_CONTROL="no-cache")
        assert response.status_code == 200, response.content
        body = response.json()
        rows += [(row["id"], row["organization"]["code"], row["status"], row["updated_at"]) for row in body["results"]]
        if not body["next"]:
            return rows
        page += 1


@pytest.fixture
def national():
    generate(Plan.for_scale(1, seed=5, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))


def ministry_officer(user):
    """An officer of a ministry owning one of the generated policies."""
    ministry_id = Policy.objects.filter(adoptions__isnull=False).values_list("ministry_id", flat=True).first()
    seat = Membership.objects.filter(organization_id=ministry_id, role=Role.MINISTRY_OFFICER).select_related("user").first()
    return seat.user


@pytest.mark.parametrize("name", ORDERINGS)
def test_descending_is_exactly_the_reverse_of_ascending(user, national, name):
    client = token_client(user("secretariat"))
    ascending = listed(client, f"ordering={name}")
    descending = listed(client, f"ordering=-{name}")
    assert len(ascending) == Adoption.objects.count() > 3000
    assert descending == ascending[::-1]
    # Many rows share each value (six statuses over some 3,500 rows): the ties are in id order.
    column = {"code": 1, "status": 2, "updated_at": 3}[name]
    assert ascending == sorted(ascending, key=lambda row: (row[column], row[0]))


def test_a_column_that_cannot_be_null_has_no_nulls_clause_and_one_that_can_keeps_it():
    ordering = StableOrderingFilter(fields=[("organization_code", "code"), "target_fiscal_year"])
    assert ordering.get_ordering_value("-code", Adoption) == F("organization_code").desc()
    assert ordering.get_ordering_value("code", Adoption) == F("organization_code").asc()
    assert ordering.get_ordering_value("-target_fiscal_year", Adoption) == F("target_fiscal_year").desc(nulls_last=True)
    # Not a column of the model (an annotation, a related field): nulls last, as before.
    assert ordering.get_ordering_value("-weighted_total", Adoption) == F("weighted_total").desc(nulls_last=True)


def test_rows_without_a_value_come_last_either_way(national):
    Adoption.objects.filter(pk__in=Adoption.objects.filter(status="planned").values("pk")[:5]).update(target_fiscal_year=None, status="considering")
    ordering = StableOrderingFilter(fields=["target_fiscal_year"])
    for param in ("target_fiscal_year", "-target_fiscal_year"):
        years = list(ordering.filter(Adoption.objects.all(), [param]).values_list("target_fiscal_year", flat=True))
        assert years[0] is not None and years[-1] is None, param
        assert years.index(None) == len(years) - years.count(None), param


def page_query(client, query: str) -> str:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/adoption/?{query}", HTTP_CACHE_CONTROL="no-cache")
    assert response.status_code == 200, response.content
    pages = [q["sql"] for q in captured if 'FROM "progress_adoption"' in q["sql"] and "LIMIT" in q["sql"]]
    assert len(pages) == 1, pages
    return pages[0]


def plan_nodes(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            (plan,) = cursor.fetchone()
        finally:
            cursor.execute("SET LOCAL enable_sort = on")
    plan = plan if isinstance(plan, list) else json.loads(plan)
    nodes, stack = [], [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node["Node Type"])
        stack += node.get("Plans", [])
    return nodes


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
@pytest.mark.parametrize("direction", ["", "-"])
@pytest.mark.parametrize("name", ORDERINGS)
def test_every_order_of_the_whole_list_is_read_from_an_index(user, national, name, direction):
    readers = {"secretariat": user("secretariat"), "sapporo": user("sapporo")}
    readers["ministry"] = ministry_officer(user)
    status = Adoption.objects.values_list("status", flat=True).first()
    for who, reader in readers.items():
        client = token_client(reader)
        for query in (f"ordering={direction}{name}", f"ordering={direction}{name}&status={status}"):
            nodes = plan_nodes(page_query(client, query))
            assert not [node for node in nodes if "Sort" in node], (who, query, nodes)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_the_plan_check_sees_a_sort_no_index_serves(user, national):
    # The check above can fail: an order no index serves (the year, nullable, nulls last)
    # keeps its sort step even with sorting switched off.
    queryset = StableOrderingFilter(fields=["target_fiscal_year"]).filter(Adoption.objects.all(), ["-target_fiscal_year"])
    sql, params = queryset[:50].query.sql_with_params()
    assert "Sort" in plan_nodes(connection.ops.compose_sql(sql, params))
