"""council.api.filters.FilterBackend: a list read without filters is the list django-filter's
own backend gives, without building the FilterSet; everything else goes through it."""

import django_filters
import pytest
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from council.api.filters import FilterBackend, unfiltered
from council.audit.filters import AuditEventFilter
from progress.api import ProgressReportFilter
from progress.models import ProgressReport
from tenants.models import Organization

pytestmark = pytest.mark.django_db


def request(query: str = "") -> Request:
    return Request(APIRequestFactory().get("/api/v1/x/" + query))


@pytest.mark.parametrize("query", ["", "?page=2", "?page_size=10&format=json"])
def test_no_filter_named_leaves_the_queryset_as_it_is(query):
    assert unfiltered(request(query), ProgressReportFilter)


@pytest.mark.parametrize("query", ["?status=due", "?ordering=due_date", "?status=", "?unknown=1", "?page=1&policy=x"])
def test_any_other_parameter_goes_through_django_filter(query):
    assert not unfiltered(request(query), ProgressReportFilter)


def test_filtersets_of_their_own_making_always_go_through_django_filter():
    # The audit list orders newest first in its own `qs`, whatever the filters.
    assert not unfiltered(request(), AuditEventFilter)

    class Required(django_filters.FilterSet):
        kind = django_filters.CharFilter(required=True)

        class Meta:
            model = Organization
            fields = ["kind"]

    class Shaped(django_filters.FilterSet):
        class Meta:
            model = Organization
            fields = ["kind"]

        def __init__(self, data=None, queryset=None, **kwargs):
            super().__init__(data, queryset.filter(kind="ministry"), **kwargs)

    assert not unfiltered(request(), Required)
    assert not unfiltered(request(), Shaped)


def test_the_skipped_filterset_would_have_given_the_same_rows(user):
    class View:
        filterset_class = ProgressReportFilter

    queryset = ProgressReport.objects.all().with_overdue()
    ours = FilterBackend().filter_queryset(request(), queryset, View())
    theirs = DjangoFilterBackend().filter_queryset(request(), queryset, View())
    assert ours is queryset
    assert str(ours.query) == str(theirs.query)


def test_lists_read_with_and_without_filters_through_the_api(api):
    client = api("secretariat")
    everything = client.get("/api/v1/organizations/?page_size=500").json()
    ministries = client.get("/api/v1/organizations/?kind=ministry&page_size=500").json()
    assert everything["count"] == Organization.objects.count()
    assert ministries["count"] == Organization.objects.filter(kind="ministry").count() < everything["count"]
    assert client.get("/api/v1/organizations/?kind=nonsense").status_code == 400
