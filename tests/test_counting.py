"""council.counting: a list's count leaves out the annotations that only add columns, and is
the count Django gives (same number, same SQL) whatever the queryset."""

from datetime import date

import pytest
from django.db import connection
from django.db.models import Count, F, OuterRef, Subquery
from django.test.utils import CaptureQueriesContext

from candidates.models import Assessment, Candidate, FeasibilityStudy
from council.counting import count_rows, strippable
from council.national_data import Plan, generate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data(db):
    """Candidates with assessments in every state, studies, some of them accepted."""
    generate(Plan.for_scale(1, seed=11, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))


def counted_both_ways(queryset):
    """(Django's count, count_rows's count, each one's SQL)."""
    with CaptureQueriesContext(connection) as django_way:
        expected = queryset.count()
    with CaptureQueriesContext(connection) as ours:
        got = count_rows(queryset)
    return expected, got, [q["sql"] for q in django_way.captured_queries], [q["sql"] for q in ours.captured_queries]


def test_display_annotations_are_left_out_and_the_count_is_djangos(user):
    sapporo = user("sapporo")
    for queryset in (
        Candidate.objects.all().with_scores(),
        Candidate.objects.filter(status="proposed").with_scores(),
        FeasibilityStudy.objects.visible_to(sapporo).with_overdue().with_details_visible(sapporo),
    ):
        assert strippable(queryset)
        assert queryset.exists()
        expected, got, django_sql, our_sql = counted_both_ways(queryset)
        assert got == expected
        assert our_sql == django_sql  # Django drops them from the SELECT too; only the work differs


def test_the_stripped_count_does_not_touch_the_querysets_own_rows():
    queryset = Candidate.objects.all().with_scores()
    count_rows(queryset)
    assert "weighted_total" in queryset.query.annotations
    assert all(hasattr(candidate, "weighted_total") for candidate in queryset[:3])


@pytest.mark.parametrize(
    "make",
    [
        # A filter on an annotation: it decides which rows there are.
        lambda: Candidate.objects.all().with_scores().filter(weighted_total__gte=3),
        lambda: FeasibilityStudy.objects.all().with_overdue().filter(is_overdue=False),
        # An aggregate groups the rows; DISTINCT and slices are counted over what they select.
        lambda: Candidate.objects.annotate(n=Count("assessments")),
        lambda: Candidate.objects.all().with_scores().distinct(),
        lambda: Candidate.objects.all().with_scores()[:2],
    ],
)
def test_annotations_that_decide_the_rows_are_kept(make):
    queryset = make()
    assert not strippable(queryset)
    expected, got, django_sql, our_sql = counted_both_ways(queryset)
    assert got == expected
    assert our_sql == django_sql


def test_a_subquery_naming_an_annotation_is_counted_as_django_counts_it():
    # The outer annotation is named inside a subquery (OuterRef), where the tree walk does not
    # look: without it the stripped query cannot compile, so it is counted with it.
    queryset = Candidate.objects.annotate(doubled=F("pk") * 2).filter(
        pk__in=Subquery(Assessment.objects.filter(candidate_id=OuterRef("doubled")).values("candidate_id"))
    )
    expected, got, _, _ = counted_both_ways(queryset)
    assert got == expected


def test_a_list_page_counts_without_its_display_annotations(api):
    client = api("secretariat")
    body = client.get("/api/v1/candidates/").json()
    assert body["count"] == Candidate.objects.count() > 0
    assert client.get("/api/v1/candidates/?status=proposed").json()["count"] == Candidate.objects.filter(
        status="proposed"
    ).count()
