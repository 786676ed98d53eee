"""council.sql.Constant: a code's constant written into the SQL, so PostgreSQL keeps one plan
for a statement whose only varying part would otherwise be a status sent as a parameter."""

from datetime import date

import pytest

from candidates.models import Candidate, CandidateStatus
from council.national_data import Plan, generate
from council.sql import Constant
from progress.models import ProgressReport, ReportStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["accepted", "in_consent", 7, 0])
def test_codes_and_integers_are_written_as_literals(value):
    sql = str(Candidate.objects.filter(status=Constant(value)).query)
    literal = f"'{value}'" if isinstance(value, str) else str(value)
    assert f"= ({literal})" in sql or f"= {literal}" in sql


@pytest.mark.parametrize("value", ["it's", "Accepted", "a b", "", "%s", "x;--", True, None, 1.5, b"accepted"])
def test_anything_that_would_need_quoting_is_refused(value):
    with pytest.raises(ValueError):
        Constant(value)


def test_the_rows_are_those_the_parameter_selects():
    generate(Plan.for_scale(1, seed=13, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))
    for model, status in ((Candidate, CandidateStatus.SELECTED), (ProgressReport, ReportStatus.ACCEPTED)):
        expected = list(model.objects.filter(status=status).order_by("pk").values_list("pk", flat=True))
        assert expected
        got = list(model.objects.filter(status=Constant(status.value)).order_by("pk").values_list("pk", flat=True))
        assert got == expected


def test_a_municipal_officials_visibility_sends_no_status_parameter(user):
    sapporo = user("sapporo")
    for queryset, status in (
        (ProgressReport.objects.visible_to(sapporo), "accepted"),
        (Candidate.objects.visible_to(sapporo), "selected"),
    ):
        sql, params = queryset.query.sql_with_params()
        assert f"('{status}')" in sql
        assert status not in params
