"""The candidates' score totals: kept exact by database triggers through every way assessments
change, and the scores the lists show from them (with_scores()) are the scores of the
assessments themselves, as computed from the assessments directly."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.db.models import Avg, Count, F, FloatField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from candidates import scores
from candidates.models import CRITERIA, Assessment, Candidate, CandidateScore, CriteriaWeights
from council.national_data import Plan, generate

pytestmark = pytest.mark.django_db


def added_up() -> dict:
    """Each assessed candidate's (count, sum of each criterion), from the assessments."""
    totals: dict = {}
    for candidate_id, *values in Assessment.objects.values_list("candidate_id", *CRITERIA):
        n, *sums = totals.get(candidate_id, (0, 0, 0, 0))
        totals[candidate_id] = (n + 1, *(a + b for a, b in zip(sums, values)))
    return totals


def kept() -> dict:
    return {
        s.candidate_id: (s.assessors, s.user_need, s.expected_effect, s.feasibility)
        for s in CandidateScore.objects.all()
        if s.assessors
    }


@pytest.fixture
def assessed():
    generate(Plan.for_scale(1, seed=17, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))
    assert Assessment.objects.count() > 20
    return Assessment.objects.order_by("pk")


def test_the_totals_follow_every_way_assessments_change(assessed, user):
    assert kept() == added_up() and kept()

    one = assessed.first()
    one.user_need = 6 - one.user_need
    one.save()
    assert kept() == added_up()

    # A save that changes no score and no candidate leaves the totals alone.
    before = kept()
    one.rationale = "理由を補足"
    one.save()
    assert kept() == before

    # A queryset update and raw SQL send no signal: the triggers still see them.
    Assessment.objects.filter(pk__in=list(assessed.values_list("pk", flat=True)[:4])).update(feasibility=F("feasibility") % 5 + 1)
    assert kept() == added_up()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE candidates_assessment SET expected_effect = 1 WHERE id = %s", [assessed.last().pk])
    assert kept() == added_up()

    # An assessment moved to another candidate leaves one total and joins the other.
    other = Candidate.objects.exclude(pk=one.candidate_id).exclude(assessments__assessor=one.assessor).first()
    Assessment.objects.filter(pk=one.pk).update(candidate=other)
    assert kept() == added_up()

    # A candidate whose assessments are all deleted has no scores; its next one counts alone.
    fresh = Candidate.objects.exclude(pk=other.pk).exclude(pk=one.candidate_id).filter(assessments__isnull=False).first()
    fresh.assessments.all().delete()
    assert kept() == added_up() and fresh.pk not in kept()
    assert Candidate.objects.with_scores().get(pk=fresh.pk).weighted_total is None
    copy = Assessment.objects.get(pk=one.pk)
    copy.pk, copy.candidate = None, fresh
    copy.save()
    assert kept() == added_up() and kept()[fresh.pk][0] == 1

    # Deleting the last assessment brings the count to 0: the candidate has no scores again.
    Assessment.objects.filter(pk=copy.pk).delete()
    assert kept() == added_up()
    assert Candidate.objects.with_scores().get(pk=fresh.pk).assessor_count == 0
    assert Candidate.objects.with_scores().get(pk=fresh.pk).weighted_total is None


def test_a_rebuild_gives_what_the_triggers_kept(assessed):
    before = kept()
    CandidateScore.objects.all().delete()
    scores.rebuild()
    assert kept() == before == added_up()


def test_deleting_a_candidate_takes_its_totals_with_it(assessed):
    candidate = Candidate.objects.filter(assessments__isnull=False, policy__isnull=True, study__isnull=True).first()
    assert CandidateScore.objects.filter(candidate=candidate).exists()
    candidate.delete()
    assert not CandidateScore.objects.filter(candidate_id=candidate.pk).exists()
    assert kept() == added_up()


def from_the_assessments(queryset):
    """The scores as with_scores() computed them before the totals: a correlated subquery per
    criterion over the candidate's own assessments."""
    weights = CriteriaWeights.current()
    own = Assessment.objects.filter(candidate=OuterRef("pk")).order_by().values("candidate")
    annotations = {"ref_count": Coalesce(Subquery(own.annotate(n=Count("pk")).values("n")), Value(0))}
    for criterion in CRITERIA:
        annotations[f"ref_{criterion}"] = Subquery(own.annotate(m=Avg(criterion)).values("m"), output_field=FloatField())
    rows = {}
    for candidate in queryset.annotate(**annotations):
        means = [getattr(candidate, f"ref_{c}") for c in CRITERIA]
        if candidate.ref_count:
            total = sum(m * float(w) for m, w in zip(means, weights.as_dict().values())) / float(sum(weights.as_dict().values()))
        else:
            total = None
        rows[candidate.pk] = (candidate.ref_count, means, total)
    return rows


