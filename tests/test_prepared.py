"""council.prepared.Prepared: related rows read by id through SQL compiled once; the same
instances as Django's queryset builds, and Django's queryset itself wherever the SQL cannot
be kept."""

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

import council.prepared
from council.prepared import Prepared
from policies.models import Ballot, ConsentRound, ConsentVoter, PolicyVersion
from tests.api_policy_helpers import two_voted_rounds

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the compiled path is PostgreSQL's")


@pytest.fixture
def rounds():
    return two_voted_rounds()


def state(instance, related=()):
    """What an instance holds: its columns and annotations, and its related objects'."""
    data = {name: value for name, value in instance.__dict__.items() if name != "_state"}
    data["_db"], data["_adding"] = instance._state.db, instance._state.adding
    for name in related:
        data[name] = state(getattr(instance, name))
    return data


READS = {
    "ballots, their caster and organization": (
        lambda: Ballot.objects.select_related("cast_by", "organization").order_by("pk"),
        "round_id",
        ("cast_by", "organization"),
    ),
    "voters, some columns only": (
        lambda: ConsentVoter.objects.only("id", "round", "organization").order_by("-pk"),
        "round_id",
        (),
    ),
    "versions with JSON and an annotation": (
        lambda: PolicyVersion.objects.annotate(twice=F("number") * Value(2)).order_by("pk"),
        "policy_id",
        (),
    ),
}


@pytest.mark.parametrize("name", READS)
def test_the_rows_are_the_instances_django_builds(rounds, name):
    build, column, related = READS[name]
    read = Prepared(build, column)
    owners = sorted({getattr(row, column) for row in build()})
    assert owners
    for ids in (owners, owners[:1], [*owners, -1]):
        django = [state(row, related) for row in build().filter(**{f"{column}__in": ids})]
        for _ in range(2):  # compiled, then the compiled SQL again
            assert [state(row, related) for row in read.rows(ids)] == django
    assert read.rows([-1]) == []


def test_no_ids_ask_nothing():
    read = Prepared(Ballot.objects.all, "round_id")
    with CaptureQueriesContext(connection) as captured:
        assert read.rows([]) == []
    assert len(captured) == 0


@postgresql_only
def test_compiled_once_one_statement_for_any_number_of_ids(rounds, monkeypatch):
    compiled = []
    as_sql = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        compiled.append(self.query.model)
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    read = Prepared(lambda: Ballot.objects.order_by("pk"), "round_id")
    first, second = rounds
    with CaptureQueriesContext(connection) as captured:
        read.rows([first.pk])
        read.rows([first.pk, second.pk])
        read.rows([second.pk, first.pk, -5])
    assert len(compiled) == 2  # the two placeholder compilations, once
    assert len(captured) == 3
    sql = read._plans["default"].sql
    assert '"policies_ballot"."round_id" = ANY(%s::bigint[])' in sql
    for query in captured.captured_queries:  # as run: the ids written in
        assert query["sql"].startswith(sql.split("%s")[0])


@pytest.mark.parametrize(
    "build",
    [
        lambda: ConsentRound.objects.prefetch_related("ballots").order_by("pk"),
        lambda: Ballot.objects.values("id", "round_id").order_by("pk"),
        lambda: Ballot.objects.none(),
    ],
    ids=["prefetching", "values", "none"],
)
def test_what_cannot_be_kept_as_sql_is_read_by_django(rounds, build):
    column = "id" if build().model is ConsentRound else "round_id"
    read = Prepared(build, column)
    ids = [round_.pk for round_ in rounds] if column == "round_id" else [rounds[0].pk]
    got = read.rows(ids)
    if connection.vendor == "postgresql":
        assert read._plans["default"] is None
    assert got == list(build().filter(**{f"{column}__in": ids}))


def test_switched_off_it_is_djangos_queryset(rounds, monkeypatch):
    monkeypatch.setattr(council.prepared, "ENABLED", False)
    read = Prepared(lambda: Ballot.objects.order_by("pk"), "round_id")
    ids = [round_.pk for round_ in rounds]
    with CaptureQueriesContext(connection) as captured:
        rows = read.rows(ids)
    assert rows == list(Ballot.objects.filter(round_id__in=ids).order_by("pk"))
    assert " IN (" in captured.captured_queries[0]["sql"]
    assert read._plans == {}
