"""council.prefetch: a relation read as a list, prefetched for a page in one query without a
queryset per row, or read on first use where nothing prefetched it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from candidates.models import BusinessArea, Candidate
from council.prefetch import prefetch_list
from policies.models import Ballot, ConsentRound
from tests.api_policy_helpers import accepted_candidate, two_voted_rounds

pytestmark = pytest.mark.django_db


@pytest.fixture
def rounds():
    return two_voted_rounds()


def test_a_page_reads_each_relation_in_one_query(rounds):
    ballots = Ballot.objects.select_related("organization").order_by("organization__code")
    with CaptureQueriesContext(connection) as captured:
        page = list(ConsentRound.objects.order_by("pk").prefetch_related(prefetch_list("ballots", ballots)))
        listed = {round_.pk: [(b.organization.code, b.choice) for b in round_.ballots_list] for round_ in page}
    assert len(captured) == 2  # the rounds, then every round's ballots
    first, second = rounds
    assert listed == {
        first.pk: sorted((b.organization.code, b.choice) for b in first.ballots.select_related("organization")),
        second.pk: [(b.organization.code, b.choice) for b in second.ballots.select_related("organization")],
    }
    assert len(listed[first.pk]) == 2 and len(listed[second.pk]) == 1
    # What was prefetched is a list, kept on the row: reading it again asks nothing.
    with CaptureQueriesContext(connection) as again:
        assert all(isinstance(round_.ballots_list, list) for round_ in page)
    assert len(again) == 0


def test_without_a_prefetch_the_list_is_read_on_first_use(rounds):
    first, _second = rounds
    round_ = ConsentRound.objects.get(pk=first.pk)
    with CaptureQueriesContext(connection) as captured:
        voters = round_.voters_list
        assert round_.voters_list is voters  # read once
    assert len(captured) == 1
    assert sorted(voter.organization_id for voter in voters) == sorted(first.voters.values_list("organization", flat=True))
    assert len(voters) == 3


def test_many_to_many_relations_are_listed_too():
    candidate = accepted_candidate()
    areas = [
        BusinessArea.objects.create(code=f"area-{n}", name=f"業務{n}", owning_ministry=candidate.owning_ministry)
        for n in range(2)
    ]
    candidate.business_areas.set(areas)
    expected = sorted(area.pk for area in areas)
    fetched = Candidate.objects.prefetch_related(prefetch_list("business_areas")).get(pk=candidate.pk)
    assert "business_areas_list" in fetched.__dict__
    assert sorted(area.pk for area in fetched.business_areas_list) == expected


def test_fill_lists_reads_each_relation_and_each_shared_object_once(rounds):
    from council.prefetch import RENDERED, fill_lists
    from council.prepared import Prepared
    from policies.models import ConsentVoter
    from tenants.api import OrganizationRefSerializer
    from tenants.models import Organization

    page = list(ConsentRound.objects.order_by("pk"))
    with CaptureQueriesContext(connection) as captured:
        fill_lists(
            page,
            {"ballots": Prepared(Ballot.objects.all, "round_id"), "voters": Prepared(ConsentVoter.objects.all, "round_id")},
            shared={"organization": Prepared(Organization.objects.all, "id")},
            ordering={"ballots": lambda b: b.organization.code, "voters": lambda v: v.organization.code},
        )
        listed = {
            round_.pk: (
                [(b.organization.code, b.choice) for b in round_.ballots_list],
                [v.organization.code for v in round_.voters_list],
                {b.round is round_ for b in round_.ballots_list},
            )
            for round_ in page
        }
    assert len(captured) == 3  # the ballots, the voters, their organizations
    for round_ in page:
        assert listed[round_.pk] == (
            [(b.organization.code, b.choice) for b in round_.ballots.select_related("organization").order_by("organization__code")],
            [v.organization.code for v in round_.voters.select_related("organization").order_by("organization__code")],
            {True} if round_.ballots.exists() else set(),
        )
    # One instance per organization, whichever row points at it, rendered once.
    shared = {}
    for round_ in page:
        for row in [*round_.ballots_list, *round_.voters_list]:
            assert shared.setdefault(row.organization_id, row.organization) is row.organization
    organization = next(iter(shared.values()))
    first = OrganizationRefSerializer().to_representation(organization)
    assert OrganizationRefSerializer().to_representation(organization) is first
    assert first == {"id": organization.pk, "code": organization.code, "name": organization.name}
    assert RENDERED in organization.__dict__


def test_fill_lists_on_an_empty_page_asks_nothing():
    from council.prefetch import fill_lists, fill_many_to_many
    from council.prepared import Prepared

    with CaptureQueriesContext(connection) as captured:
        fill_lists([], {"ballots": Prepared(Ballot.objects.all, "round_id")}, shared={"organization": Prepared(Ballot.objects.none, "id")})
        fill_many_to_many([], "business_areas", Prepared(Ballot.objects.none, "id"))
    assert len(captured) == 0


def test_fill_many_to_many_gives_what_django_prefetches_one_instance_per_object():
    from django.db.models import F

    from council.prefetch import RENDERED, fill_many_to_many
    from council.prepared import Prepared

    first, second, bare = accepted_candidate(), accepted_candidate(), accepted_candidate()
    areas = [
        BusinessArea.objects.create(code=f"area-{n}", name=f"業務{n}", owning_ministry=first.owning_ministry, sort_order=10 - n)
        for n in range(3)
    ]
    first.business_areas.set(areas)
    second.business_areas.set(areas[1:])
    read = Prepared(lambda: BusinessArea.objects.annotate(owner_id=F("candidates__id")), "owner_id")
    page = list(Candidate.objects.filter(pk__in=[first.pk, second.pk, bare.pk]).order_by("pk"))
    with CaptureQueriesContext(connection) as captured:
        fill_many_to_many(page, "business_areas", read)
    assert len(captured) == 1
    django = {c.pk: c for c in Candidate.objects.filter(pk__in=[c.pk for c in page]).prefetch_related("business_areas")}
    for candidate in page:
        assert [a.pk for a in candidate.business_areas_list] == [a.pk for a in django[candidate.pk].business_areas.all()]
    assert [a.pk for a in page[0].business_areas_list] == [a.pk for a in reversed(areas)]  # BusinessArea's ordering
    assert page[2].business_areas_list == []
    # An area two candidates share is one instance, marked to be rendered once.
    assert page[0].business_areas_list[0] is page[1].business_areas_list[0]
    assert RENDERED in page[0].business_areas_list[0].__dict__
    assert "owner_id" not in page[0].business_areas_list[0].__dict__  # whose it was is not kept


def test_a_list_page_drops_only_the_prefetches_it_fills():
    from django.db.models import Prefetch

    from council.api.viewsets import _without_prefetches
    from council.prefetch import prefetch_list

    queryset = Candidate.objects.prefetch_related(prefetch_list("business_areas"), "assessments", Prefetch("assessments__evidence"))
    kept = _without_prefetches(queryset, {"business_areas"})._prefetch_related_lookups
    assert [getattr(lookup, "prefetch_through", lookup) for lookup in kept] == ["assessments", "assessments__evidence"]
    assert _without_prefetches(queryset, {"attachments"}) is queryset