def test_the_scores_shown_are_the_assessments_scores(assessed):
    CriteriaWeights.objects.create(user_need=3, expected_effect=2, feasibility=1)  # uneven weights
    expected = from_the_assessments(Candidate.objects.all())
    shown = {
        c.pk: (c.assessor_count, [getattr(c, f"{k}_mean") for k in CRITERIA], c.weighted_total)
        for c in Candidate.objects.with_scores()
    }
    assert shown.keys() == expected.keys()
    for pk, (count, means, total) in expected.items():
        got_count, got_means, got_total = shown[pk]
        assert got_count == count
        assert got_means == pytest.approx(means, abs=1e-12) if count else got_means == [None, None, None]
        assert got_total == (pytest.approx(total, abs=1e-12) if total is not None else None)


def test_the_list_orders_and_filters_by_the_weighted_total(assessed, api):
    client = api("secretariat")
    body = client.get("/api/v1/candidates/?ordering=-weighted_total&page_size=500").json()
    totals = [row["weighted_total"] for row in body["results"]]
    scored = [t for t in totals if t is not None]
    assert scored == sorted(scored, reverse=True) and len(scored) > 5
    expected = from_the_assessments(Candidate.objects.all())
    at_least_3 = sorted(pk for pk, (_n, _m, total) in expected.items() if total is not None and total >= 3)
    listed = client.get("/api/v1/candidates/?score_min=3&page_size=500").json()
    assert sorted(row["id"] for row in listed["results"]) == at_least_3
    assert listed["count"] == len(at_least_3)


@pytest.mark.parametrize("weights", [None, (3, 2, 1), ("0.7", "1.3", "2.9"), (0, 0, 5)], ids=["equal", "uneven", "decimal", "one"])
def test_scores_computed_in_python_are_the_sql_annotations_exactly(assessed, weights):
    from candidates.models import put_scores

    if weights is not None:
        CriteriaWeights.objects.create(**dict(zip(CRITERIA, weights)))
    # A candidate whose assessments were all deleted keeps a row at zero.
    emptied = Assessment.objects.order_by("pk").first().candidate
    emptied.assessments.all().delete()
    assert CandidateScore.objects.get(candidate=emptied).assessors == 0
    names = ["assessor_count", *(f"{c}_mean" for c in CRITERIA), "weighted_total"]
    annotated = {c.pk: [getattr(c, name) for name in names] for c in Candidate.objects.with_scores()}
    page = list(Candidate.objects.with_score_totals())
    put_scores(page, CriteriaWeights.current())
    computed = {c.pk: [getattr(c, name) for name in names] for c in page}
    assert computed == annotated  # equal floats, not approximately
    assert any(values[0] == 0 for values in computed.values())  # never assessed, or emptied
    assert any(values[-1] is not None for values in computed.values())
    assert computed[emptied.pk] == [0, None, None, None, None]


def test_the_list_shows_the_same_scores_whichever_way_they_are_computed(assessed, api):
    CriteriaWeights.objects.create(user_need=3, expected_effect=2, feasibility=1)
    client = api("secretariat")
    plain = client.get("/api/v1/candidates/?page_size=500").json()["results"]
    # Ordering by the weighted total needs it in the SQL: the annotations give the scores.
    ordered = client.get("/api/v1/candidates/?page_size=500&ordering=-weighted_total").json()["results"]
    assert {row["id"]: row for row in plain} == {row["id"]: row for row in ordered}
    assert len(plain) == Candidate.objects.count()


def test_a_list_page_with_only_columns_adds_the_score_totals(assessed):
    queryset = Candidate.objects.only("id", "title").with_score_totals()
    names, deferring = queryset.query.deferred_loading
    assert not deferring and {"score_totals__assessors", "title"} <= set(names)
    candidate = queryset.filter(score_totals__isnull=False).first()
    with CaptureQueriesContext(connection) as captured:
        assert candidate.score_totals.assessors >= 0 and candidate.title
    assert len(captured) == 0
