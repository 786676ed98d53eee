import django_filters
from rest_framework import serializers

from candidates.models import BusinessArea
from council.api.viewsets import VisibleReadOnlyViewSet
from tenants.api import OrganizationRefSerializer


class BusinessAreaSerializer(serializers.ModelSerializer):
    owning_ministry = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = BusinessArea
        fields = ["id", "code", "name", "name_en", "owning_ministry", "sort_order"]


class BusinessAreaFilter(django_filters.FilterSet):
    owning_ministry = django_filters.NumberFilter(field_name="owning_ministry_id")

    class Meta:
        model = BusinessArea
        fields = ["owning_ministry"]


class BusinessAreaViewSet(VisibleReadOnlyViewSet):
    """The 20 standardized business areas (標準化対象20業務) and their owning ministries."""

    queryset = BusinessArea.objects.select_related("owning_ministry")
    serializer_class = BusinessAreaSerializer
    filterset_class = BusinessAreaFilter
