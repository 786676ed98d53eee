"""The report tally: kept exact by database triggers through every way progress reports change,
and the report list's count taken from it equals the count of the reports it lists, for every
kind of reader."""

from collections import Counter
from datetime import date

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from council.national_data import Plan, generate
from progress import report_tally
from progress.models import ProgressReport, ReportStatus, ReportTally
from tests.api_helpers import count_and_every_result, get_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/progress-reports/"


def counted() -> Counter:
    rows = ProgressReport.objects.values_list("policy_id", "status").annotate(n=Count("pk")).order_by()
    return Counter({(policy, status): n for policy, status, n in rows})


def tallied() -> Counter:
    return Counter({(t.policy_id, t.status): t.n for t in ReportTally.objects.all() if t.n})


@pytest.fixture
def reports():
    generate(Plan.for_scale(1, seed=11, as_of=date(2026, 11, 28), policies=3, changes_per_adoption=1))
    assert ProgressReport.objects.count() > 40
    return ProgressReport.objects.order_by("pk")


def test_the_tally_follows_every_way_reports_change(reports):
    assert tallied() == counted() and len({status for _, status in tallied()}) >= 3

    report = reports.filter(status=ReportStatus.SUBMITTED).first()
    report.status = ReportStatus.ACCEPTED
    report.save()
    assert tallied() == counted()

    # A save that moves neither the policy nor the status leaves the counts alone.
    before = {(t.policy_id, t.status): t.n for t in ReportTally.objects.all()}
    report.summary = "更新"
    report.save()
    assert {(t.policy_id, t.status): t.n for t in ReportTally.objects.all()} == before

    # A queryset update and raw SQL send no signal: the triggers still see them.
    ProgressReport.objects.filter(pk__in=list(reports.filter(status=ReportStatus.DUE).values_list("pk", flat=True)[:3])).update(
        status=ReportStatus.RETURNED
    )
    assert tallied() == counted()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE progress_progressreport SET status = %s WHERE id = %s", [ReportStatus.DUE, reports.last().pk])
    assert tallied() == counted()

    other_policy = reports.exclude(policy_id=report.policy_id).first().policy_id
    ProgressReport.objects.filter(pk=report.pk).update(policy_id=other_policy)
    assert tallied() == counted()

    copy = ProgressReport.objects.get(pk=report.pk)
    copy.pk = None
    copy.period = 99
    copy.save()
    assert tallied() == counted()
    ProgressReport.objects.filter(pk=copy.pk).delete()
    assert tallied() == counted()


def test_a_rebuild_gives_what_the_triggers_kept(reports):
    before = tallied()
    ReportTally.objects.all().delete()
    report_tally.rebuild()
    assert tallied() == before == counted()


QUERIES = [
    "", "?status=accepted", "?status=due", "?policy={policy}", "?policy={policy}&status=accepted",
    "?ordering=-due_date&page=2&page_size=10", "?fiscal_year=2025", "?overdue=true",  # counted over the rows
    "?status=nonsense", "?page=99999",
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("username", ["secretariat", "soumu", "chijikai", "sapporo"])
def test_the_list_count_is_the_count_of_the_reports_it_lists(api, reports, username, query):
    policy = reports.filter(status=ReportStatus.ACCEPTED).first().policy_id
    client = api(username)
    query = query.format(policy=policy)
    response = client.get(URL + query)
    if "nonsense" in query:
        assert response.status_code == 400
        return
    if "99999" in query:
        assert response.status_code == 404
        return
    count, params, listed = count_and_every_result(response, client, URL, query)
    expected = ProgressReport.objects.visible_to(get_user(username)).with_overdue().filter(
        **{key: value for key, value in params.items() if key in ("status", "policy", "fiscal_year")},
        **({"overdue": True} if "overdue" in params else {}),
    )
    assert count == len(listed) == expected.count()


@pytest.mark.parametrize("username", ["secretariat", "soumu", "sapporo"])
def test_the_count_reads_the_tally_not_the_reports(api, reports, username):
    client = api(username)
    client.get(URL)  # warm up (token, language)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL + "?status=accepted")
    assert response.status_code == 200 and response.json()["count"] > 0
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper() or "SUM(" in q["sql"].upper()]
    assert len(counts) == 1 and "progress_reporttally" in counts[0], counts
