import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from tenants.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer():
    return get_user_model().objects.create_user("newcomer", password="x" * 16)


def group_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_joining_puts_the_user_in_the_organization_and_role_groups(newcomer, org):
    Membership(user=newcomer, organization=org("011002"), role="local_official").save()
    assert group_names(newcomer) == {"org:011002", "role:local_official"}


def test_a_role_that_does_not_fit_the_organization_is_refused(newcomer, org):
    with pytest.raises(ValidationError) as excinfo:
        Membership(user=newcomer, organization=org("011002"), role="secretariat_staff").save()
    assert excinfo.value.message_dict["role"] == ["市区町村の団体には役割「事務局職員」で所属できません。"]
    assert not Membership.objects.filter(user=newcomer).exists()
    assert group_names(newcomer) == set()


def test_a_membership_to_a_missing_organization_is_refused(newcomer):
    with pytest.raises(ValidationError) as excinfo:
        Membership(user=newcomer, organization_id=999_999, role="viewer").save()
    assert "organization" in excinfo.value.message_dict
    assert not Membership.objects.filter(user=newcomer).exists()


def test_an_unknown_role_is_refused(newcomer, org):
    with pytest.raises(ValidationError) as excinfo:
        Membership(user=newcomer, organization=org("011002"), role="mayor").save()
    assert "role" in excinfo.value.message_dict


def test_a_second_membership_in_the_same_organization_is_refused(user, org):
    with pytest.raises(ValidationError) as excinfo:
        Membership(user=user("sapporo"), organization=org("011002"), role="viewer").save()
    assert "この利用者は既にこの団体に所属しています。" in excinfo.value.messages


def test_leaving_removes_the_groups_unless_another_membership_needs_them(newcomer, org):
    a = Membership(user=newcomer, organization=org("011002"), role="local_official")
    a.save()
    b = Membership(user=newcomer, organization=org("012025"), role="local_official")
    b.save()
    a.delete()
    assert group_names(newcomer) == {"org:012025", "role:local_official"}
    Membership.objects.filter(pk=b.pk).delete()  # the bulk path, as the admin's action uses
    assert group_names(newcomer) == set()


def test_changing_the_organization_moves_the_user_between_groups(newcomer, org):
    membership = Membership(user=newcomer, organization=org("011002"), role="local_official")
    membership.save()
    membership.organization = org("010006")
    membership.save()
    assert group_names(newcomer) == {"org:010006", "role:local_official"}
