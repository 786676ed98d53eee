import pytest
from django.contrib.contenttypes.models import ContentType

from tenants.access import access_for, grant, permitted, revoke, user_organizations
from tenants.models import Organization

pytestmark = pytest.mark.django_db


def test_access_knows_each_demo_users_seat(user, org):
    assert access_for(user("secretariat")).is_secretariat
    assert not access_for(user("soumu")).is_secretariat
    assert access_for(user("soumu")).ministry_ids == {org("soumu").pk}
    assert access_for(user("chijikai")).association_ids == {org("chijikai").pk}
    assert access_for(user("sapporo")).local_government_ids == {org("011002").pk}
    assert access_for(user("hokkaido")).local_government_ids == {org("010006").pk}
    assert access_for(user("sapporo")).ministry_ids == frozenset()


def test_access_is_loaded_once_per_user_object(user, django_assert_num_queries):
    sapporo = user("sapporo")
    with django_assert_num_queries(1):
        access_for(sapporo).local_government_ids
        access_for(sapporo).organization_ids()
        access_for(sapporo).is_secretariat


def test_anonymous_has_no_seats():
    from django.contrib.auth.models import AnonymousUser

    assert access_for(AnonymousUser()).organization_ids() == frozenset()


def test_user_organizations(user):
    assert [o.code for o in user_organizations(user("sapporo"))] == ["011002"]


def test_object_permissions_granted_to_an_organization_reach_its_members_only(user, org):
    target = org("012025")
    grant(org("011002"), "change_organization", target)
    everyone = Organization.objects.all()
    assert list(permitted(everyone, user("sapporo"), "change_organization")) == [target]
    assert user("sapporo").has_perm("tenants.change_organization", target)
    for other in ("hokkaido", "soumu", "secretariat"):
        assert not permitted(everyone, user(other), "change_organization").exists()
        assert not user(other).has_perm("tenants.change_organization", target)
    revoke(org("011002"), "change_organization", target)
    assert not permitted(everyone, user("sapporo"), "change_organization").exists()


def test_permitted_filters_in_one_query(user, org, django_assert_num_queries):
    grant(org("011002"), "view_organization", org("010006"))
    sapporo = user("sapporo")
    ContentType.objects.get_for_model(Organization)  # cached for the process after the first use
    with django_assert_num_queries(1):
        assert [o.code for o in permitted(Organization.objects.all(), sapporo, "view_organization")] == ["010006"]


def test_permissions_held_directly_by_a_user_count_too(user, org):
    from guardian.shortcuts import assign_perm

    target = org("012025")
    assign_perm("change_organization", user("hokkaido"), target)
    everyone = Organization.objects.all()
    assert list(permitted(everyone, user("hokkaido"), "change_organization")) == [target]
    assert not permitted(everyone, user("sapporo"), "change_organization").exists()
