"""The references rendered straight from the instance (council.api.serializers.PlainRefSerializer)
give exactly what DRF's own field-by-field rendering gives, for real objects of each kind."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework import serializers

from candidates.api import BusinessAreaRefSerializer, CandidateRefSerializer
from candidates.models import BusinessArea
from council.api.serializers import PlainRefSerializer, UserRefSerializer
from policies.api import VersionRefSerializer
from progress import actions as progress_actions
from progress.api import PolicyRefSerializer, ReportRefSerializer
from progress.models import ProgressReport
from tenants.api import OrganizationRefSerializer
from tenants.models import Organization

pytestmark = pytest.mark.django_db


def drf_rendering(serializer_class, instance) -> dict:
    return serializers.ModelSerializer.to_representation(serializer_class(), instance)


@pytest.fixture
def instances(consented_policy):
    policy = consented_policy("soumu")
    secretariat = get_user_model().objects.get(username="secretariat")
    progress_actions.set_schedule(policy, secretariat, frequency="quarterly", due_days_after_period=30)
    return {
        OrganizationRefSerializer: list(Organization.objects.filter(code__in=["digital", "soumu", "010006", "011002"])),
        UserRefSerializer: list(get_user_model().objects.filter(username__in=["secretariat", "sapporo"])),
        CandidateRefSerializer: [policy.candidate],
        BusinessAreaRefSerializer: list(BusinessArea.objects.all()[:3]),
        VersionRefSerializer: list(policy.versions.all()),
        PolicyRefSerializer: [policy],
        ReportRefSerializer: list(ProgressReport.objects.filter(policy=policy)[:2]),
    }


def test_every_plain_reference_is_covered(instances):
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    assert set(subclasses(PlainRefSerializer)) == set(instances)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_each_renders_as_drf_would(instances, language):
    from django.utils import translation

    with translation.override(language):
        for serializer_class, objects in instances.items():
            assert objects, serializer_class
            for obj in objects:
                assert serializer_class().to_representation(obj) == drf_rendering(serializer_class, obj), serializer_class
