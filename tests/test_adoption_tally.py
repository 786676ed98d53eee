"""The adoption tally: kept exact by database triggers through every way adoption rows change,
and the adoption list's count taken from it equals the count of the rows it lists."""

from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext

from progress import actions, tally
from progress.models import Adoption, AdoptionTally
from tests.api_helpers import count_and_every_result, get_user, upload
from tests.api_progress_helpers import all_municipalities_csv

pytestmark = pytest.mark.django_db
URL = "/api/v1/adoption/"


def counted_rows() -> Counter:
    rows = (
        Adoption.objects.annotate(prefecture=Coalesce("organization__parent_id", "organization_id"))
        .values_list("policy_id", "prefecture", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return Counter({(policy, prefecture, status): n for policy, prefecture, status, n in rows})


def tallied() -> Counter:
    """The prefecture rows of the tally; the national rows must be their sums."""
    rows = [t for t in AdoptionTally.objects.all() if t.n]
    by_prefecture = Counter({(t.policy_id, t.prefecture_id, t.status): t.n for t in rows if t.prefecture_id != tally.NATIONAL})
    national = Counter({(t.policy_id, t.status): t.n for t in rows if t.prefecture_id == tally.NATIONAL})
    summed = Counter()
    for (policy, _, status), n in by_prefecture.items():
        summed[(policy, status)] += n
    assert national == summed
    return by_prefecture


@pytest.fixture
def two_policies(consented_policy):
    policies = consented_policy("soumu"), consented_policy("mhlw")
    for policy in policies:
        actions.ensure_adoption_rows(policy)
    return policies


def test_the_tally_follows_every_way_rows_change(two_policies):
    first, second = two_policies
    assert sum(tallied().values()) == 2 * 1788
    assert tallied() == counted_rows()

    sapporo = Adoption.objects.get(policy=first, organization__code="011002")
    actions.change_adoption(sapporo, get_user("sapporo"), status="in_use")
    assert tallied() == counted_rows()

    csv = upload("adoption.csv", all_municipalities_csv().encode(), "text/csv")
    actions.import_adoption(second, get_user("mhlw"), csv)
    assert tallied()[(second.pk, sapporo.organization.parent_id, "planned")] > 0
    assert tallied() == counted_rows()

    # A queryset update sends no signal: the trigger still sees it.
    Adoption.objects.filter(policy=first, organization__parent__code="130001").update(status="considering")
    assert tallied() == counted_rows()

    Adoption.objects.filter(policy=second, organization__parent__code="010006").delete()
    assert tallied() == counted_rows()
    assert (second.pk, sapporo.organization.parent_id, "planned") not in tallied()


def test_a_rebuild_gives_what_the_triggers_kept(two_policies):
    before = tallied()
    AdoptionTally.objects.all().delete()
    tally.rebuild()
    assert tallied() == before == counted_rows()


QUERIES = [
    "", "?status=in_use", "?prefecture=010006", "?prefecture=010006&status=not_planned", "?ordering=-status&page=3",
    "?page_size=10&status=not_planned", "?prefecture=011002",  # a municipality's own code: counted over the rows
    "?organization={sapporo}", "?status=nonsense", "?page=99999",
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("username", ["secretariat", "sapporo", "chijikai"])
def test_the_list_count_is_the_count_of_the_rows_it_lists(api, two_policies, username, query):
    first, second = two_policies
    actions.change_adoption(
        Adoption.objects.get(policy=first, organization__code="011002"), get_user("sapporo"), status="in_use"
    )
    sapporo_row = Adoption.objects.get(policy=second, organization__code="011002")
    client = api(username)
    query = query.format(sapporo=sapporo_row.organization_id)
    response = client.get(URL + query)
    if "nonsense" in query:
        assert response.status_code == 400
        return
    if "99999" in query:
        assert response.status_code == 404
        return
    count, params, listed = count_and_every_result(response, client, URL, query)
    every = client.get(URL, {**params, "page_size": 500})
    assert count == len(listed) == every.json()["count"] > 0


def test_a_policy_filter_counts_from_the_tally_in_one_query(api, two_policies):
    first, _ = two_policies
    client = api("secretariat")
    client.get(URL)  # warm up (token, language)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{URL}?policy={first.pk}&status=not_planned")
    assert response.json()["count"] == 1788
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper() or "SUM(" in q["sql"].upper()]
    assert len(counts) == 1 and "progress_adoptiontally" in counts[0]
