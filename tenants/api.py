import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from council.api.compiled import CompiledRepresentation
from council.api.serializers import PlainRefSerializer
from council.api.viewsets import VisibleReadOnlyViewSet
from tenants.codes import validate_local_government_code
from tenants.models import Organization, OrganizationKind


class OrganizationRefSerializer(PlainRefSerializer):
    """How other resources show an organization they point at."""

    class Meta:
        model = Organization
        fields = ["id", "code", "name"]


class OrganizationSerializer(CompiledRepresentation, serializers.ModelSerializer):
    parent = OrganizationRefSerializer(read_only=True, allow_null=True)  # none for a ministry or prefecture

    class Meta:
        model = Organization
        fields = ["id", "code", "kind", "name", "name_en", "name_kana", "parent"]


class OrganizationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrganizationKind.choices)
    prefecture = django_filters.CharFilter(
        field_name="parent__code",
        label=_("都道府県の団体コード（6桁）：その都道府県内の市区町村"),
        validators=[validate_local_government_code],
    )
    code = django_filters.CharFilter()
    q = django_filters.CharFilter(method="filter_text", label=_("名称・カナ・コードの部分一致"))

    class Meta:
        model = Organization
        fields = ["kind", "prefecture", "code", "q"]

    def filter_text(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(name_kana__icontains=value) | Q(code__startswith=value))


class OrganizationViewSet(VisibleReadOnlyViewSet):
    """Every organization: secretariat bodies, ministries, associations and local governments."""

    queryset = Organization.objects.select_related("parent")
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
